// moto for the deploy tier: scripts/iac-moto-server.py (the project's moto server, scripts/moto-server.py,
// with the gaps the deployments hit bridged) on a free loopback port, and the aws CLI pointed at it
// (the v1 CLI ignores AWS_ENDPOINT_URL, so every call names the endpoint).

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, runOk } from './run.js';

export interface Emulator {
  endpoint: string;
  /** process.env with AWS pointed at moto: for terraform and the aws CLI. */
  env: NodeJS.ProcessEnv;
  region: string;
  /** `aws <args> --endpoint-url …` parsed as JSON (an empty answer is null). */
  aws<T = unknown>(...args: string[]): Promise<T>;
  stop(): Promise<void>;
}

interface MotoModule {
  MOTO_INSTALL_HINT: string;
  motoEnv(endpoint: string): Record<string, string>;
}

const motoModule = async (): Promise<MotoModule> =>
  (await import(pathToFileURL(join(REPO_ROOT, 'scripts/moto.mjs')).href)) as MotoModule;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** Starts scripts/iac-moto-server.py; resolves once it answers. */
const startServer = async (timeoutMs = 60_000): Promise<{ endpoint: string; child: ChildProcess }> => {
  const { MOTO_INSTALL_HINT } = await motoModule();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(
    'python3',
    [join(REPO_ROOT, 'scripts/iac-moto-server.py'), String(port), String(await freePort())],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        stderr.includes('No module named') ? MOTO_INSTALL_HINT : `moto exited at start:\n${stderr}`,
      );
    }
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) return { endpoint, child };
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`moto did not answer on ${endpoint} within ${timeoutMs} ms:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

export const startEmulator = async (): Promise<Emulator> => {
  const { motoEnv } = await motoModule();
  const { endpoint, child } = await startServer();
  const exited = once(child, 'exit');
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
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
};

/** moto's fixed account. */
export const ACCOUNT_ID = '123456789012';
