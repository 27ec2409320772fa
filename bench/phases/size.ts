// Size: builds the real zips with scripts/package.mjs (and the baseline through the same
// packageFunction), then unzips every function zip in dist/ and the baseline into its own task
// root, as Lambda does into /var/task, measuring each on the way. The other phases run from the
// task roots, so this runs whichever phases are asked for; only the size rows are optional.

import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { FUNCTIONS, packageFunction } from '../../scripts/package.mjs';
import { ROOT } from '../lib/processes.js';
import { HANDLER_ZIP, taskRoot, WORKER_ZIP } from '../lib/setup.js';

export interface ZipSize {
  zip: string;
  zipBytes: number;
  indexMjsBytes: number;
  /** JavaScript: index.mjs and any chunks beside it. */
  codeBytes: number;
  /** Source maps. */
  mapBytes: number;
  unzippedBytes: number;
  files: Record<string, number>;
}

export interface Sizes {
  /** Every function zip in dist/, by name (`post-confirmation`, `retry-worker`, …). */
  functions: Record<string, ZipSize>;
  baseline: ZipSize;
}

// packageFunction writes dist/<name>/ and dist/<name>.zip; this name lands them in bench/.build.
const BASELINE = { name: '../bench/.build/baseline', entry: 'bench/baseline-handler.mjs' };
const BASELINE_ZIP = 'bench/.build/baseline.zip';

export const build = async (): Promise<void> => {
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  for (const fn of FUNCTIONS) await packageFunction(fn);
  await packageFunction(BASELINE);
};

/**
 * Writes every entry with its folders: a zip may hold chunks beside index.mjs (esbuild code
 * splitting), in subfolders too. An entry that would land outside the root is refused.
 */
const extract = async (zip: string, entries: Record<string, Uint8Array>, root: string) => {
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  for (const [name, bytes] of Object.entries(entries)) {
    const path = resolve(root, name);
    if (!path.startsWith(`${root}${sep}`)) throw new Error(`${zip}: the entry ${name} is outside its root`);
    if (name.endsWith('/')) {
      await mkdir(path, { recursive: true });
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    }
  }
};

/** Unzips `zip` (relative to the package root) into `root`, and measures it. */
export const unpackZip = async (zip: string, root: string): Promise<ZipSize> => {
  const bytes = await readFile(join(ROOT, zip));
  const entries = unzipSync(new Uint8Array(bytes));
  await extract(zip, entries, root);
  const files = Object.fromEntries(
    Object.entries(entries)
      .filter(([name]) => !name.endsWith('/'))
      .map(([name, content]) => [name, content.byteLength]),
  );
  const total = (match: (name: string) => boolean) =>
    Object.entries(files).reduce((sum, [name, size]) => sum + (match(name) ? size : 0), 0);
  return {
    zip,
    zipBytes: bytes.byteLength,
    indexMjsBytes: files['index.mjs'] ?? 0,
    codeBytes: total((name) => /\.[mc]?js$/.test(name)),
    mapBytes: total((name) => name.endsWith('.map')),
    unzippedBytes: total(() => true),
    files,
  };
};

export const unpack = async (): Promise<Sizes> => {
  const names = (await readdir(join(ROOT, 'dist')))
    .filter((file) => file.endsWith('.zip'))
    .map((file) => file.slice(0, -'.zip'.length))
    .sort();
  const needed = new Set([...FUNCTIONS.map((fn) => fn.name), HANDLER_ZIP.shipped, WORKER_ZIP]);
  const missing = [...needed].filter((name) => !names.includes(name));
  if (missing.length > 0) {
    throw new Error(`no ${missing.map((name) => `dist/${name}.zip`).join(', ')}: run without --skip-build`);
  }
  const functions: Record<string, ZipSize> = {};
  for (const name of names) functions[name] = await unpackZip(`dist/${name}.zip`, taskRoot(name));
  return { functions, baseline: await unpackZip(BASELINE_ZIP, taskRoot(HANDLER_ZIP.baseline)) };
};
