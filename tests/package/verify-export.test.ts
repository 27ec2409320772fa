// `cognito-user-sync/verify`, as the User Service team takes it from the installed tarball
// (./installed-package.ts): imported (dist/verify.mjs) and required (dist/verify.cjs) through
// package.json "exports", on Node 20 and 22, with nothing but Node built-ins, and typed either way.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type InstalledPackage, installedPackage, REPO, run } from './installed-package.js';

// The Standard Webhooks reference vector (see tests/webhooks/signature.test.ts).
const VERIFY_THE_VECTOR = `
const result = verifyUserSyncRequest({
  headers: {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  },
  body: '{"test": 2432232314}',
  secrets: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  now: 1614265330000,
});
`;
const SCRIPTS = {
  import: {
    flag: '--input-type=module',
    code: `import { verifyUserSyncRequest } from 'cognito-user-sync/verify';
const file = import.meta.resolve('cognito-user-sync/verify');
${VERIFY_THE_VECTOR}
console.log(JSON.stringify({ node: process.version, file, result }));`,
  },
  require: {
    flag: '--input-type=commonjs',
    code: `const { verifyUserSyncRequest } = require('cognito-user-sync/verify');
const file = require.resolve('cognito-user-sync/verify');
${VERIFY_THE_VECTOR}
console.log(JSON.stringify({ node: process.version, file, result }));`,
  },
};

// A consumer of each kind, checked by tsc as a TypeScript user's project checks it (NodeNext):
// each must find the types of its own condition, and a wrong call must be an error.
const CONSUMER = (load: string) => `${load}

const result = verify.verifyUserSyncRequest({ headers: {}, body: new Uint8Array(), secrets: ['whsec_x'] });
const reason: verify.VerifyFailureReason | undefined = result.ok ? undefined : result.reason;
const tolerance: 300 = verify.DEFAULT_TOLERANCE_SECONDS;
// @ts-expect-error: secrets are required
verify.verifyUserSyncRequest({ headers: {}, body: '' });
export { reason, tolerance };
`;

describe('cognito-user-sync/verify, installed', () => {
  let installed: InstalledPackage;

  beforeAll(async () => {
    installed = await installedPackage();
  }, 600_000);

  it.each([
    ['dist/verify.mjs', /\bfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']/g],
    ['dist/verify.cjs', /\brequire\(\s*["']([^"']+)["']\s*\)|\bfrom\s*["']([^"']+)["']/g],
  ])('%s imports nothing but Node built-ins', async (file, pattern) => {
    const source = await readFile(join(installed.root, file), 'utf8');

    const specifiers = [...source.matchAll(pattern)].map((match) => match[1] ?? match[2]);

    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((specifier) => !specifier?.startsWith('node:'))).toEqual([]);
  });

  it.each([
    ['import', 'Node 20 (this machine)'],
    ['require', 'Node 20 (this machine)'],
    ['import', 'Node 22 (the Lambda runtime)'],
    ['require', 'Node 22 (the Lambda runtime)'],
  ] as const)('%s works and verifies the reference vector on %s', async (kind, on) => {
    const node = on.startsWith('Node 22') ? installed.node22 : 'node';
    const { flag, code } = SCRIPTS[kind];

    const { stdout } = await run(node, [flag, '-e', code], { cwd: installed.app });

    const { node: version, file, result } = JSON.parse(stdout);
    expect(version).toMatch(on.startsWith('Node 22') ? /^v22\./ : /^v\d+\./);
    expect(file).toMatch(
      kind === 'import'
        ? /\/cognito-user-sync\/dist\/verify\.mjs$/
        : /\/cognito-user-sync\/dist\/verify\.cjs$/,
    );
    expect(result).toEqual({ ok: true, id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: 1614265330 });
  });

  it('gives TypeScript the types of each condition: an ES module importing, a CommonJS one requiring', async () => {
    await writeFile(
      join(installed.app, 'consumer.mts'),
      CONSUMER("import * as verify from 'cognito-user-sync/verify';"),
    );
    await writeFile(
      join(installed.app, 'consumer.cts'),
      CONSUMER("import verify = require('cognito-user-sync/verify');"),
    );
    await writeFile(
      join(installed.app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(REPO, 'node_modules/@types')],
        },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    );

    const checked = await run(
      process.execPath,
      [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', installed.app, '--traceResolution'],
      {
        cwd: installed.app,
        maxBuffer: 64 * 1024 * 1024,
      },
    ).catch((error: { stdout: string }) => ({ stdout: error.stdout, failed: true }));

    expect(checked.stdout.split('\n').filter((line) => /error TS/.test(line))).toEqual([]);
    expect(checked.stdout).toMatch(
      /'cognito-user-sync\/verify' was successfully resolved to '[^']*\/dist\/types\/verify\.d\.ts'/,
    );
    expect(checked.stdout).toMatch(
      /'cognito-user-sync\/verify' was successfully resolved to '[^']*\/dist\/types\/verify\.d\.cts'/,
    );
  });
});
