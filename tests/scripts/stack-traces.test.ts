// src/stack-traces.ts, in a bundle built as the Lambda zips are and run without
// --enable-source-maps: a logged error's frames name the source file and line, and never its message.

import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { lambdaBuildOptions } from '../../scripts/package.mjs';
import { stackFramesOf } from '../../src/stack-traces.js';

const run = promisify(execFile);
const STACK_TRACES = new URL('../../src/stack-traces.ts', import.meta.url).pathname;

/** Bundles `source` (TypeScript) as the zips are bundled, runs it under Node, returns what it printed. */
const runBundled = async (source: string) => {
  const dir = await mkdtemp(join(tmpdir(), 'stack-traces-'));
  await writeFile(join(dir, 'throws.ts'), source);
  const outfile = join(dir, 'out/index.mjs');
  await build(lambdaBuildOptions(join(dir, 'throws.ts'), outfile));
  const { stdout } = await run(process.execPath, [outfile], { env: { PATH: process.env.PATH ?? '' } });
  return JSON.parse(stdout) as string[] | undefined;
};

describe('stackFramesOf', () => {
  it('maps a bundle’s frames to the source file and line, from the map beside it', async () => {
    const frames = await runBundled(`import { stackFramesOf } from ${JSON.stringify(STACK_TRACES)};
const fail = (): never => {
  throw new TypeError('cannot sync');
};
try {
  fail();
} catch (error) {
  console.log(JSON.stringify(stackFramesOf(error)));
}
`);

    expect(frames?.[0]).toMatch(/^at throws\.ts:3:9$/);
    expect(frames?.[1]).toMatch(/^at throws\.ts:6:3$/);
  });

  it('never includes the message, even one that spans lines and looks like frames', async () => {
    const frames = await runBundled(`import { stackFramesOf } from ${JSON.stringify(STACK_TRACES)};
try {
  throw new Error('no user ada.lovelace@example.com\\n    at leak (/home/ada.lovelace/secret.ts:1:1)');
} catch (error) {
  console.log(JSON.stringify(stackFramesOf(error)));
}
`);

    expect(frames?.length).toBeGreaterThan(0);
    expect(JSON.stringify(frames)).not.toMatch(/ada\.lovelace|secret\.ts/);
    expect(frames?.[0]).toMatch(/^at throws\.ts:3:9$/);
  });

  it('leaves frames with no map as they are, and has nothing for what is not an Error', () => {
    const frames = stackFramesOf(new Error('x'));

    expect(frames?.[0]).toMatch(/^at .*stack-traces\.test\.ts:\d+:\d+\)?$/);
    expect(stackFramesOf('a string')).toBeUndefined();
    expect(stackFramesOf({ stack: 'at x (y:1:1)' })).toBeUndefined();
  });
});
