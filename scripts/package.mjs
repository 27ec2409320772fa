// Builds one zip per function for Lambda (nodejs22.x, arm64): dist/<name>.zip holding index.mjs
// (exports `handler`, so `Handler: index.handler`) and its source map. Everything is bundled: the
// zip depends on nothing the runtime happens to carry. The AWS SDK's clients and the X-Ray SDK are
// not in it: small stand-ins written for Lambda take their place (LAMBDA_ONLY below). The zips are
// deterministic (fixed timestamps), so an unchanged build keeps its code hash and IaC sees no change.

import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { trimSourceMap } from './source-map.mjs';

export const FUNCTIONS = [
  { name: 'post-confirmation', entry: 'src/handlers/post-confirmation.ts' },
  { name: 'retry-worker', entry: 'src/handlers/retry-worker.ts' },
  { name: 'user-changes', entry: 'src/handlers/user-changes.ts' },
  { name: 'reconcile', entry: 'src/handlers/reconcile.ts' },
];

const require = createRequire(import.meta.url);
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

/**
 * What the Lambda zips leave out of their dependencies, and why (the stand-ins say more), then
 * how they take what stays (the plugins' comments):
 * - the AWS SDK's Secrets Manager, SQS, Cognito user pools and DynamoDB clients: the four speak AWS
 *   JSON protocols, and src/stand-ins/aws-json-client.ts does that in ~15 KiB where the SDK took
 *   ~200 KiB and a third of every cold start (src/stand-ins/aws-sdk/ gives it the SDK's names);
 *   tests/stand-ins/aws-sdk.differential.test.ts holds it to the SDK call for call. Only the zips:
 *   the command line and the tests run the SDK;
 * - the X-Ray SDK (aws-xray-sdk-core, under the Powertools tracer): src/stand-ins/xray-sdk.ts is
 *   the part of it a Lambda function uses, ~16 KiB where the SDK took ~45 KiB and ~9 ms of every
 *   cold start; tests/stand-ins/xray-sdk.test.ts holds it to the SDK's output. Only the zips: the
 *   command line and the tests run the SDK;
 * - all of a dependency's package.json but its name and version, the only fields read at run time.
 */
export const LAMBDA_ONLY = {
  alias: {
    '@aws-sdk/client-cognito-identity-provider':
      './src/stand-ins/aws-sdk/client-cognito-identity-provider.ts',
    '@aws-sdk/client-dynamodb': './src/stand-ins/aws-sdk/client-dynamodb.ts',
    '@aws-sdk/client-secrets-manager': './src/stand-ins/aws-sdk/client-secrets-manager.ts',
    '@aws-sdk/client-sqs': './src/stand-ins/aws-sdk/client-sqs.ts',
    'aws-xray-sdk-core': './src/stand-ins/xray-sdk.ts',
  },
  plugins: [
    {
      // An ES import of a built-in builds its whole ES namespace, running every lazy getter of the
      // module (node:crypto's WebCrypto, node:fs's promises and streams, node:timers' promises…).
      // The zips take built-ins as CommonJS modules instead, as the runtime does, from
      // process.getBuiltinModule (Node 22.3 and later): a property is read when it is used. The
      // ones only middy's streaming responses use (node:stream/web brings TransformStream,
      // TextEncoderStream, CompressionStream…) load at their first use, which never comes here.
      name: 'built-ins-as-commonjs',
      setup(build) {
        const builtins = new Set(builtinModules);
        const onFirstUse = new Set(['node:stream/web', 'node:stream/promises']);
        build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, ({ path }) => {
          const name = path.replace(/^node:/, '');
          return builtins.has(name) ? { path: `node:${name}`, namespace: 'built-in' } : undefined;
        });
        build.onLoad({ filter: /.*/, namespace: 'built-in' }, ({ path }) => {
          const load = `process.getBuiltinModule(${JSON.stringify(path)})`;
          if (!onFirstUse.has(path)) return { contents: `module.exports = ${load};`, loader: 'js' };
          const getters = Object.keys(require(path)).map((key) => `get ${key}() { return load().${key}; }`);
          return {
            contents: `let loaded; const load = () => (loaded ??= ${load}); module.exports = { ${getters.join(', ')} };`,
            loader: 'js',
          };
        });
      },
    },
    {
      // ky asks at import whether the runtime can send a request body as a stream, by building a
      // Request around a ReadableStream (0.2 to 0.7 ms of every cold start, for onUploadProgress,
      // which the functions never use). On nodejs22.x the answer is yes (fetch takes
      // `duplex: 'half'`), so the zips are built with it.
      name: 'ky-request-streams-on-node-22',
      setup(build) {
        build.onLoad({ filter: /[\\/]ky[\\/]distribution[\\/]core[\\/]constants\.js$/ }, async ({ path }) => {
          const source = await readFile(path, 'utf8');
          const probe = /export const supportsRequestStreams = \(\(\) => \{[\s\S]*?\n\}\)\(\);/;
          if (!probe.test(source)) throw new Error(`ky's request stream probe changed shape: ${path}`);
          return {
            contents: source.replace(probe, 'export const supportsRequestStreams = true;'),
            loader: 'js',
          };
        });
      },
    },
    {
      name: 'package-json-name-and-version',
      setup(build) {
        build.onLoad({ filter: /node_modules[\\/].*[\\/]package\.json$/ }, async ({ path }) => {
          const { name, version } = JSON.parse(await readFile(path, 'utf8'));
          return { contents: JSON.stringify({ name, version }), loader: 'json' };
        });
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
 * `cognito-user-sync/verify` for the User Service team: one readable, dependency-free module (Node
 * built-ins only) in both formats, dist/verify.mjs to import and dist/verify.cjs to require, each
 * with its type declarations. The two are built from the same source and hold no state, so a
 * program that loads both gets the same behaviour from each.
 */
export const packageVerifier = async () => {
  for (const [format, outfile] of [
    ['esm', 'dist/verify.mjs'],
    ['cjs', 'dist/verify.cjs'],
  ]) {
    await build({
      entryPoints: ['src/verify.ts'],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format,
      legalComments: 'inline',
      logLevel: 'warning',
    });
  }
  execFileSync('npx', ['tsc', '-p', 'tsconfig.verify.json'], { stdio: 'inherit' });
  // TypeScript reads a .d.ts of a "type": "module" package as an ES module's types: the require
  // condition needs its own .d.cts. The declarations import nothing, so they serve as they are.
  const types = await readFile('dist/types/verify.d.ts', 'utf8');
  if (/^\s*(import|export)\b[^;]*\bfrom\s/m.test(types)) {
    throw new Error('dist/types/verify.d.ts imports another module: its .d.cts copy would need them too');
  }
  await writeFile('dist/types/verify.d.cts', types);
  return 'dist/verify.mjs and dist/verify.cjs';
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
  console.log(`${await packageVerifier()}: the verifier, cognito-user-sync/verify (import or require)`);
  console.log(`${await packageCli()}: the command line, for an installed package`);
}
