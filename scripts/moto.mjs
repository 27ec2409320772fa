// moto_server, the AWS API emulator, on a free loopback port for one run. Used by the AWS tier
// (`npm run test:aws`) and the deploy tier (`npm run test:deploy`). moto runs in-process in
// scripts/moto-server.py, which adds a control channel for fixtures no AWS API can make.
//
//
//   node scripts/moto.mjs <command> [args…]
//
// starts moto, runs the command with AWS_ENDPOINT_URL pointing at it (and fake credentials),
// stops moto, and exits with the command's code.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

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

/**
 * Starts moto_server; resolves once it answers. `script` names the server in scripts/ to run:
 * moto-server.py, or iac-moto-server.py (the same with the gaps the deployments hit bridged).
 */
export const startMoto = async ({ timeoutMs = 60_000, script = 'moto-server.py' } = {}) => {
  const probe = spawnSync('moto_server', ['--help'], { stdio: 'ignore' });
  if (probe.error) throw new Error(MOTO_INSTALL_HINT);

  const port = await freePort();
  const controlPort = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const controlEndpoint = `http://127.0.0.1:${controlPort}`;
  const server = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child = spawn('python3', [server, String(port), String(controlPort)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = once(child, 'exit');

  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        stderr.includes('No module named') ? MOTO_INSTALL_HINT : `moto exited at start:\n${stderr}`,
      );
    }
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
    /** Where fixture commands go (see scripts/moto-server.py and `motoControl`). */
    controlEndpoint,
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

/** Sends a fixture command to moto's control endpoint; rejects with moto's error. */
export const motoControl = async (controlEndpoint, command) => {
  const response = await fetch(controlEndpoint, { method: 'POST', body: JSON.stringify(command) });
  if (response.status !== 204) throw new Error(`moto control ${command.op}: ${await response.text()}`);
};

/** The environment that points the AWS SDK and CLI at moto. */
export const motoEnv = (endpoint, controlEndpoint) => ({
  ...(controlEndpoint && { MOTO_CONTROL_ENDPOINT: controlEndpoint }),
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
    env: { ...process.env, ...motoEnv(moto.endpoint, moto.controlEndpoint) },
  });
  const [code, signal] = await once(child, 'exit');
  await moto.stop();
  process.exit(code ?? (signal ? 1 : 0));
}
