// tests/setup/aws-sdk-node-warning.ts, through vitest itself: the suite's configuration run on
// three test files that each make an AWS SDK client, in three workers. On Node 20 the SDK's
// NodeVersionSupportWarning shows once for the run, not once per worker; on Node 22 nothing
// changes (the SDK has nothing to say, and the setup sets nothing).

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

/** vitest on the fixtures under `node`, three workers; everything it wrote and the warnings in it. */
const vitestOnFixtures = async (node: string) => {
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _set, ...env } = process.env;
  const { stdout, stderr } = await run(
    node,
    [VITEST, 'run', '--config', 'tests/setup/fixtures/vitest.config.ts', '--maxWorkers', '3', '--no-color'],
    { cwd: REPO, env: { ...env, CI: 'true' }, maxBuffer: 16 * 1024 * 1024 },
  );
  const output = `${stdout}\n${stderr}`;
  return { output, warnings: output.match(/NodeVersionSupportWarning/g)?.length ?? 0 };
};

/** This Node when it is that major version, else one from npx (the other run of CI's two). */
const nodeOf = async (major: number) =>
  process.versions.node.startsWith(`${major}.`)
    ? process.execPath
    : (await run('npx', ['-y', `node@${major}`, '-e', 'process.stdout.write(process.execPath)'])).stdout;

describe('tests/setup/aws-sdk-node-warning.ts', () => {
  it('on Node 20, shows the AWS SDK version warning once for a run of several workers', async () => {
    const { output, warnings } = await vitestOnFixtures(await nodeOf(20));

    expect(output).toMatch(/Tests\s+3 passed/);
    expect(output).toContain('will require node >=22. You are running node v20');
    expect(warnings).toBe(1);
  });

  it('on Node 22, shows no warning and sets nothing', async () => {
    const { output, warnings } = await vitestOnFixtures(await nodeOf(22));

    expect(output).toMatch(/Tests\s+3 passed/);
    expect(warnings).toBe(0);
  });
});
