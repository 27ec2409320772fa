// Cold: import plus first invocation, timed inside fresh processes, the two handlers alternating.
// The shipped handler's first invocation fetches its secret with tracing on; the X-Ray segments it
// sends say where that invocation went, and a run without them fails the phase.

import type { XraySegment } from '../lib/processes.js';
import { progress } from '../lib/progress.js';
import { type Handler, invoke, type Setup } from '../lib/setup.js';
import { median, type Summary, summarize } from '../lib/stats.js';

/** What bench/lib/invoke.mjs reports in BENCH_MODE=cold. */
export interface ColdFigures {
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

interface Trace {
  handlerMs?: number;
  secretsManagerMs?: number;
  userServiceMs?: number;
}

interface ColdSample extends ColdFigures {
  spawnToExitMs: number;
  logBytes: number;
  /** From the X-Ray segments the process sent (shipped only): where the first invocation went. */
  trace?: Trace;
}

type ColdKey =
  | 'coldMs'
  | 'importMs'
  | 'firstInvocationMs'
  | 'importCpuMs'
  | 'firstInvocationCpuMs'
  | 'processStartToRunnerMs'
  | 'spawnToExitMs'
  | 'rssMiB'
  | 'heapUsedMiB';

type ColdSummary = Record<ColdKey, Summary> & { logBytesPerInvocation: number };

export interface ColdResult {
  runs: number;
  shipped: ColdSummary;
  baseline: ColdSummary;
  shippedFirstInvocationTrace: Required<Trace> & { tracedRuns: number; secretFetchedRuns: number };
  usersCreated: number;
  samples: Record<Handler, ColdSample[]>;
}

const flatten = (segments: XraySegment[]): XraySegment[] =>
  segments.flatMap((segment) => [segment, ...flatten(segment.subsegments ?? [])]);

const durationOf = (segments: XraySegment[], match: (segment: XraySegment) => boolean) => {
  const found = segments.find((segment) => match(segment) && segment.end_time !== undefined);
  return found?.end_time === undefined ? undefined : (found.end_time - found.start_time) * 1000;
};

const traceOf = (segments: XraySegment[], awsEndpoint: string): Trace => ({
  handlerMs: durationOf(segments, (segment) => segment.name.startsWith('## ')),
  // The SDK's subsegment, or any traced request to moto (a secret fetched without the SDK).
  secretsManagerMs: durationOf(
    segments,
    (segment) =>
      segment.name === 'SecretsManager' || Boolean(segment.http?.request?.url?.startsWith(awsEndpoint)),
  ),
  userServiceMs: durationOf(
    segments,
    (segment) => segment.namespace === 'remote' && Boolean(segment.http?.request?.url?.includes('/users')),
  ),
});

const summaryOf = (list: ColdSample[]): ColdSummary => {
  const pick = (key: ColdKey) => summarize(list.map((sample) => sample[key]));
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

export const cold = async (setup: Setup, runs: number): Promise<ColdResult> => {
  const samples: Record<Handler, ColdSample[]> = { shipped: [], baseline: [] };
  const before = await setup.userService.stats();
  setup.xray.keep = true;
  try {
    for (let run = 0; run < runs; run++) {
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
          ...(handler === 'shipped' && { trace: traceOf(segments, setup.moto.endpoint) }),
        });
        if (!measured.result.returnedEvent)
          throw new Error(`the ${handler} handler did not return its event`);
      }
      if ((run + 1) % 5 === 0) progress(`cold ${run + 1}/${runs}`);
    }
  } finally {
    setup.xray.keep = false;
  }
  const after = await setup.userService.stats();
  // A handler that failed open without a POST would look fast: every run must have created its user.
  if (after.users - before.users !== 2 * runs) {
    throw new Error(
      `${after.users - before.users} users created by ${2 * runs} cold runs: a handler did not sync`,
    );
  }
  const traced = samples.shipped.map((sample) => sample.trace ?? {});
  const tracedRuns = traced.filter((trace) => trace.handlerMs !== undefined).length;
  const secretFetchedRuns = traced.filter((trace) => trace.secretsManagerMs !== undefined).length;
  // The budget is for a cold start that fetches its secret with tracing on: nothing less counts.
  if (tracedRuns !== runs)
    throw new Error(`tracing was active in ${tracedRuns} of ${runs} shipped cold runs`);
  if (secretFetchedRuns !== runs) {
    throw new Error(
      `the trace shows a Secrets Manager call in ${secretFetchedRuns} of ${runs} shipped cold runs ` +
        `(neither a SecretsManager subsegment nor a traced request to moto)`,
    );
  }
  const traceMedian = (key: keyof Trace) =>
    median(traced.flatMap((trace) => (trace[key] === undefined ? [] : [trace[key]])));
  return {
    runs,
    shipped: summaryOf(samples.shipped),
    baseline: summaryOf(samples.baseline),
    shippedFirstInvocationTrace: {
      handlerMs: traceMedian('handlerMs'),
      secretsManagerMs: traceMedian('secretsManagerMs'),
      userServiceMs: traceMedian('userServiceMs'),
      tracedRuns,
      secretFetchedRuns,
    },
    usersCreated: after.users - before.users,
    samples,
  };
};
