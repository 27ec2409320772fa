// What scripts/package.mjs changes in the Lambda zips' build (LAMBDA_ONLY) beyond the stand-ins,
// each checked on a bundle built with it and run under Node: built-ins taken as CommonJS modules
// (no ES namespace, no lazy getter run), the streaming-only ones loaded at first use, and ky's
// request-stream probe answered as the runtime answers it.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_ONLY, lambdaBuildOptions } from '../../scripts/package.mjs';

const run = promisify(execFile);
// ky's module with the probe (not among the package's exports: reached by its path).
const KY_CONSTANTS = new URL('../../node_modules/ky/distribution/core/constants.js', import.meta.url);

describe('the Lambda build', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lambda-build-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Bundles `source` as the zips are bundled, runs it under this Node, returns what it printed. */
  const runBundled = async (name: string, source: string) => {
    await writeFile(join(dir, `${name}.ts`), source);
    const outfile = join(dir, name, 'index.mjs');
    await build({ ...lambdaBuildOptions(join(dir, `${name}.ts`), outfile), ...LAMBDA_ONLY });
    const { stdout } = await run(process.execPath, [outfile]);
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  it('takes built-ins without their ES namespace: node:crypto works without loading WebCrypto', async () => {
    const result = await runBundled(
      'crypto',
      `import { createHash } from 'node:crypto';
       const loaded = () => process.moduleLoadList.includes('NativeModule internal/crypto/webcrypto');
       console.log(JSON.stringify({ digest: createHash('sha256').update('x').digest('hex').slice(0, 8), webcrypto: loaded() }));`,
    );
    expect(result).toEqual({ digest: '2d711642', webcrypto: false });
  });

  it('loads node:stream/web at its first use, not at import', async () => {
    const result = await runBundled(
      'streams',
      `import { TransformStream } from 'node:stream/web';
       const loaded = () => process.moduleLoadList.includes('NativeModule stream/web');
       const atImport = loaded();
       const works = typeof new TransformStream().readable.getReader === 'function';
       console.log(JSON.stringify({ atImport, works, afterUse: loaded() }));`,
    );
    expect(result).toEqual({ atImport: false, works: true, afterUse: true });
  });

  it('builds ky with the answer its request-stream probe gives on this runtime', async () => {
    // The probe, run here unbundled, says what the zips are built to assume.
    const probed = (await import(KY_CONSTANTS.href)) as { supportsRequestStreams: boolean };
    expect(probed.supportsRequestStreams).toBe(true);
    const result = await runBundled(
      'ky',
      `import { supportsRequestStreams } from '${KY_CONSTANTS.pathname}';
       console.log(JSON.stringify({ supportsRequestStreams }));`,
    );
    expect(result).toEqual({ supportsRequestStreams: true });
    // Answered at build time: the bundle builds no probe request.
    expect(await readFile(join(dir, 'ky', 'index.mjs'), 'utf8')).not.toContain('empty.invalid');
  });
});
