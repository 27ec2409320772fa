// Runs a packaged function the way the nodejs22.x runtime does: unzipped into a task root,
// imported as index.mjs under Node 22, its `handler` called with an event and a context, with
// the Lambda environment (tracing on, no NODE_OPTIONS: as deployed) around it. The context's time
// limit is 5 s, a trigger's, unless TEST_TIME_LIMIT_MS gives the function's own.

import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';

const run = promisify(execFile);

const RUNNER = `
import { readFileSync, writeFileSync } from 'node:fs';
const { handler } = await import(process.env.LAMBDA_TASK_ROOT + '/index.mjs');
const results = [];
for (const path of JSON.parse(process.env.TEST_EVENTS)) {
  const event = JSON.parse(readFileSync(path, 'utf8'));
  const endsAt = Date.now() + Number(process.env.TEST_TIME_LIMIT_MS || 5000);
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: '256', awsRequestId: 'req-' + results.length, logGroupName: '/aws/lambda/x', logStreamName: 's',
    callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => endsAt - Date.now(),
  };
  const started = performance.now();
  const result = await handler(event, context);
  results.push({ event, result, elapsedMs: performance.now() - started });
}
writeFileSync(process.env.TEST_RESULTS, JSON.stringify({ node: process.version, results }));
`;

export interface ZipRun {
  node: string;
  results: { event: unknown; result: unknown; elapsedMs: number }[];
  stdout: string;
  stderr: string;
  /** The X-Ray (sub)segments the function sent to the daemon address, parsed. */
  segments: Record<string, unknown>[];
}

export const TRACE_ROOT = '1-6745f1a0-0123456789abcdef01234567';

/** A stand-in for the X-Ray daemon: collects the UDP datagrams the X-Ray SDK sends. */
const listenLikeTheXRayDaemon = async () => {
  const socket = createSocket('udp4');
  const segments: Record<string, unknown>[] = [];
  socket.on('message', (message) => {
    // Each datagram is a header line, then one segment document.
    const [, document] = message.toString('utf8').split('\n');
    if (document) segments.push(JSON.parse(document));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    segments,
    close: () => socket.close(),
  };
};

/** Runs the zip's handler on each event (a path to a JSON file, or the event itself). */
export const runZipUnderNode22 = async (
  zipPath: string,
  events: (string | object)[],
  env: Record<string, string>,
): Promise<ZipRun> => {
  const taskRoot = await mkdtemp(join(tmpdir(), 'cognito-user-sync-zip-'));
  const eventPaths = await Promise.all(
    events.map(async (event, index) => {
      if (typeof event === 'string') return event;
      const path = join(taskRoot, `event-${index}.json`);
      await writeFile(path, JSON.stringify(event));
      return path;
    }),
  );
  for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(await readFile(zipPath))))) {
    await writeFile(join(taskRoot, name), bytes);
  }
  await writeFile(join(taskRoot, 'runner.mjs'), RUNNER);
  const resultsPath = join(taskRoot, 'results.json');
  const daemon = await listenLikeTheXRayDaemon();
  const { stdout, stderr } = await run('npx', ['-y', 'node@22', join(taskRoot, 'runner.mjs')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_FUNCTION_NAME: 'cognito-user-sync-function',
      AWS_REGION: 'eu-west-1',
      _HANDLER: 'index.handler',
      _X_AMZN_TRACE_ID: `Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
      AWS_XRAY_DAEMON_ADDRESS: daemon.address,
      TEST_EVENTS: JSON.stringify(eventPaths),
      TEST_RESULTS: resultsPath,
      ...env,
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  // Datagrams sent just before the process exited may still be in flight: wait, with a deadline,
  // for one handler subsegment per invocation.
  for (let waited = 0; waited < 2000; waited += 50) {
    if (daemon.segments.filter((segment) => segment.name === '## index.handler').length >= events.length)
      break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  daemon.close();
  const { node, results } = JSON.parse(await readFile(resultsPath, 'utf8'));
  return { node, results, stdout, stderr, segments: daemon.segments };
};
