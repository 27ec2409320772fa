// Builds one zip per function for Lambda (nodejs22.x, arm64): dist/<name>.zip holding index.mjs
// (exports `handler`, so `Handler: index.handler`) and its source map. Everything, the AWS SDK
// included, is bundled: the zip does not depend on the SDK version the runtime happens to carry.
// The zips are deterministic (fixed timestamps), so an unchanged build keeps its code hash and
// IaC sees no change.

import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { zipSync } from 'fflate';

export const FUNCTIONS = [
  { name: 'post-confirmation', entry: 'src/handlers/post-confirmation.ts' },
  { name: 'retry-worker', entry: 'src/handlers/retry-worker.ts' },
];

// The X-Ray SDK (under the Powertools tracer) is CommonJS and calls require() at run time.
const REQUIRE_BANNER = "import{createRequire}from'node:module';const require=createRequire(import.meta.url);";
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

export const packageFunction = async ({ name, entry }) => {
  const outdir = `dist/${name}`;
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const { metafile } = await build({
    entryPoints: [entry],
    outfile: `${outdir}/index.mjs`,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    banner: { js: REQUIRE_BANNER },
    metafile: true,
    logLevel: 'warning',
  });
  const files = {};
  for (const file of ['index.mjs', 'index.mjs.map']) {
    files[file] = [new Uint8Array(await readFile(`${outdir}/${file}`)), { mtime: FIXED_MTIME }];
  }
  const zip = zipSync(files, { level: 9 });
  await writeFile(`dist/${name}.zip`, zip);
  const raw = Object.values(metafile.outputs).find((output) => output.entryPoint)?.bytes ?? 0;
  return { name, zip: `dist/${name}.zip`, rawBytes: raw, zipBytes: zip.byteLength };
};

/**
 * `cognito-user-sync/verify` for the User Service team: one readable, dependency-free ES module
 * (Node built-ins only) and its type declarations.
 */
export const packageVerifier = async () => {
  await build({
    entryPoints: ['src/verify.ts'],
    outfile: 'dist/verify.mjs',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    legalComments: 'inline',
    logLevel: 'warning',
  });
  execFileSync('npx', ['tsc', '-p', 'tsconfig.verify.json'], { stdio: 'inherit' });
  return 'dist/verify.mjs';
};

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const fn of FUNCTIONS) {
    const { zip, rawBytes, zipBytes } = await packageFunction(fn);
    console.log(`${zip}: index.mjs ${kib(rawBytes)}, zip ${kib(zipBytes)}`);
  }
  console.log(`${await packageVerifier()}: the verifier, importable as cognito-user-sync/verify`);
}
