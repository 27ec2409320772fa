// The measured process, run under Node 22 by bench/run.ts in a Lambda-like environment: it
// loads the built-ins the runtime has loaded and imports index.mjs from an unzipped task root, as the nodejs22.x runtime
// does, and invokes its handler on post-confirmation events, each with a new sub and a new trace
// id (the runtime sets _X_AMZN_TRACE_ID per invocation). The handler's own logs go to stdout, a
// pipe the parent drains; the figures go to fd 3 as one JSON document.
//
//   BENCH_MODE=cold      import and one invocation
//   BENCH_MODE=warm      import, one invocation, BENCH_WARMUP more, then BENCH_ITERATIONS timed
//   BENCH_MODE=deadline  import, then BENCH_ITERATIONS timed invocations (the first one is cold)

import { createRequire } from 'node:module';
import { RUNTIME_BUILTINS } from './runtime-builtins.mjs';

const started = performance.now();

// What the runtime has loaded before it imports a handler (see runtime-builtins.mjs), for both
// handlers, before the timed import (undici, behind fetch, would load node:assert otherwise).
const require = createRequire(import.meta.url);
for (const name of RUNTIME_BUILTINS) require(name);
// What the runner itself needs, required as the runtime requires its modules (CommonJS): an ES
// import of a built-in would build its ES namespace, loading what its lazy getters hold
// (node:crypto's webcrypto…), for the handler, out of the timed window. The runtime imports no
// built-in that way, so the handler pays for that itself on Lambda, and here.
const { randomBytes, randomUUID } = require('node:crypto');
const { writeSync } = require('node:fs');
const { pathToFileURL } = require('node:url');

const mode = process.env.BENCH_MODE ?? 'cold';
const template = JSON.parse(process.env.BENCH_EVENT ?? '{}');
const timeoutMs = Number(process.env.BENCH_TIMEOUT_MS ?? 5000);
const warmup = Number(process.env.BENCH_WARMUP ?? 0);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 1);

/**
 * A new sign-up: a user the User Service has not seen, so every answer is a 201. A new sub, and a
 * new email too, unique across processes (the User Service refuses an email another user holds).
 */
const nextEvent = () => {
  const event = structuredClone(template);
  const sub = randomUUID();
  const attributes = event.request.userAttributes;
  event.userName = sub;
  attributes.sub = sub;
  for (const key of ['email', 'cognito:email_alias']) {
    if (typeof attributes[key] === 'string') attributes[key] = attributes[key].replace('@', `+${sub}@`);
  }
  return event;
};

const nextContext = () => {
  const seconds = Math.floor(Date.now() / 1000).toString(16);
  process.env._X_AMZN_TRACE_ID = `Root=1-${seconds}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`;
  const endsAt = Date.now() + timeoutMs;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'bench';
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '256',
    awsRequestId: randomUUID(),
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${name}`,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => endsAt - Date.now(),
  };
};

/** The handler must hand Cognito its event back, unchanged. */
const returnedEvent = (result, event) => JSON.stringify(result) === JSON.stringify(event);

const report = (figures) => {
  writeSync(3, JSON.stringify({ node: process.version, mode, ...figures }));
};

const mib = (bytes) => bytes / 1024 / 1024;
/** The monotonic clock CPU profiles use, in µs: marks to cut a profile to the measured window. */
const mark = () => Number(process.hrtime.bigint() / 1000n);

const importMark = mark();
const cpuBeforeImport = process.cpuUsage();
const beforeImport = performance.now();
const { handler } = await import(pathToFileURL(`${process.env.LAMBDA_TASK_ROOT}/index.mjs`).href);
const imported = performance.now();
const importCpu = process.cpuUsage(cpuBeforeImport);
const cpuMs = ({ user, system }) => (user + system) / 1000;

if (mode === 'cold') {
  const event = nextEvent();
  const context = nextContext();
  const cpuBeforeInvoke = process.cpuUsage();
  const beforeInvoke = performance.now();
  const result = await handler(event, context);
  const invoked = performance.now();
  const invokeCpu = process.cpuUsage(cpuBeforeInvoke);
  const invokedMark = mark();
  const memory = process.memoryUsage();
  report({
    processStartToRunnerMs: started,
    importMs: imported - beforeImport,
    firstInvocationMs: invoked - beforeInvoke,
    coldMs: invoked - beforeImport,
    importCpuMs: cpuMs(importCpu),
    firstInvocationCpuMs: cpuMs(invokeCpu),
    rssMiB: mib(memory.rss),
    heapUsedMiB: mib(memory.heapUsed),
    returnedEvent: returnedEvent(result, event),
    sub: event.request.userAttributes.sub,
    marksUs: { from: importMark, to: invokedMark },
  });
} else if (mode === 'warm') {
  const first = nextEvent();
  await handler(first, nextContext());
  const rssAfterFirstMiB = mib(process.memoryUsage().rss);
  for (let i = 0; i < warmup; i++) await handler(nextEvent(), nextContext());
  const wallMs = new Float64Array(iterations);
  const cpuUs = new Float64Array(iterations);
  let returned = 0;
  const loopMark = mark();
  const loopStarted = performance.now();
  for (let i = 0; i < iterations; i++) {
    const event = nextEvent();
    const context = nextContext();
    const cpuBefore = process.cpuUsage();
    const before = performance.now();
    const result = await handler(event, context);
    const after = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    wallMs[i] = after - before;
    cpuUs[i] = cpu.user + cpu.system;
    if (returnedEvent(result, event)) returned += 1;
  }
  const loopMs = performance.now() - loopStarted;
  const loopEndMark = mark();
  report({
    warmup,
    iterations,
    loopMs,
    returnedEvent: returned,
    rssAfterFirstMiB,
    rssAfterLoopMiB: mib(process.memoryUsage().rss),
    marksUs: { from: loopMark, to: loopEndMark },
    wallMs: [...wallMs],
    cpuUs: [...cpuUs],
  });
} else if (mode === 'deadline') {
  const elapsedMs = [];
  let returned = 0;
  for (let i = 0; i < iterations; i++) {
    const event = nextEvent();
    const context = nextContext();
    const before = performance.now();
    const result = await handler(event, context);
    elapsedMs.push(performance.now() - before);
    if (returnedEvent(result, event)) returned += 1;
  }
  report({ importMs: imported - beforeImport, iterations, returnedEvent: returned, elapsedMs });
} else {
  throw new Error(`BENCH_MODE ${mode} is not cold, warm or deadline`);
}

// Lets the tracer's last segments reach the X-Ray sink, then ends the "sandbox": keep-alive
// sockets would otherwise hold the process for seconds.
setTimeout(() => process.exit(0), Number(process.env.BENCH_LINGER_MS ?? 100));
