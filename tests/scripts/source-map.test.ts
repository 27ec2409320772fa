// The Lambda zips keep only the project's mappings in their source maps: stack traces through
// our code still point at our files and lines, and node_modules cost the map nothing.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { trimSourceMap } from '../../scripts/lambda/source-map.mjs';
import { lambdaBuildOptions } from '../../scripts/package.mjs';

const run = promisify(execFile);

describe('trimSourceMap', () => {
  it('keeps our files and lines in a stack trace and drops node_modules from the map', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'source-map-'));
    const outfile = join(dir, 'index.mjs');
    await build({ ...lambdaBuildOptions('tests/fixtures/throws-in-project-code.ts', outfile), banner: {} });
    const full = JSON.parse(await readFile(`${outfile}.map`, 'utf8'));

    const trimmed = trimSourceMap(full);
    await writeFile(`${outfile}.map`, JSON.stringify(trimmed));
    const failure = await run('node', ['--enable-source-maps', outfile]).catch(
      (error: { stderr: string }) => error,
    );

    expect(full.sources.some((source: string) => source.includes('node_modules/ky'))).toBe(true);
    expect(trimmed.sources).toEqual([expect.stringMatching(/tests\/fixtures\/throws-in-project-code\.ts$/)]);
    expect(trimmed.mappings.length).toBeLessThan(full.mappings.length / 5);
    expect((failure as { stderr: string }).stderr).toMatch(/throws-in-project-code\.ts:6:\d+/);
  });
});
