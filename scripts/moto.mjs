// moto_server, the AWS API emulator, on a free loopback port for one run. Used by the AWS tier
// (`npm run test:aws`) and the deploy tier (`npm run test:deploy`):
//
//   node scripts/moto.mjs <command> [args…]
//
// starts moto, runs the command with AWS_ENDPOINT_URL pointing at it (and fake credentials),
// stops moto, and exits with the command's code.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export const MOTO_INSTALL_HINT =
  'moto_server was not found on PATH. Install the AWS emulator with: pip install "moto[server]>=5"';

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Starts moto_server; resolves once it answers. */
export const startMoto = async ({ timeoutMs = 60_000 } = {}) => {
  const probe = spawnSync('moto_server', ['--help'], { stdio: 'ignore' });
  if (probe.error) throw new Error(MOTO_INSTALL_HINT);

  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = once(child, 'exit');

  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited at start:\n${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    endpoint,
    /** Forgets every resource: a clean account for the next test. */
    reset: async () => {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
};

/** The environment that points the AWS SDK and CLI at moto. */
export const motoEnv = (endpoint) => ({
  AWS_ENDPOINT_URL: endpoint,
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: 'testing',
  AWS_REGION: process.env.AWS_REGION || 'eu-west-1',
  AWS_DEFAULT_REGION: process.env.AWS_REGION || 'eu-west-1',
});

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error('usage: node scripts/moto.mjs <command> [args…]');
    process.exit(2);
  }
  let moto;
  try {
    moto = await startMoto();
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
  console.log(`moto_server listening on ${moto.endpoint}`);
  const child = spawn(command, args, {
    stdio: 'inherit',
    env: { ...process.env, ...motoEnv(moto.endpoint) },
  });
  const [code, signal] = await once(child, 'exit');
  await moto.stop();
  process.exit(code ?? (signal ? 1 : 0));
}
