// moto for the deploy tier: scripts/iac-moto-server.py (the project's moto server, scripts/moto-server.py,
// with the gaps the deployments hit bridged) on a free loopback port, and the aws CLI pointed at it
// (the v1 CLI ignores AWS_ENDPOINT_URL, so every call names the endpoint).

import { motoEnv, startMoto } from '../../../scripts/moto.mjs';
import { runOk } from './run.js';

export interface Emulator {
  endpoint: string;
  /** process.env with AWS pointed at moto: for terraform and the aws CLI. */
  env: NodeJS.ProcessEnv;
  region: string;
  /** `aws <args> --endpoint-url …` parsed as JSON (an empty answer is null). */
  aws<T = unknown>(...args: string[]): Promise<T>;
  stop(): Promise<void>;
}

export const startEmulator = async (): Promise<Emulator> => {
  const { endpoint, stop } = await startMoto({ script: 'iac-moto-server.py' });
  const env: NodeJS.ProcessEnv = { ...process.env, ...motoEnv(endpoint) };
  const region = env.AWS_REGION ?? 'eu-west-1';
  return {
    endpoint,
    env,
    region,
    aws: async <T>(...args: string[]) => {
      const stdout = await runOk('aws', [...args, '--endpoint-url', endpoint, '--output', 'json'], {
        env,
        timeoutMs: 60_000,
      });
      return (stdout.trim() ? JSON.parse(stdout) : null) as T;
    },
    stop,
  };
};

/** moto's fixed account. */
export const ACCOUNT_ID = '123456789012';
