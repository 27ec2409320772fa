// `npm run bench`: builds the real zips and measures, in one run and side by side, the shipped
// post-confirmation handler and the bare-fetch floor (bench/baseline-handler.mjs, bundled the
// same way), both under Node 22 in a Lambda-like environment; then the retry worker's and the
// backfill's throughput. Prints a table against the performance budgets and writes
// bench/results.json. bench/README.md says what each figure means.

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { SourceMapPayload } from 'node:module';
import { createServer, type Socket } from 'node:net';
import os from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { build as esbuild } from 'esbuild';
import { unzipSync } from 'fflate';
import { motoEnv, startMoto } from '../scripts/moto.mjs';
import { FUNCTIONS, LAMBDA_ONLY, lambdaBuildOptions, packageFunction } from '../scripts/package.mjs';
import {
  createApiKeySecret,
  createConfirmedPool,
  createQueues,
  fillRetryQueue,
  type Moto,
  queueDepth,
} from './lib/aws-fixtures.js';
import {
  type Env,
  lambdaEnv,
  lambdaNodeFlags,
  ROOT,
  resolveNode22,
  runMeasured,
  UserServiceProcess,
  type XraySegment,
  XraySink,
} from './lib/processes.js';
import { IDLE, meanOfSummaries, type ProfileSummary, summarizeProfile } from './lib/profile.js';
import { median, rounded, type Summary, summarize } from './lib/stats.js';

// The fixtures' own SDK clients run in this process, which may be Node 20: no nagging about it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// scripts/package.mjs builds from paths relative to the package's root.
process.chdir(ROOT);

const { values: options } = parseArgs({
  options: {
    cold: { type: 'string', default: '30' },
    warm: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '200' },
    'deadline-invocations': { type: 'string', default: '20' },
    deadlines: { type: 'string', default: '1000,3500' },
    messages: { type: 'string', default: '1000' },
    users: { type: 'string', default: '10000' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results.json' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (options.help) {
  console.log(`Usage: npm run bench -- [options]

  --cold N                    fresh processes per handler for the cold start (default 30, at least 20)
  --warm N                    timed warm invocations per handler (default 5000, at least 2000)
  --warmup N                  warm-up invocations before them (default 200)
  --deadlines LIST            SYNC_DEADLINE_MS values to check adherence for (default 1000,3500)
  --deadline-invocations N    invocations per deadline (default 20)
  --messages N                retry-queue messages for the worker's throughput (default 1000)
  --users N                   pool size for the backfill's throughput (default 10000)
  --only LIST                 phases to run: size,cold,warm,deadline,worker,backfill (default all)
  --profile                   also profile the handlers (--cpu-prof, apart from the timed runs) and
                              say where their cold start and warm CPU time go, package by package
  --skip-build                measure the zips already in dist/ and bench/.build/
  --strict                    exit 1 when a budget is not met
  --out FILE                  where the figures go (default bench/results.json)`);
  process.exit(0);
}

const count = (name: keyof typeof options, min = 1): number => {
  const value = Number(options[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
  return value;
};
const COLD_RUNS = count('cold');
const WARM_RUNS = count('warm');
const WARMUP = count('warmup', 0);
const DEADLINE_INVOCATIONS = count('deadline-invocations');
const DEADLINES = String(options.deadlines)
  .split(',')
  .map((value) => Number(value.trim()));
if (DEADLINES.some((value) => !Number.isInteger(value) || value < 200 || value > 4800)) {
  throw new Error('--deadlines takes SYNC_DEADLINE_MS values, whole numbers from 200 to 4800');
}
const MESSAGES = count('messages');
const USERS = count('users');
const PHASES = new Set(
  (options.only ?? 'size,cold,warm,deadline,worker,backfill').split(',').map((phase) => phase.trim()),
);
if (options.profile) PHASES.add('profile');

const BUILD = join(ROOT, 'bench/.build');
const API_KEY = 'bench-api-key-0123456789';
const KIB = 1024;
const BUDGET = {
  zipKiB: 120,
  coldRatio: 2.0,
  warmMedianRatio: 2.5,
  warmP99Ratio: 2.5,
  memoryOverBaselineMiB: 10,
  deadlineSlackMs: 50,
  backfillUsersPerSecond: 200,
};

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const time = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  progress(`${label}…`);
  const result = await work();
  progress(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
};

// ---------------------------------------------------------------------------------------------
// Build: the real zips with scripts/package.mjs, and the baseline through the same packageFunction

interface ZipSize {
  zip: string;
  zipBytes: number;
  indexMjsBytes: number;
  unzippedBytes: number;
  files: Record<string, number>;
}

type Handler = 'shipped' | 'baseline';
const ZIPS = {
  shipped: 'dist/post-confirmation.zip',
  worker: 'dist/retry-worker.zip',
  // packageFunction writes dist/<name>/ and dist/<name>.zip; this name lands them in bench/.build.
  baseline: 'bench/.build/baseline.zip',
} as const;
const taskRoot = (name: keyof typeof ZIPS) => join(BUILD, 'task-roots', name);

const build = async () => {
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  for (const fn of FUNCTIONS) await packageFunction(fn);
  await packageFunction({ name: '../bench/.build/baseline', entry: 'bench/baseline-handler.mjs' });
};

/** Unzips each zip into its own task root, as Lambda does into /var/task; returns the sizes. */
const unpack = async (): Promise<Record<keyof typeof ZIPS, ZipSize>> => {
  const sizes = {} as Record<keyof typeof ZIPS, ZipSize>;
  for (const name of Object.keys(ZIPS) as (keyof typeof ZIPS)[]) {
    const zip = await readFile(join(ROOT, ZIPS[name]));
    const files = unzipSync(new Uint8Array(zip));
    const root = taskRoot(name);
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    for (const [file, bytes] of Object.entries(files)) await writeFile(join(root, file), bytes);
    const fileSizes = Object.fromEntries(
      Object.entries(files).map(([file, bytes]) => [file, bytes.byteLength]),
    );
    sizes[name] = {
      zip: ZIPS[name],
      zipBytes: zip.byteLength,
      indexMjsBytes: fileSizes['index.mjs'] ?? 0,
      unzippedBytes: Object.values(fileSizes).reduce((sum, bytes) => sum + bytes, 0),
      files: fileSizes,
    };
  }
  return sizes;
};

// ---------------------------------------------------------------------------------------------
// The environment of the measured processes

interface Setup {
  node22: { path: string; version: string };
  moto: Moto & { stop(): Promise<void> };
  xray: XraySink;
  userService: UserServiceProcess;
  secretArn: string;
  event: unknown;
  env: Record<Handler, Env>;
  workerEnv: Env;
}

const NODE_FLAGS = lambdaNodeFlags(256);
const INVOKE = join(ROOT, 'bench/lib/invoke.mjs');
const DRAIN = join(ROOT, 'bench/lib/drain-retry-queue.mjs');

const POWERTOOLS = {
  POWERTOOLS_SERVICE_NAME: 'cognito-user-sync',
  POWERTOOLS_METRICS_NAMESPACE: 'CognitoUserSync',
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

const setUp = async (node22: Setup['node22']): Promise<Setup> => {
  const moto = await startMoto();
  const xray = await XraySink.start();
  let userService: UserServiceProcess | undefined;
  try {
    userService = await UserServiceProcess.start(node22.path, API_KEY);
    return await configure(node22, moto, xray, userService);
  } catch (error) {
    await userService?.stop();
    xray.close();
    await moto.stop();
    throw error;
  }
};

const configure = async (
  node22: Setup['node22'],
  moto: Setup['moto'],
  xray: XraySink,
  userService: UserServiceProcess,
): Promise<Setup> => {
  const secretArn = await createApiKeySecret(moto, API_KEY);
  const shippedQueues = await createQueues(moto, 'bench-post-confirmation');
  const workerQueues = await createQueues(moto, 'bench-worker');
  const common = { xrayDaemon: xray.address, awsEndpoint: moto.endpoint };
  return {
    node22,
    moto,
    xray,
    userService,
    secretArn,
    event: JSON.parse(await readFile(join(ROOT, 'events/post-confirmation-signup.json'), 'utf8')),
    env: {
      shipped: lambdaEnv(
        { ...common, functionName: 'cognito-user-sync-post-confirmation', taskRoot: taskRoot('shipped') },
        {
          ...POWERTOOLS,
          USER_SERVICE_URL: userService.url,
          USER_SERVICE_API_KEY_SECRET_ID: secretArn,
          RETRY_QUEUE_URL: shippedQueues.retryQueueUrl,
          DEAD_LETTER_QUEUE_URL: shippedQueues.deadLetterQueueUrl,
        },
      ),
      baseline: lambdaEnv(
        { ...common, functionName: 'bench-baseline', taskRoot: taskRoot('baseline') },
        { USER_SERVICE_URL: userService.url, USER_SERVICE_API_KEY: API_KEY },
      ),
    },
    workerEnv: lambdaEnv(
      { ...common, functionName: 'cognito-user-sync-retry-worker', taskRoot: taskRoot('worker') },
      {
        ...POWERTOOLS,
        USER_SERVICE_URL: userService.url,
        USER_SERVICE_API_KEY_SECRET_ID: secretArn,
        RETRY_QUEUE_URL: workerQueues.retryQueueUrl,
        DEAD_LETTER_QUEUE_URL: workerQueues.deadLetterQueueUrl,
        BENCH_MESSAGES: String(MESSAGES),
      },
    ),
  };
};

const invoke = <T>(setup: Setup, handler: Handler, extra: Env, extraFlags: string[] = []) =>
  runMeasured<T>(setup.node22.path, INVOKE, {
    env: { ...setup.env[handler], BENCH_EVENT: JSON.stringify(setup.event), ...extra },
    cwd: setup.env[handler].LAMBDA_TASK_ROOT ?? ROOT,
    nodeFlags: [...NODE_FLAGS, ...extraFlags],
  });

// ---------------------------------------------------------------------------------------------
// Cold: import plus first invocation in fresh processes, the two handlers interleaved

interface ColdFigures {
  node: string;
  processStartToRunnerMs: number;
  importMs: number;
  firstInvocationMs: number;
  coldMs: number;
  importCpuMs: number;
  firstInvocationCpuMs: number;
  rssMiB: number;
  heapUsedMiB: number;
  returnedEvent: boolean;
  marksUs: { from: number; to: number };
}

interface ColdSample extends ColdFigures {
  spawnToExitMs: number;
  logBytes: number;
  /** From the X-Ray segments the process sent (shipped only): where the first invocation went. */
  trace?: { handlerMs?: number; secretsManagerMs?: number; userServiceMs?: number };
}

const flatten = (segments: XraySegment[]): XraySegment[] =>
  segments.flatMap((segment) => [segment, ...flatten(segment.subsegments ?? [])]);

const durationOf = (segments: XraySegment[], match: (segment: XraySegment) => boolean) => {
  const found = segments.find((segment) => match(segment) && segment.end_time !== undefined);
  return found?.end_time === undefined ? undefined : (found.end_time - found.start_time) * 1000;
};

const cold = async (setup: Setup) => {
  const samples: Record<Handler, ColdSample[]> = { shipped: [], baseline: [] };
  const before = await setup.userService.stats();
  setup.xray.keep = true;
  for (let run = 0; run < COLD_RUNS; run++) {
    // Alternate who goes first, so neither always follows the other.
    const order: Handler[] = run % 2 === 0 ? ['baseline', 'shipped'] : ['shipped', 'baseline'];
    for (const handler of order) {
      setup.xray.take();
      const measured = await invoke<ColdFigures>(setup, handler, { BENCH_MODE: 'cold' });
      const segments = flatten(setup.xray.take());
      samples[handler].push({
        ...measured.result,
        spawnToExitMs: measured.wallMs,
        logBytes: measured.stdoutBytes,
        ...(handler === 'shipped' && {
          trace: {
            handlerMs: durationOf(segments, (segment) => segment.name.startsWith('## ')),
            secretsManagerMs: durationOf(segments, (segment) => segment.name === 'SecretsManager'),
            userServiceMs: durationOf(
              segments,
              (segment) =>
                segment.namespace === 'remote' && Boolean(segment.http?.request?.url?.includes('/users')),
            ),
          },
        }),
      });
      if (!measured.result.returnedEvent) throw new Error(`the ${handler} handler did not return its event`);
    }
    if ((run + 1) % 5 === 0) progress(`cold ${run + 1}/${COLD_RUNS}`);
  }
  setup.xray.keep = false;
  const after = await setup.userService.stats();
  // A handler that failed open without a POST would look fast: every run must have created its user.
  if (after.users - before.users !== 2 * COLD_RUNS) {
    throw new Error(
      `${after.users - before.users} users created by ${2 * COLD_RUNS} cold runs: a handler did not sync`,
    );
  }
  const summary = (handler: Handler) => {
    const list = samples[handler];
    const pick = (key: keyof ColdFigures | 'spawnToExitMs') =>
      summarize(list.map((sample) => Number(sample[key])));
    return {
      coldMs: pick('coldMs'),
      importMs: pick('importMs'),
      firstInvocationMs: pick('firstInvocationMs'),
      importCpuMs: pick('importCpuMs'),
      firstInvocationCpuMs: pick('firstInvocationCpuMs'),
      processStartToRunnerMs: pick('processStartToRunnerMs'),
      spawnToExitMs: pick('spawnToExitMs'),
      rssMiB: pick('rssMiB'),
      heapUsedMiB: pick('heapUsedMiB'),
      logBytesPerInvocation: median(list.map((sample) => sample.logBytes)),
    };
  };
  const traced = samples.shipped.map((sample) => sample.trace ?? {});
  const traceMedian = (key: 'handlerMs' | 'secretsManagerMs' | 'userServiceMs') =>
    median(traced.flatMap((trace) => (trace[key] === undefined ? [] : [trace[key]])));
  return {
    runs: COLD_RUNS,
    shipped: summary('shipped'),
    baseline: summary('baseline'),
    shippedFirstInvocationTrace: {
      handlerMs: traceMedian('handlerMs'),
      secretsManagerMs: traceMedian('secretsManagerMs'),
      userServiceMs: traceMedian('userServiceMs'),
      tracedRuns: traced.filter((trace) => trace.handlerMs !== undefined).length,
    },
    usersCreated: after.users - before.users,
    samples,
  };
};

// ---------------------------------------------------------------------------------------------
// Warm: one process per handler, warm-up, then WARM_RUNS timed sequential invocations

interface WarmFigures {
  node: string;
  warmup: number;
  iterations: number;
  loopMs: number;
  returnedEvent: number;
  rssAfterFirstMiB: number;
  rssAfterLoopMiB: number;
  marksUs: { from: number; to: number };
  wallMs: number[];
  cpuUs: number[];
}

const warm = async (setup: Setup) => {
  const results = {} as Record<Handler, { wallMs: Summary; cpuUs: Summary } & Record<string, unknown>>;
  for (const handler of ['baseline', 'shipped'] as const) {
    const before = await setup.userService.stats();
    const datagrams = setup.xray.datagrams;
    const measured = await time(`warm ${handler} (${WARMUP} + ${WARM_RUNS} invocations)`, () =>
      invoke<WarmFigures>(setup, handler, {
        BENCH_MODE: 'warm',
        BENCH_WARMUP: String(WARMUP),
        BENCH_ITERATIONS: String(WARM_RUNS),
      }),
    );
    const after = await setup.userService.stats();
    const { wallMs, cpuUs, ...rest } = measured.result;
    if (rest.returnedEvent !== WARM_RUNS) throw new Error(`the ${handler} handler did not return its event`);
    const invocations = 1 + WARMUP + WARM_RUNS;
    const created = (after.statuses['201'] ?? 0) - (before.statuses['201'] ?? 0);
    if (created !== invocations) {
      throw new Error(
        `the ${handler} handler created ${created} users in ${invocations} invocations:\n${measured.stdoutTail}`,
      );
    }
    results[handler] = {
      ...rest,
      wallMs: summarize(wallMs),
      cpuUs: summarize(cpuUs),
      invocationsPerSecond: (WARM_RUNS / rest.loopMs) * 1000,
      logBytesPerInvocation: measured.stdoutBytes / invocations,
      logLinesPerInvocation: measured.stdoutLines / invocations,
      xrayDatagramsPerInvocation: (setup.xray.datagrams - datagrams) / invocations,
      userServiceStatuses: Object.fromEntries(
        Object.entries(after.statuses).map(([status, n]) => [status, n - (before.statuses[status] ?? 0)]),
      ),
      rawWallMs: wallMs,
      rawCpuUs: cpuUs,
    };
  }
  return results;
};

// ---------------------------------------------------------------------------------------------
// Deadline adherence: a User Service that accepts connections and never answers

interface DeadlineFigures {
  node: string;
  importMs: number;
  iterations: number;
  returnedEvent: number;
  elapsedMs: number[];
}

const startBlackhole = async () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read the request, never answer
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/api/v1/users`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
};

const deadline = async (setup: Setup) => {
  const blackhole = await startBlackhole();
  try {
    // Each deadline in its own process, all at once: they spend their time waiting.
    return await Promise.all(
      DEADLINES.map(async (syncDeadlineMs) => {
        const queues = await createQueues(setup.moto, `bench-deadline-${syncDeadlineMs}`);
        const measured = await invoke<DeadlineFigures>(setup, 'shipped', {
          BENCH_MODE: 'deadline',
          BENCH_ITERATIONS: String(DEADLINE_INVOCATIONS),
          USER_SERVICE_URL: blackhole.url,
          SYNC_DEADLINE_MS: String(syncDeadlineMs),
          RETRY_QUEUE_URL: queues.retryQueueUrl,
          DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
        });
        const { elapsedMs } = measured.result;
        const queued = await queueDepth(setup.moto, queues.retryQueueUrl);
        if (queued !== DEADLINE_INVOCATIONS) {
          throw new Error(`${queued} of ${DEADLINE_INVOCATIONS} users queued:\n${measured.stdoutTail}`);
        }
        return {
          syncDeadlineMs,
          limitMs: syncDeadlineMs + BUDGET.deadlineSlackMs,
          invocations: elapsedMs.length,
          returnedEvent: measured.result.returnedEvent,
          maxMs: Math.max(...elapsedMs),
          medianMs: median(elapsedMs),
          firstMs: elapsedMs[0],
          queued,
          elapsedMs,
        };
      }),
    );
  } finally {
    await blackhole.close();
  }
};

// ---------------------------------------------------------------------------------------------
// The retry worker's throughput

interface DrainFigures {
  node: string;
  messages: number;
  deleted: number;
  failed: number;
  batches: number;
  elapsedMs: number;
  handlerMs: number;
  receiveMs: number;
  deleteMs: number;
}

const worker = async (setup: Setup) => {
  await setup.userService.reset();
  const queueUrl = setup.workerEnv.RETRY_QUEUE_URL ?? '';
  await time(`queueing ${MESSAGES} messages`, () => fillRetryQueue(setup.moto, queueUrl, MESSAGES));
  const measured = await time('draining them with the retry worker', () =>
    runMeasured<DrainFigures>(setup.node22.path, DRAIN, {
      env: setup.workerEnv,
      cwd: taskRoot('worker'),
      nodeFlags: NODE_FLAGS,
    }),
  );
  const stats = await setup.userService.stats();
  const figures = measured.result;
  if (figures.deleted !== MESSAGES || stats.users !== MESSAGES) {
    throw new Error(
      `${figures.deleted} of ${MESSAGES} messages done, ${stats.users} users created:\n${measured.stdoutTail}`,
    );
  }
  return {
    ...figures,
    messagesPerSecond: (figures.deleted / figures.elapsedMs) * 1000,
    /** The worker's own capacity: messages over the time spent inside the handler. */
    handlerMessagesPerSecond: (figures.deleted / figures.handlerMs) * 1000,
    usersCreated: stats.users,
    leftOnQueue: await queueDepth(setup.moto, queueUrl),
  };
};

// ---------------------------------------------------------------------------------------------
// Backfill: the real CLI, from a moto pool into the dev User Service

interface BackfillReport {
  durationMs: number;
  complete: boolean;
  pages: number;
  counts: { seen: number; created: number; existed: number; skipped: number; failed: number };
}

const backfill = async (setup: Setup) => {
  await setup.userService.reset();
  const populateStarted = performance.now();
  const { userPoolId } = await time(`creating a moto pool of ${USERS} confirmed users`, () =>
    createConfirmedPool(setup.moto, USERS, 16),
  );
  const populateMs = performance.now() - populateStarted;
  const reportPath = join(BUILD, 'backfill-report.json');
  await rm(reportPath, { force: true });
  const cli = spawn(
    setup.node22.path,
    ['bin/cognito-user-sync.mjs', 'backfill', '--user-pool-id', userPoolId, '--report', reportPath],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...motoEnv(setup.moto.endpoint),
        USER_SERVICE_URL: setup.userService.url,
        USER_SERVICE_API_KEY_SECRET_ID: setup.secretArn,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  cli.stdout.on('data', (chunk) => {
    output += chunk;
  });
  cli.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const started = performance.now();
  const [code] = (await time('backfill (the CLI, default concurrency)', () => once(cli, 'exit'))) as [number];
  const processMs = performance.now() - started;
  if (code !== 0) throw new Error(`backfill exited with ${code}:\n${output.slice(-4000)}`);
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as BackfillReport;
  const stats = await setup.userService.stats();
  if (report.counts.created !== USERS || stats.users !== USERS) {
    throw new Error(`backfill created ${report.counts.created} of ${USERS} users:\n${output.slice(-4000)}`);
  }
  return {
    users: USERS,
    userPoolId,
    populateMs,
    cliProcessMs: processMs,
    report: {
      durationMs: report.durationMs,
      complete: report.complete,
      pages: report.pages,
      counts: report.counts,
    },
    usersPerSecond: (report.counts.seen / report.durationMs) * 1000,
    usersCreatedInService: stats.users,
    output: output.trim().split('\n').slice(-8),
  };
};

// ---------------------------------------------------------------------------------------------
// Profile (--profile): where the time goes, package by package. Separate runs under --cpu-prof,
// so the profiler's overhead touches none of the figures above.

const PROFILE_COLD_RUNS = 5;
const PROFILE_WARM_RUNS = 2000;

/**
 * The shipped map keeps only the project's sources; a build with the same options gives the full
 * one. Used only when that build's code is byte for byte the shipped index.mjs.
 */
const fullSourceMap = async (): Promise<SourceMapPayload | undefined> => {
  const entry = FUNCTIONS.find((fn) => fn.name === 'post-confirmation')?.entry;
  if (!entry) return undefined;
  const outfile = join(BUILD, 'profile-bundle/index.mjs');
  await esbuild({ ...lambdaBuildOptions(entry, outfile), ...LAMBDA_ONLY });
  const [built, shipped] = await Promise.all([
    readFile(outfile),
    readFile(join(taskRoot('shipped'), 'index.mjs')),
  ]);
  if (!built.equals(shipped)) {
    progress('profile: lambdaBuildOptions no longer gives the shipped index.mjs; packages left unmapped');
    return undefined;
  }
  return JSON.parse(await readFile(`${outfile}.map`, 'utf8')) as SourceMapPayload;
};

const profile = async (setup: Setup, shippedMap: SourceMapPayload | undefined) => {
  const maps: Record<Handler, SourceMapPayload | undefined> = {
    shipped: shippedMap,
    baseline: JSON.parse(
      await readFile(join(taskRoot('baseline'), 'index.mjs.map'), 'utf8'),
    ) as SourceMapPayload,
  };
  const result = {} as Record<Handler, { cold: ProfileSummary; warmPerInvocationUs: Record<string, number> }>;
  for (const handler of ['shipped', 'baseline'] as const) {
    const dir = join(BUILD, 'profiles', handler);
    await rm(dir, { recursive: true, force: true });
    const flags = (name: string) => [
      '--cpu-prof',
      '--cpu-prof-interval=100',
      `--cpu-prof-dir=${dir}`,
      `--cpu-prof-name=${name}`,
    ];
    const summarizeRun = (name: string, marksUs: { from: number; to: number }) =>
      summarizeProfile(join(dir, name), {
        bundle: '/index.mjs',
        map: maps[handler],
        fromUs: marksUs.from,
        toUs: marksUs.to,
      });
    const colds: ProfileSummary[] = [];
    for (let run = 0; run < PROFILE_COLD_RUNS; run++) {
      const name = `cold-${run}.cpuprofile`;
      const { result: figures } = await invoke<ColdFigures>(
        setup,
        handler,
        { BENCH_MODE: 'cold' },
        flags(name),
      );
      colds.push(await summarizeRun(name, figures.marksUs));
    }
    const { result: figures } = await invoke<WarmFigures>(
      setup,
      handler,
      { BENCH_MODE: 'warm', BENCH_WARMUP: String(WARMUP), BENCH_ITERATIONS: String(PROFILE_WARM_RUNS) },
      flags('warm.cpuprofile'),
    );
    const warmSummary = await summarizeRun('warm.cpuprofile', figures.marksUs);
    result[handler] = {
      cold: meanOfSummaries(colds),
      warmPerInvocationUs: Object.fromEntries(
        Object.entries(warmSummary.groups).map(([group, ms]) => [group, (ms * 1000) / PROFILE_WARM_RUNS]),
      ),
    };
  }
  return {
    coldRuns: PROFILE_COLD_RUNS,
    warmRuns: PROFILE_WARM_RUNS,
    // Relative: results.json is committed, and a machine's paths have no place in it.
    profiles: relative(ROOT, join(BUILD, 'profiles')),
    ...result,
  };
};

// ---------------------------------------------------------------------------------------------
// Report

interface Budget {
  id: string;
  label: string;
  value: number;
  limit: number;
  /** 'max': value ≤ limit; 'min': value ≥ limit. */
  kind: 'max' | 'min';
  pass: boolean;
}

const fmt = (value: number | undefined, digits = 1) =>
  value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);

/** The table's rows and the budgets checked on the way. */
class Report {
  readonly rows: string[][] = [['measure', 'shipped', 'baseline', 'ratio', 'budget', '']];
  readonly budgets: Budget[] = [];

  /** A row of figures, checked against nothing. */
  row(label: string, shipped = '', baseline = '', ratio = '') {
    this.rows.push([label, shipped, baseline, ratio, '', '']);
  }

  /** Two figures and their ratio. */
  compare(label: string, shipped: number, baseline: number, digits = 1) {
    this.row(label, fmt(shipped, digits), fmt(baseline, digits), `${fmt(shipped / baseline, 2)}×`);
  }

  /** A row whose `value` is checked against `limit`. */
  check(
    { id, label, value, limit, kind = 'max' }: Omit<Budget, 'pass' | 'kind'> & { kind?: Budget['kind'] },
    cells: [shipped: string, baseline: string, ratio: string],
    limitText: string,
    rowLabel = label,
  ) {
    const pass = Number.isFinite(value) && (kind === 'max' ? value <= limit : value >= limit);
    this.budgets.push({ id, label, value, limit, kind, pass });
    this.rows.push([rowLabel, ...cells, limitText, pass ? 'PASS' : 'FAIL']);
  }

  /** Two figures whose ratio, shipped / baseline, is checked against `limit`. */
  checkRatio(
    { id, label }: { id: string; label: string },
    shipped: number,
    baseline: number,
    limit: number,
    digits = 1,
  ) {
    const ratio = shipped / baseline;
    this.check(
      { id, label: `${label.replace(/ \((ms|µs)\)$/, '')}: shipped / baseline`, value: ratio, limit },
      [fmt(shipped, digits), fmt(baseline, digits), `${fmt(ratio, 2)}×`],
      `≤ ${limit}×`,
      label,
    );
  }
}

const machine = (loadAverageAtStart: number[]) => {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    /** 1, 5 and 15 min: anything else running on the machine shows here. */
    loadAverageAtStart,
    loadAverageAtEnd: os.loadavg(),
  };
};

const git = () => {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const changed = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean).length;
    return { commit, uncommittedChanges: changed };
  } catch {
    return { commit: 'unknown', uncommittedChanges: 0 };
  }
};

const table = (rows: string[][]): string => {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((width) => '─'.repeat(width)).join('  '), ...body.map(line)].join(
    '\n',
  );
};

const profileTable = (result: Awaited<ReturnType<typeof profile>>): string => {
  const groups = [
    ...new Set([
      ...Object.keys(result.shipped.cold.groups),
      ...Object.keys(result.shipped.warmPerInvocationUs),
      ...Object.keys(result.baseline.cold.groups),
    ]),
  ].filter((group) => group !== IDLE);
  const cold = (handler: Handler, group: string) => result[handler].cold.groups[group] ?? 0;
  const warmUs = (handler: Handler, group: string) => result[handler].warmPerInvocationUs[group] ?? 0;
  groups.sort(
    (a, b) =>
      cold('shipped', b) + warmUs('shipped', b) / 100 - (cold('shipped', a) + warmUs('shipped', a) / 100),
  );
  const shown = groups.filter(
    (group) =>
      cold('shipped', group) >= 0.5 || warmUs('shipped', group) >= 20 || cold('baseline', group) >= 0.5,
  );
  const idle = IDLE;
  return [
    `Where the CPU goes (--profile: self time by package from --cpu-prof at 100 µs, in separate runs; ` +
      `cold = import + 1st invocation, mean of ${result.coldRuns}; warm = per invocation over ${result.warmRuns})`,
    '',
    table([
      ['group', 'cold shipped (ms)', 'cold baseline (ms)', 'warm shipped (µs)', 'warm baseline (µs)'],
      ...shown.map((group) => [
        group,
        fmt(cold('shipped', group)),
        fmt(cold('baseline', group)),
        fmt(warmUs('shipped', group), 0),
        fmt(warmUs('baseline', group), 0),
      ]),
      [
        idle,
        fmt(cold('shipped', idle)),
        fmt(cold('baseline', idle)),
        fmt(warmUs('shipped', idle), 0),
        fmt(warmUs('baseline', idle), 0),
      ],
      ['window (wall)', fmt(result.shipped.cold.windowMs), fmt(result.baseline.cold.windowMs), '', ''],
    ]),
    `Profiles: ${result.profiles} (open in Chrome DevTools or speedscope).`,
  ].join('\n');
};

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  const node22 = resolveNode22();
  progress(`measured processes run under Node ${node22.version} (${node22.path})`);

  if (!options['skip-build']) await time('building the zips (scripts/package.mjs)', build);
  const sizes = await unpack();
  // Built now, from the same sources as the zips: the profile maps the shipped code with it.
  const shippedFullMap = PHASES.has('profile') ? await fullSourceMap() : undefined;

  const results: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  const setup = await time('starting moto, the X-Ray sink and the User Service', () => setUp(node22));
  const phase = async (name: string, work: () => Promise<unknown>) => {
    if (!PHASES.has(name)) return;
    try {
      results[name] = await time(name, work);
    } catch (error) {
      errors[name] = error instanceof Error ? error.message : String(error);
      progress(`${name} failed: ${errors[name]}`);
    }
  };
  try {
    await phase('cold', () => cold(setup));
    await phase('warm', () => warm(setup));
    await phase('deadline', () => deadline(setup));
    await phase('worker', () => worker(setup));
    await phase('backfill', () => backfill(setup));
    await phase('profile', () => profile(setup, shippedFullMap));
  } finally {
    await setup.userService.stop();
    setup.xray.close();
    await setup.moto.stop();
  }

  const coldResult = results.cold as Awaited<ReturnType<typeof cold>> | undefined;
  const warmResult = results.warm as Awaited<ReturnType<typeof warm>> | undefined;
  const deadlineResult = results.deadline as Awaited<ReturnType<typeof deadline>> | undefined;
  const workerResult = results.worker as Awaited<ReturnType<typeof worker>> | undefined;
  const backfillResult = results.backfill as Awaited<ReturnType<typeof backfill>> | undefined;
  const profileResult = results.profile as Awaited<ReturnType<typeof profile>> | undefined;

  const report = new Report();
  if (PHASES.has('size')) {
    const unzipped = ({ indexMjsBytes, unzippedBytes }: ZipSize) =>
      `${fmt(indexMjsBytes / KIB)} + ${fmt((unzippedBytes - indexMjsBytes) / KIB)}`;
    const zipKiB = sizes.shipped.zipBytes / KIB;
    report.check(
      { id: 'zip', label: 'post-confirmation.zip (KiB)', value: zipKiB, limit: BUDGET.zipKiB },
      [fmt(zipKiB), fmt(sizes.baseline.zipBytes / KIB), ''],
      `≤ ${BUDGET.zipKiB}`,
    );
    report.row('  unzipped: index.mjs + map (KiB)', unzipped(sizes.shipped), unzipped(sizes.baseline));
    const workerKiB = sizes.worker.zipBytes / KIB;
    report.check(
      { id: 'zip-worker', label: 'retry-worker.zip (KiB)', value: workerKiB, limit: BUDGET.zipKiB },
      [fmt(workerKiB), '', ''],
      `≤ ${BUDGET.zipKiB}`,
    );
    report.row('  unzipped: index.mjs + map (KiB)', unzipped(sizes.worker));
  }
  if (coldResult) {
    const { shipped, baseline } = coldResult;
    report.checkRatio(
      { id: 'cold', label: `cold: import + 1st invocation, median of ${coldResult.runs} (ms)` },
      shipped.coldMs.median,
      baseline.coldMs.median,
      BUDGET.coldRatio,
    );
    report.compare('  import (ms)', shipped.importMs.median, baseline.importMs.median);
    report.compare(
      '  first invocation (ms)',
      shipped.firstInvocationMs.median,
      baseline.firstInvocationMs.median,
    );
    report.row(
      '  CPU: import / first invocation (ms)',
      `${fmt(shipped.importCpuMs.median)} / ${fmt(shipped.firstInvocationCpuMs.median)}`,
      `${fmt(baseline.importCpuMs.median)} / ${fmt(baseline.firstInvocationCpuMs.median)}`,
    );
    const trace = coldResult.shippedFirstInvocationTrace;
    report.row('  1st invocation: Secrets Manager (X-Ray, ms)', fmt(trace.secretsManagerMs));
    report.row('  1st invocation: User Service POST (X-Ray, ms)', fmt(trace.userServiceMs));
    report.row(
      '  p90 / max (ms)',
      `${fmt(shipped.coldMs.p90)} / ${fmt(shipped.coldMs.max)}`,
      `${fmt(baseline.coldMs.p90)} / ${fmt(baseline.coldMs.max)}`,
    );
    report.compare(
      '  process spawn to exit (ms)',
      shipped.spawnToExitMs.median,
      baseline.spawnToExitMs.median,
    );
    const overMiB = shipped.rssMiB.median - baseline.rssMiB.median;
    report.check(
      {
        id: 'memory',
        label: 'RSS after the first invocation, median: shipped − baseline (MiB)',
        value: overMiB,
        limit: BUDGET.memoryOverBaselineMiB,
      },
      [fmt(shipped.rssMiB.median), fmt(baseline.rssMiB.median), `+${fmt(overMiB)}`],
      `≤ +${BUDGET.memoryOverBaselineMiB}`,
      'RSS after 1st invocation, median (MiB)',
    );
  }
  if (warmResult) {
    const { shipped, baseline } = warmResult;
    report.checkRatio(
      { id: 'warm-median', label: `warm: median of ${WARM_RUNS} (ms)` },
      shipped.wallMs.median,
      baseline.wallMs.median,
      BUDGET.warmMedianRatio,
      3,
    );
    report.checkRatio(
      { id: 'warm-p99', label: 'warm: p99 (ms)' },
      shipped.wallMs.p99,
      baseline.wallMs.p99,
      BUDGET.warmP99Ratio,
      3,
    );
    report.compare('warm: CPU per invocation, mean (µs)', shipped.cpuUs.mean, baseline.cpuUs.mean, 0);
    report.row(
      'warm: log output per invocation (bytes)',
      fmt(Number(shipped.logBytesPerInvocation), 0),
      fmt(Number(baseline.logBytesPerInvocation), 0),
    );
  }
  for (const result of deadlineResult ?? []) {
    report.check(
      {
        id: `deadline-${result.syncDeadlineMs}`,
        label:
          `deadline ${result.syncDeadlineMs} ms, service never answers: max / median of ${result.invocations}, ` +
          `${result.queued} queued (ms)`,
        value: result.maxMs,
        limit: result.limitMs,
      },
      [`${fmt(result.maxMs)} / ${fmt(result.medianMs)}`, '', ''],
      `≤ ${result.limitMs}`,
    );
  }
  if (workerResult) {
    report.row(
      `retry worker: ${workerResult.deleted} messages (${workerResult.usersCreated} created), ` +
        'batches of 10, receive + invoke + delete (msg/s)',
      fmt(workerResult.messagesPerSecond),
    );
    report.row('  inside the handler only (msg/s)', fmt(workerResult.handlerMessagesPerSecond));
  }
  if (backfillResult) {
    const { counts } = backfillResult.report;
    report.check(
      {
        id: 'backfill',
        label: `backfill: ${counts.seen} users (${counts.created} created), default concurrency (users/s)`,
        value: backfillResult.usersPerSecond,
        limit: BUDGET.backfillUsersPerSecond,
        kind: 'min',
      },
      [fmt(backfillResult.usersPerSecond), '', ''],
      `≥ ${BUDGET.backfillUsersPerSecond}`,
    );
  }
  const { budgets, rows } = report;

  const finishedAt = new Date();
  const header = [
    `cognito-user-sync benchmark, ${finishedAt.toISOString()}`,
    `Measured handlers ran under Node ${node22.version} (npx node@22), Lambda-like: nodejs22.x environment, ` +
      `tracing on, ${NODE_FLAGS.join(' ')}, NODE_OPTIONS=--enable-source-maps.`,
    `Orchestrator: Node ${process.version}. User Service: the dev User Service, own process (Node ${setup.userService.node}), keep-alive. ` +
      `AWS: moto on loopback.`,
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.type()} ${os.release()}, ` +
      `load average ${loadAtStart[0]?.toFixed(2)} at start, ${os.loadavg()[0]?.toFixed(2)} at end. ` +
      `Commit ${git().commit}${git().uncommittedChanges ? ` + ${git().uncommittedChanges} uncommitted changes` : ''}.`,
  ];
  const passed = budgets.filter((check) => check.pass).length;
  const summaryLine = `Budgets met: ${passed} of ${budgets.length}.${Object.keys(errors).length ? ` Phases failed: ${Object.keys(errors).join(', ')}.` : ''}`;
  console.log(`\n${header.join('\n')}\n\n${table(rows)}\n\n${summaryLine}`);
  if (profileResult) console.log(`\n${profileTable(profileResult)}`);

  const output = {
    date: finishedAt.toISOString(),
    durationS: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    node: {
      measured: node22.version,
      measuredFlags: NODE_FLAGS,
      orchestrator: process.version,
      userService: setup.userService.node,
    },
    machine: machine(loadAtStart),
    git: git(),
    config: {
      coldRuns: COLD_RUNS,
      warmup: WARMUP,
      warmRuns: WARM_RUNS,
      deadlines: DEADLINES,
      deadlineInvocations: DEADLINE_INVOCATIONS,
      messages: MESSAGES,
      users: USERS,
      phases: [...PHASES],
    },
    budgets,
    sizes,
    ...results,
    ...(Object.keys(errors).length > 0 && { errors }),
  };
  // Arrays of numbers (the raw samples) on one line each: thousands of lines otherwise.
  const text = JSON.stringify(rounded(output), null, 2).replace(
    /\[\s*(-?\d[\d.e+\-,\s]*?)\s*\]/g,
    (_, list: string) => `[${list.replace(/\s+/g, '')}]`,
  );
  await writeFile(join(ROOT, String(options.out)), `${text}\n`);
  progress(`figures written to ${options.out}`);
  if (Object.keys(errors).length > 0 || (options.strict && passed < budgets.length)) process.exitCode = 1;
};

await main();
