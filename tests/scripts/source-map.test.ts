// The Lambda zips keep only the project's mappings in their source maps: stack traces through
// our code still point at our files and lines, a position in a dependency's code points nowhere
// (rather than at the project code before it), and node_modules cost the map little.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { SourceMap as SourceMapLookup } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { lambdaBuildOptions } from '../../scripts/package.mjs';
import { type SourceMap, trimSourceMap } from '../../scripts/source-map.mjs';

const run = promisify(execFile);

/** Bundles `entry` as the Lambda zips are built; returns the code and its full source map. */
const bundle = async (entry: string) => {
  const dir = await mkdtemp(join(tmpdir(), 'source-map-'));
  const outfile = join(dir, 'index.mjs');
  await build(lambdaBuildOptions(entry, outfile));
  const full: SourceMap = JSON.parse(await readFile(`${outfile}.map`, 'utf8'));
  return { outfile, code: await readFile(outfile, 'utf8'), full };
};

/** The zero-based generated line and column of the first `text` in `code`, from its end if `last`. */
const positionOf = (code: string, text: string, { last = false } = {}) => {
  const index = last ? code.lastIndexOf(text) : code.indexOf(text);
  expect(index).toBeGreaterThanOrEqual(0);
  const linesBefore = code.slice(0, index).split('\n');
  return { line: linesBefore.length - 1, column: linesBefore.at(-1)?.length ?? 0 };
};

/** `map` as Node's --enable-source-maps reads it, to find where a generated position comes from. */
const lookup = (map: SourceMap) =>
  new SourceMapLookup({ file: 'index.mjs', sourceRoot: '', sourcesContent: [], ...map });

/** The original source a generated position maps to, if any. */
const sourceAt = (map: SourceMapLookup, { line, column }: { line: number; column: number }) => {
  const entry = map.findEntry(line, column);
  return 'originalSource' in entry ? entry.originalSource : undefined;
};

describe('trimSourceMap', () => {
  it('keeps our files and lines in a stack trace and drops node_modules from the map', async () => {
    const { outfile, full } = await bundle('tests/fixtures/throws-in-project-code.ts');

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

  it('maps a position in ky or @smithy code to no source, not to the project code before it', async () => {
    const { code, full } = await bundle('tests/fixtures/project-code-before-dependencies/index.ts');
    const inKy = positionOf(code, 'Request timed out');
    const inSmithy = positionOf(code, 'AWS4-HMAC-SHA256');

    const trimmed = lookup(trimSourceMap(full));

    // The positions are where the test means them to be, with project code before them.
    expect(sourceAt(lookup(full), inKy)).toMatch(/node_modules\/ky\//);
    expect(sourceAt(lookup(full), inSmithy)).toMatch(/node_modules\/@smithy\//);
    expect(code.indexOf('hello, ')).toBeLessThan(
      Math.min(code.indexOf('Request timed out'), code.indexOf('AWS4-HMAC-SHA256')),
    );
    expect(sourceAt(trimmed, inKy)).toBeUndefined();
    expect(sourceAt(trimmed, inSmithy)).toBeUndefined();
  });

  it('maps no position in node_modules code to any source', async () => {
    const { full } = await bundle('tests/fixtures/project-code-before-dependencies/index.ts');
    const dependencyPositions = decode(full.mappings).flatMap((segments, line) =>
      segments
        .filter((segment) => segment.length !== 1 && full.sources[segment[1]]?.includes('node_modules/'))
        .map(([column]) => ({ line, column })),
    );

    const trimmed = lookup(trimSourceMap(full));

    expect(dependencyPositions.length).toBeGreaterThan(100);
    const misattributed = dependencyPositions.filter((position) => sourceAt(trimmed, position) !== undefined);
    expect(misattributed.slice(0, 5)).toEqual([]);
  });

  it('still maps a position in project code to its file and line, and names only project files', async () => {
    const { code, full } = await bundle('tests/fixtures/project-code-before-dependencies/index.ts');
    const inGreeting = positionOf(code, 'hello, ');
    const inEntry = positionOf(code, 'instanceof', { last: true });

    const trimmed = trimSourceMap(full);

    expect(lookup(trimmed).findOrigin(inGreeting.line + 1, inGreeting.column + 1)).toMatchObject({
      fileName: expect.stringMatching(/tests\/fixtures\/project-code-before-dependencies\/greeting\.ts$/),
      lineNumber: 3,
    });
    expect(lookup(trimmed).findOrigin(inEntry.line + 1, inEntry.column + 1)).toMatchObject({
      fileName: expect.stringMatching(/tests\/fixtures\/project-code-before-dependencies\/index\.ts$/),
      lineNumber: 10,
    });
    expect(trimmed.sources).toEqual([
      expect.stringMatching(/project-code-before-dependencies\/greeting\.ts$/),
      expect.stringMatching(/project-code-before-dependencies\/index\.ts$/),
    ]);
    expect(trimmed.mappings.length).toBeLessThan(full.mappings.length / 5);
  });
});
