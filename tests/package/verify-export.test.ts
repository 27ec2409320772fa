// `cognito-user-sync/verify`, as the User Service team imports it: the built dist/verify.mjs,
// resolved through package.json "exports", on Node 20 and 22, with nothing but Node built-ins.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// The Standard Webhooks reference vector (see tests/webhooks/signature.test.ts).
const SCRIPT = `
import { verifyUserSyncRequest } from 'cognito-user-sync/verify';
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
console.log(JSON.stringify({ node: process.version, result }));
`;

describe('cognito-user-sync/verify', () => {
  it('imports nothing but Node built-ins', () => {
    const source = readFileSync('dist/verify.mjs', 'utf8');
    const imports = [...source.matchAll(/\bfrom\s+["']([^"']+)["']/g)].map((match) => match[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every((specifier) => specifier?.startsWith('node:'))).toBe(true);
  });

  it.each([
    ['Node 20 (this machine)', 'node', ['--input-type=module', '-e', SCRIPT]],
    ['Node 22 (the Lambda runtime)', 'npx', ['-y', 'node@22', '--input-type=module', '-e', SCRIPT]],
  ])('verifies the reference vector on %s', async (_, command, args) => {
    const { stdout } = await run(command, args);

    const { node, result } = JSON.parse(stdout);
    expect(node).toMatch(command === 'node' ? /^v\d+\./ : /^v22\./);
    expect(result).toEqual({ ok: true, id: 'msg_p5jXN8AQM9LWM0D4loKWxJek', timestamp: 1614265330 });
  });
});
