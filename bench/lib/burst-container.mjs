// One Lambda container of the burst phase: a worker thread of bench/lib/burst-host.ts that loads
// the built-ins the nodejs22.x runtime has loaded, imports index.mjs from the function's unzipped
// task root, and then invokes its handler once per message from the host, one invocation at a
// time, as a Lambda container does. A thread, not a module imported again under another URL: each
// thread has its own module instances, its own fetch (undici's connection pool), its own
// diagnostics channels (which the tracer subscribes to), its own AsyncLocalStorage and its own
// process.env (the runtime sets _X_AMZN_TRACE_ID per invocation); a module imported twice in one
// thread would share all of these with its siblings. workerData: { taskRoot, timeoutMs, name }.

import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { RUNTIME_BUILTINS } from './runtime-builtins.mjs';

const require = createRequire(import.meta.url);
for (const name of RUNTIME_BUILTINS) require(name);
const { randomBytes, randomUUID } = require('node:crypto');
const { pathToFileURL } = require('node:url');

const { taskRoot, timeoutMs, name } = workerData;
const clock = () => performance.timeOrigin + performance.now();

const importStarted = performance.now();
const { handler } = await import(pathToFileURL(`${taskRoot}/index.mjs`).href);
const importMs = performance.now() - importStarted;

const context = () => {
  const seconds = Math.floor(Date.now() / 1000).toString(16);
  process.env._X_AMZN_TRACE_ID = `Root=1-${seconds}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`;
  const endsAt = Date.now() + timeoutMs;
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => endsAt - Date.now(),
  };
};

parentPort.on('message', async ({ id, event }) => {
  const startedAt = clock();
  try {
    const result = await handler(event, context());
    parentPort.postMessage({ id, startedAt, doneAt: clock(), result });
  } catch (error) {
    parentPort.postMessage({
      id,
      startedAt,
      doneAt: clock(),
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
});
parentPort.postMessage({ ready: true, importMs });
