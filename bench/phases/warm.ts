// Warm: one process per handler, a warm-up, then timed sequential invocations, each a new sign-up.

import { time } from '../lib/progress.js';
import { invoke, type Setup } from '../lib/setup.js';
import { type Summary, summarize } from '../lib/stats.js';

/** What bench/lib/invoke.mjs reports in BENCH_MODE=warm. */
export interface WarmFigures {
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

export interface WarmHandlerResult extends Omit<WarmFigures, 'wallMs' | 'cpuUs'> {
  wallMs: Summary;
  cpuUs: Summary;
  invocationsPerSecond: number;
  logBytesPerInvocation: number;
  logLinesPerInvocation: number;
  xrayDatagramsPerInvocation: number;
  userServiceStatuses: Record<string, number>;
  rawWallMs: number[];
  rawCpuUs: number[];
}

export interface WarmResult {
  baseline: WarmHandlerResult;
  shipped: WarmHandlerResult;
}

export const warm = async (
  setup: Setup,
  { warmup, runs }: { warmup: number; runs: number },
): Promise<WarmResult> => {
  const results: Partial<WarmResult> = {};
  for (const handler of ['baseline', 'shipped'] as const) {
    const before = await setup.userService.stats();
    const datagrams = setup.xray.datagrams;
    const measured = await time(`warm ${handler} (${warmup} + ${runs} invocations)`, () =>
      invoke<WarmFigures>(setup, handler, {
        BENCH_MODE: 'warm',
        BENCH_WARMUP: String(warmup),
        BENCH_ITERATIONS: String(runs),
      }),
    );
    const after = await setup.userService.stats();
    const { wallMs, cpuUs, ...rest } = measured.result;
    if (rest.returnedEvent !== runs) throw new Error(`the ${handler} handler did not return its event`);
    const invocations = 1 + warmup + runs;
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
      invocationsPerSecond: (runs / rest.loopMs) * 1000,
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
  const { baseline, shipped } = results;
  if (!baseline || !shipped) throw new Error('a handler was not measured');
  return { baseline, shipped };
};
