// The project's moto launcher (scripts/moto.mjs), typed for the tests, plus the aws CLI pointed
// at it (the v1 CLI ignores AWS_ENDPOINT_URL, so every call names the endpoint).

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, runOk } from './run.js';

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

interface MotoModule {
  startMoto(options?: { timeoutMs?: number }): Promise<Moto>;
  motoEnv(endpoint: string): Record<string, string>;
}

const motoModule = async (): Promise<MotoModule> =>
  (await import(pathToFileURL(join(REPO_ROOT, 'scripts/moto.mjs')).href)) as MotoModule;

export interface Emulator extends Moto {
  /** process.env with AWS pointed at moto: for terraform and the aws CLI. */
  env: NodeJS.ProcessEnv;
  region: string;
  /** `aws <args> --endpoint-url …` parsed as JSON (an empty answer is null). */
  aws<T = unknown>(...args: string[]): Promise<T>;
}

export const startEmulator = async (): Promise<Emulator> => {
  const { startMoto, motoEnv } = await motoModule();
  const moto = await startMoto();
  const env: NodeJS.ProcessEnv = { ...process.env, ...motoEnv(moto.endpoint) };
  const region = env.AWS_REGION ?? 'eu-west-1';
  return {
    ...moto,
    env,
    region,
    aws: async <T>(...args: string[]) => {
      const stdout = await runOk('aws', [...args, '--endpoint-url', moto.endpoint, '--output', 'json'], {
        env,
        timeoutMs: 60_000,
      });
      return (stdout.trim() ? JSON.parse(stdout) : null) as T;
    },
  };
};

/** moto's fixed account. */
export const ACCOUNT_ID = '123456789012';
