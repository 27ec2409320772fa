// Builds one zip per function for Lambda (nodejs22.x, arm64): dist/<name>.zip holding index.mjs
// (exports `handler`, so `Handler: index.handler`) and its source map. Everything, the AWS SDK
// included, is bundled: the zip does not depend on the SDK version the runtime happens to carry.
// The zips are deterministic (fixed timestamps), so an unchanged build keeps its code hash and
// IaC sees no change.

import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { trimSourceMap } from './lambda/source-map.mjs';

export const FUNCTIONS = [
  { name: 'post-confirmation', entry: 'src/handlers/post-confirmation.ts' },
  { name: 'retry-worker', entry: 'src/handlers/retry-worker.ts' },
  { name: 'user-changes', entry: 'src/handlers/user-changes.ts' },
  { name: 'reconcile', entry: 'src/handlers/reconcile.ts' },
];

// The X-Ray SDK (under the Powertools tracer) is CommonJS and calls require() at run time.
const REQUIRE_BANNER = "import{createRequire}from'node:module';const require=createRequire(import.meta.url);";
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

/**
 * What the Lambda zips leave out of their dependencies, and why (the shims say more): the
 * X-Ray SDK's async-hook context store (AsyncLocalStorage does the same, for a fraction of the
 * cost); the credential chain beyond the environment, which Lambda never needs; the X-Ray SDK's patcher for
 * the AWS SDK v2, which we do not use; the SDK's event-stream codec, which it imports
 * dynamically for streaming operations only (SQS and Secrets Manager have none); and all of a
 * dependency's package.json but its name and version, the only fields read at run time.
 */
export const LAMBDA_ONLY = {
  alias: {
    '@aws-sdk/credential-provider-node': './scripts/lambda/credential-provider-env.mjs',
    'cls-hooked/context': './scripts/lambda/cls-context.cjs',
  },
  external: ['@smithy/core/event-streams'],
  plugins: [
    {
      name: 'package-json-name-and-version',
      setup(build) {
        build.onLoad({ filter: /node_modules[\\/].*[\\/]package\.json$/ }, async ({ path }) => {
          const { name, version } = JSON.parse(await readFile(path, 'utf8'));
          return { contents: JSON.stringify({ name, version }), loader: 'json' };
        });
      },
    },
    {
      name: 'no-aws-sdk-v2-patcher',
      setup(build) {
        build.onResolve({ filter: /^\.\/patchers\/aws_p$/ }, ({ importer }) =>
          importer.includes('aws-xray-sdk-core')
            ? { path: new URL('./lambda/aws-sdk-v2-patcher.cjs', import.meta.url).pathname }
            : undefined,
        );
      },
    },
  ],
};

/** The esbuild options of a Lambda entry point: ESM for nodejs22.x, minified, all bundled. */
export const lambdaBuildOptions = (entry, outfile) => ({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  mainFields: ['module', 'main'],
  minify: true,
  charset: 'utf8',
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  banner: { js: REQUIRE_BANNER },
  metafile: true,
  logLevel: 'warning',
});

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

export const packageFunction = async ({ name, entry }) => {
  const outdir = `dist/${name}`;
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const { metafile } = await build({ ...lambdaBuildOptions(entry, `${outdir}/index.mjs`), ...LAMBDA_ONLY });
  const mapPath = `${outdir}/index.mjs.map`;
  await writeFile(mapPath, JSON.stringify(trimSourceMap(JSON.parse(await readFile(mapPath, 'utf8')))));
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

/**
 * The command line, compiled: dist/cli.mjs, run by bin/cognito-user-sync.mjs when the package is
 * installed (no tsx at run time). Its dependencies stay imports: they are the package's own.
 */
export const packageCli = async () => {
  await build({
    entryPoints: ['src/cli/bin.ts'],
    outfile: 'dist/cli.mjs',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return 'dist/cli.mjs';
};

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const fn of FUNCTIONS) {
    const { zip, rawBytes, zipBytes } = await packageFunction(fn);
    console.log(`${zip}: index.mjs ${kib(rawBytes)}, zip ${kib(zipBytes)}`);
  }
  console.log(`${await packageVerifier()}: the verifier, importable as cognito-user-sync/verify`);
  console.log(`${await packageCli()}: the command line, for an installed package`);
}
