// Warm: four measured processes, two per handler in ABBA order, each a warm-up then timed
// sequential invocations (each a new sign-up), after an untimed load that warms the User Service.

import { time } from '../lib/progress.js';
import { type Handler, invoke, type Setup } from '../lib/setup.js';
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

/** Untimed invocations that warm the User Service up before the timed blocks. */
const SERVICE_WARMUP = 2000;

type Measured = Awaited<ReturnType<typeof invoke<WarmFigures>>>;

export interface WarmResult {
  baseline: WarmHandlerResult;
  shipped: WarmHandlerResult;
}

/**
 * The order of the measured blocks: each handler twice, mirrored (ABBA), so that a drift of the
 * machine or of the User Service over the phase weighs on both alike. Measured one handler after
 * the other, the second ran about 10–20% faster than it did when first (the dev User Service, in
 * its own process, was still getting faster under the first one's load).
 */
const BLOCKS = ['baseline', 'shipped', 'shipped', 'baseline'] as const;

export const warm = async (
  setup: Setup,
  { warmup, runs }: { warmup: number; runs: number },
): Promise<WarmResult> => {
  // The User Service warms up first, under a load no one is timed on.
  await time(`warm: the User Service (${SERVICE_WARMUP} invocations, untimed)`, () =>
    invoke<WarmFigures>(setup, 'baseline', {
      BENCH_MODE: 'warm',
      BENCH_WARMUP: String(SERVICE_WARMUP),
      BENCH_ITERATIONS: '1',
    }),
  );
  // Each handler runs in BLOCKS.length / 2 blocks: together, its share of the timed runs.
  const perBlock = Math.ceil(runs / (BLOCKS.length / 2));
  const blocks: {
    handler: Handler;
    measured: Measured;
    created: number;
    datagrams: number;
    statuses: Record<string, number>;
  }[] = [];
  for (const [index, handler] of BLOCKS.entries()) {
    const before = await setup.userService.stats();
    const datagrams = setup.xray.datagrams;
    const measured = await time(
      `warm ${handler}, block ${index + 1} of ${BLOCKS.length} (${warmup} + ${perBlock} invocations)`,
      () =>
        invoke<WarmFigures>(setup, handler, {
          BENCH_MODE: 'warm',
          BENCH_WARMUP: String(warmup),
          BENCH_ITERATIONS: String(perBlock),
        }),
    );
    const after = await setup.userService.stats();
    if (measured.result.returnedEvent !== perBlock)
      throw new Error(`the ${handler} handler did not return its event`);
    const invocations = 1 + warmup + perBlock;
    const created = (after.statuses['201'] ?? 0) - (before.statuses['201'] ?? 0);
    if (created !== invocations) {
      throw new Error(
        `the ${handler} handler created ${created} users in ${invocations} invocations:\n${measured.stdoutTail}`,
      );
    }
    blocks.push({
      handler,
      measured,
      created,
      datagrams: setup.xray.datagrams - datagrams,
      statuses: Object.fromEntries(
        Object.entries(after.statuses).map(([status, n]) => [status, n - (before.statuses[status] ?? 0)]),
      ),
    });
  }
  const resultOf = (handler: Handler): WarmHandlerResult => {
    const mine = blocks.filter((block) => block.handler === handler);
    const [first] = mine;
    if (!first) throw new Error(`the ${handler} handler was not measured`);
    const { wallMs: _wall, cpuUs: _cpu, ...rest } = first.measured.result;
    const wallMs = mine.flatMap((block) => block.measured.result.wallMs);
    const cpuUs = mine.flatMap((block) => block.measured.result.cpuUs);
    const invocations = mine.reduce((sum, block) => sum + block.created, 0);
    const loopMs = mine.reduce((sum, block) => sum + block.measured.result.loopMs, 0);
    const statuses: Record<string, number> = {};
    for (const block of mine)
      for (const [status, n] of Object.entries(block.statuses))
        statuses[status] = (statuses[status] ?? 0) + n;
    return {
      ...rest,
      iterations: wallMs.length,
      loopMs,
      returnedEvent: mine.reduce((sum, block) => sum + block.measured.result.returnedEvent, 0),
      // Memory: the first block's process (every block is a process of its own).
      wallMs: summarize(wallMs),
      cpuUs: summarize(cpuUs),
      invocationsPerSecond: (wallMs.length / loopMs) * 1000,
      logBytesPerInvocation: mine.reduce((sum, block) => sum + block.measured.stdoutBytes, 0) / invocations,
      logLinesPerInvocation: mine.reduce((sum, block) => sum + block.measured.stdoutLines, 0) / invocations,
      xrayDatagramsPerInvocation: mine.reduce((sum, block) => sum + block.datagrams, 0) / invocations,
      userServiceStatuses: statuses,
      rawWallMs: wallMs,
      rawCpuUs: cpuUs,
    };
  };
  return { baseline: resultOf('baseline'), shipped: resultOf('shipped') };
};
