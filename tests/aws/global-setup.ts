import type { TestProject } from 'vitest/node';
import { startMoto } from '../../scripts/moto.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    moto: { endpoint: string; controlEndpoint: string };
  }
}

/** Starts moto_server on a free loopback port for the whole AWS tier, and stops it after. */
export default async function setup(project: TestProject) {
  const moto = await startMoto();
  project.provide('moto', { endpoint: moto.endpoint, controlEndpoint: moto.controlEndpoint });
  return () => moto.stop();
}
