// What each dependency of the shipped handler costs at import on its own, under Node 22 in the
// Lambda-like environment: one small entry per dependency, bundled with scripts/package.mjs's
// Lambda options, imported in fresh processes (median of N). Run with `tsx bench/import-costs.ts
// [N]`. Entries share code (the Powertools commons, the SDK's core), so the rows do not add up:
// each says what the handler would save if nothing else needed that code.

import { execFileSync } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_ONLY, lambdaBuildOptions } from '../scripts/package.mjs';
import { lambdaEnv, lambdaNodeFlags, ROOT, resolveNode22 } from './lib/processes.js';
import { median } from './lib/stats.js';

// An entry that starts with SDK is built with the AWS SDK's clients, not the zips' stand-ins.
const SDK = '// the AWS SDK\n';
const SQS = `import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
    export const x = [SQSClient, SendMessageCommand];`;
const SECRETS = `import secrets from '@middy/secrets-manager';
    export const x = secrets;`;

const ENTRIES: Record<string, string> = {
  'an empty handler': 'export const handler = async (event) => event;',
  "undici, Node's fetch (first touch of globalThis.Response)": 'export const x = globalThis.Response;',
  '@aws-lambda-powertools/logger': `import { Logger } from '@aws-lambda-powertools/logger';
    export const x = new Logger();`,
  '@aws-lambda-powertools/metrics': `import { Metrics } from '@aws-lambda-powertools/metrics';
    export const x = new Metrics({ namespace: 'x' });`,
  '@aws-lambda-powertools/tracer (and the X-Ray SDK)': `import { Tracer } from '@aws-lambda-powertools/tracer';
    export const x = new Tracer();`,
  'the three Powertools and their middlewares': `import { Logger } from '@aws-lambda-powertools/logger';
    import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
    import { Metrics } from '@aws-lambda-powertools/metrics';
    import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
    import { Tracer } from '@aws-lambda-powertools/tracer';
    import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
    export const x = [new Logger(), new Metrics({ namespace: 'x' }), new Tracer(), injectLambdaContext, logMetrics, captureLambdaHandler];`,
  'the SQS client (the zips’ own, src/stand-ins/aws-sdk/client-sqs.ts)': SQS,
  '@aws-sdk/client-sqs (the SDK’s, with its whole credential chain)': `${SDK}${SQS}`,
  '@middy/secrets-manager with the zips’ Secrets Manager client': SECRETS,
  '@middy/secrets-manager with @aws-sdk/client-secrets-manager (whole credential chain)': `${SDK}${SECRETS}`,
  '@middy/core and @middy/input-output-logger': `import middy from '@middy/core';
    import inputOutputLogger from '@middy/input-output-logger';
    export const x = [middy, inputOutputLogger];`,
  ky: `import ky from 'ky';
    export const x = ky;`,
  'the shipped handler (src/handlers/post-confirmation.ts)': `export { handler } from '${join(ROOT, 'src/handlers/post-confirmation.ts')}';`,
};

// Loads what bench/lib/invoke.mjs loads before the timed import, as it does: the built-ins the
// runtime has loaded before any handler (bench/lib/runtime-builtins.mjs), with require. Touching
// fetch first takes undici's load out of the second figure: any handler that calls fetch pays it,
// at import (ky touches it) or at its first call (the baseline).
const RUNNER = `import { createRequire } from 'node:module';
import { RUNTIME_BUILTINS } from '${pathToFileURL(join(ROOT, 'bench/lib/runtime-builtins.mjs')).href}';
const require = createRequire(import.meta.url);
for (const name of RUNTIME_BUILTINS) require(name);
if (process.env.PRELOAD_UNDICI) globalThis.Response;
const started = performance.now();
await import(process.env.LAMBDA_TASK_ROOT + '/index.mjs');
process.stdout.write(String(performance.now() - started));`;

const runs = Number(process.argv[2] ?? 15);
const node = resolveNode22();
const dir = join(ROOT, 'bench/.build/import-costs');
await mkdir(dir, { recursive: true });
await writeFile(join(dir, 'runner.mjs'), RUNNER);
const rows: Record<string, string>[] = [];
for (const [name, code] of Object.entries(ENTRIES)) {
  const root = join(dir, name.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'entry.mjs'), code);
  const alias = Object.fromEntries(
    Object.entries(LAMBDA_ONLY.alias ?? {}).filter(
      ([name]) => !(code.startsWith(SDK) && name.startsWith('@aws-sdk/')),
    ),
  );
  await build({
    ...lambdaBuildOptions(join(root, 'entry.mjs'), join(root, 'index.mjs')),
    ...LAMBDA_ONLY,
    alias,
  });
  const env = lambdaEnv(
    {
      functionName: 'import-costs',
      taskRoot: root,
      xrayDaemon: '127.0.0.1:2000',
      awsEndpoint: 'http://127.0.0.1:9',
    },
    {},
  );
  const times: Record<'cold' | 'undiciLoaded', number[]> = { cold: [], undiciLoaded: [] };
  for (let run = 0; run < runs; run++) {
    for (const variant of ['cold', 'undiciLoaded'] as const) {
      const output = execFileSync(node.path, [...lambdaNodeFlags(), join(dir, 'runner.mjs')], {
        env: { ...env, ...(variant === 'undiciLoaded' && { PRELOAD_UNDICI: '1' }) },
        encoding: 'utf8',
      });
      times[variant].push(Number(output));
    }
  }
  rows.push({
    entry: name,
    'index.mjs KiB': ((await stat(join(root, 'index.mjs'))).size / 1024).toFixed(1),
    'import ms': median(times.cold).toFixed(1),
    'import ms, undici loaded before': median(times.undiciLoaded).toFixed(1),
  });
}
console.log(
  `Import cost under Node ${node.version}, median of ${runs} fresh processes, no NODE_OPTIONS ` +
    '(so no source map is read)',
);
console.table(rows);
