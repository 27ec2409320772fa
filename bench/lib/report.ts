// The report of a run: the budgets, the table printed at the end, and the two results files —
// every figure, raw samples included, for bench/.build/results-raw.json, and the summary that is
// committed as bench/results.json (medians, p99, ratios, budgets met or missed, machine, commit).

import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, relative } from 'node:path';
import type { BackfillResult } from '../phases/backfill.js';
import { ANSWER_SLACK_MS, type BurstResult, SCENARIOS } from '../phases/burst.js';
import type { ColdResult } from '../phases/cold.js';
import type { DeadlineResult } from '../phases/deadline.js';
import type { ProfileResult } from '../phases/profile.js';
import type { Sizes, ZipSize } from '../phases/size.js';
import type { WarmResult } from '../phases/warm.js';
import type { WorkerResult } from '../phases/worker.js';
import { ROOT } from './processes.js';
import { IDLE } from './profile.js';
import type { Handler } from './setup.js';
import { rounded, type Summary } from './stats.js';

/** Against the bare-fetch floor, measured as the nodejs22.x runtime loads a handler. */
export const BUDGET = {
  /** Every function zip in dist/. */
  zipKiB: 120,
  /** Import + first invocation (the secret fetched, tracing on), median, shipped / floor. */
  coldRatio: 1.8,
  /** RSS after the first invocation, median, shipped − floor. */
  memoryOverBaselineMiB: 6,
  warmMedianRatio: 2.2,
  warmP99Ratio: 2.5,
  /** Every deadline-adherence invocation returns within SYNC_DEADLINE_MS + this. */
  deadlineSlackMs: 50,
  backfillUsersPerSecond: 200,
};

const KIB = 1024;

/** What the run was asked to do. */
export interface BenchConfig {
  coldRuns: number;
  warmup: number;
  warmRuns: number;
  deadlines: number[];
  deadlineInvocations: number;
  messages: number;
  users: number;
  burstScale: number;
  burstScenarios: string[];
  phases: string[];
}

export interface PhaseResults {
  cold?: ColdResult;
  warm?: WarmResult;
  deadline?: DeadlineResult;
  worker?: WorkerResult;
  backfill?: BackfillResult;
  burst?: BurstResult;
  profile?: ProfileResult;
}

export interface BenchRun {
  startedAt: Date;
  finishedAt: Date;
  loadAverageAtStart: number[];
  node: { measured: string; measuredFlags: string[]; orchestrator: string; userService: string };
  config: BenchConfig;
  sizes: Sizes;
  results: PhaseResults;
  /** Phases that failed, and why. */
  errors: Record<string, string>;
}

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
class Table {
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

  toString(): string {
    return table(this.rows);
  }
}

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

const sizeRows = (out: Table, sizes: Sizes) => {
  const unzipped = ({ codeBytes, mapBytes }: ZipSize) => `${fmt(codeBytes / KIB)} + ${fmt(mapBytes / KIB)}`;
  for (const [name, size] of Object.entries(sizes.functions)) {
    const zipKiB = size.zipBytes / KIB;
    // The floor sits beside the function it stands for.
    const baseline = name === 'post-confirmation' ? sizes.baseline : undefined;
    out.check(
      { id: `zip-${name}`, label: `${name}.zip (KiB)`, value: zipKiB, limit: BUDGET.zipKiB },
      [fmt(zipKiB), baseline ? fmt(baseline.zipBytes / KIB) : '', ''],
      `≤ ${BUDGET.zipKiB}`,
    );
    out.row('  unzipped: code + maps (KiB)', unzipped(size), baseline ? unzipped(baseline) : '');
  }
};

const coldRows = (
  out: Table,
  { runs, shipped, baseline, shippedFirstInvocationTrace: trace }: ColdResult,
) => {
  out.checkRatio(
    { id: 'cold', label: `cold: import + 1st invocation, median of ${runs} (ms)` },
    shipped.coldMs.median,
    baseline.coldMs.median,
    BUDGET.coldRatio,
  );
  out.compare('  import (ms)', shipped.importMs.median, baseline.importMs.median);
  out.compare('  first invocation (ms)', shipped.firstInvocationMs.median, baseline.firstInvocationMs.median);
  out.row(
    '  CPU: import / first invocation (ms)',
    `${fmt(shipped.importCpuMs.median)} / ${fmt(shipped.firstInvocationCpuMs.median)}`,
    `${fmt(baseline.importCpuMs.median)} / ${fmt(baseline.firstInvocationCpuMs.median)}`,
  );
  out.row('  1st invocation: Secrets Manager (X-Ray, ms)', fmt(trace.secretsManagerMs));
  out.row('  1st invocation: User Service POST (X-Ray, ms)', fmt(trace.userServiceMs));
  out.row(
    '  p90 / max (ms)',
    `${fmt(shipped.coldMs.p90)} / ${fmt(shipped.coldMs.max)}`,
    `${fmt(baseline.coldMs.p90)} / ${fmt(baseline.coldMs.max)}`,
  );
  out.compare('  process spawn to exit (ms)', shipped.spawnToExitMs.median, baseline.spawnToExitMs.median);
  const overMiB = shipped.rssMiB.median - baseline.rssMiB.median;
  out.check(
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
};

const warmRows = (out: Table, { shipped, baseline }: WarmResult) => {
  out.checkRatio(
    { id: 'warm-median', label: `warm: median of ${shipped.iterations} (ms)` },
    shipped.wallMs.median,
    baseline.wallMs.median,
    BUDGET.warmMedianRatio,
    3,
  );
  out.checkRatio(
    { id: 'warm-p99', label: 'warm: p99 (ms)' },
    shipped.wallMs.p99,
    baseline.wallMs.p99,
    BUDGET.warmP99Ratio,
    3,
  );
  out.compare('warm: CPU per invocation, mean (µs)', shipped.cpuUs.mean, baseline.cpuUs.mean, 0);
  out.row(
    'warm: log output per invocation (bytes)',
    fmt(shipped.logBytesPerInvocation, 0),
    fmt(baseline.logBytesPerInvocation, 0),
  );
};

const deadlineRows = (out: Table, runs: DeadlineResult) => {
  for (const run of runs) {
    const limit = run.syncDeadlineMs + BUDGET.deadlineSlackMs;
    out.check(
      {
        id: `deadline-${run.syncDeadlineMs}`,
        label:
          `deadline ${run.syncDeadlineMs} ms, service never answers: max / median of ${run.invocations}, ` +
          `${run.queued} queued (ms)`,
        value: run.maxMs,
        limit,
      },
      [`${fmt(run.maxMs)} / ${fmt(run.medianMs)}`, '', ''],
      `≤ ${limit}`,
    );
  }
};

const workerRows = (out: Table, worker: WorkerResult) => {
  out.row(
    `retry worker: ${worker.deleted} messages (${worker.usersCreated} created), ` +
      'batches of 10, receive + invoke + delete (msg/s)',
    fmt(worker.messagesPerSecond),
  );
  out.row('  inside the handler only (msg/s)', fmt(worker.handlerMessagesPerSecond));
};

const backfillRows = (out: Table, backfill: BackfillResult) => {
  const { counts } = backfill.report;
  out.check(
    {
      id: 'backfill',
      label: `backfill: ${counts.seen} users (${counts.created} created), default concurrency (users/s)`,
      value: backfill.usersPerSecond,
      limit: BUDGET.backfillUsersPerSecond,
      kind: 'min',
    },
    [fmt(backfill.usersPerSecond), '', ''],
    `≥ ${BUDGET.backfillUsersPerSecond}`,
  );
};

const burstRows = (out: Table, { scenarios, syncDeadlineMs, timeScale }: BurstResult) => {
  const answerLimit = syncDeadlineMs + ANSWER_SLACK_MS;
  for (const figures of scenarios) {
    const scenario = SCENARIOS.find(({ id }) => id === figures.id);
    if (!scenario) continue;
    const { id } = figures;
    const { amplification: amp, duringOutage } = figures;
    const ampCells = `${fmt(amp.total, 2)} (${fmt(amp.trigger, 2)} + ${fmt(amp.worker, 2)})`;
    out.check(
      {
        id: `burst-${id}-amplification`,
        label:
          scenario.amplificationOf === 'outage'
            ? `burst ${id}: requests per user during the outage (trigger + worker)`
            : `burst ${id}: requests per user (trigger + worker)`,
        value: figures.budgetedAmplification,
        limit: scenario.amplificationBudget,
      },
      [
        duringOutage
          ? `${fmt(duringOutage.amplification, 2)} ((${duringOutage.trigger} + ${duringOutage.worker}) / ${duringOutage.users}); all ${ampCells}`
          : ampCells,
        '',
        '',
      ],
      `≤ ${scenario.amplificationBudget}`,
    );
    out.check(
      {
        id: `burst-${id}-p99`,
        label: `burst ${id}: Cognito's answer, p50 / p99 (ms)`,
        value: figures.cognitoMs.p99,
        limit: answerLimit,
      },
      [`${fmt(figures.cognitoMs.p50, 0)} / ${fmt(figures.cognitoMs.p99, 0)}`, '', ''],
      `p99 ≤ ${answerLimit}`,
    );
    const boundS = figures.scaled.boundS;
    out.check(
      {
        id: `burst-${id}-all-in`,
        label: `burst ${id}: every user in, after the ${duringOutage ? "outage's" : "burst's"} end (s, ÷ ${timeScale})`,
        value: figures.lastInAfterEndS ?? Number.POSITIVE_INFINITY,
        limit: boundS,
      },
      [
        figures.lastInAfterEndS === undefined
          ? `not all: ${figures.inService} of ${figures.scaled.users}`
          : fmt(figures.lastInAfterEndS, 1),
        '',
        '',
      ],
      `≤ ${fmt(boundS, 0)}`,
    );
    out.check(
      {
        id: `burst-${id}-lost-twice`,
        label: `burst ${id}: users lost / created twice`,
        value: figures.lost + figures.twice,
        limit: 0,
      },
      [`${figures.lost} / ${figures.twice}`, '', ''],
      '0 / 0',
    );
  }
};

/** One line per scenario, every figure the phase has. */
const burstTable = ({ scenarios, timeScale, containers, iac }: BurstResult): string => {
  const rows = [
    [
      'scenario',
      'users',
      'req/user: trigger + worker = all',
      'in outage',
      'Cognito p50 / p99 / max (ms)',
      'late',
      'all in after end (s)',
      'lost',
      'twice',
      'DLQ',
      'queued',
      'containers (max busy, waits)',
      'trigger statuses',
      'worker statuses',
    ],
    ...scenarios.map((figures) => [
      figures.id,
      String(figures.scaled.users),
      `${fmt(figures.amplification.trigger, 2)} + ${fmt(figures.amplification.worker, 2)} = ${fmt(figures.amplification.total, 2)}`,
      figures.duringOutage ? fmt(figures.duringOutage.amplification, 2) : '',
      `${fmt(figures.cognitoMs.p50, 0)} / ${fmt(figures.cognitoMs.p99, 0)} / ${fmt(figures.cognitoMs.max, 0)}`,
      String(figures.lateAnswers),
      figures.lastInAfterEndS === undefined ? 'not all' : fmt(figures.lastInAfterEndS, 1),
      String(figures.lost),
      String(figures.twice),
      String(figures.deadLettered),
      String(figures.queued),
      `${figures.containersUsed} (${figures.maxBusy}, ${figures.waitedForContainer})`,
      Object.entries(figures.statuses.trigger)
        .map(([status, n]) => `${status}:${n}`)
        .join(' '),
      Object.entries(figures.statuses.worker)
        .map(([status, n]) => `${status}:${n}`)
        .join(' '),
    ]),
  ];
  return [
    `Burst (issue 22): every duration ÷ ${timeScale} (bursts, outage, the retry queue's delay and visibility, the worker's ` +
      `backoff schedule, the 10-minute bound); rates, answer times, Retry-After and deadlines as they are. ` +
      `Up to ${containers} post-confirmation containers; the retry worker at its template.yaml defaults ` +
      `(BatchSize ${iac.batchSize}, MaximumConcurrency ${iac.maximumConcurrency}, DelaySeconds ${iac.delaySeconds}, ` +
      `VisibilityTimeout ${iac.visibilityTimeoutSeconds}, maxReceiveCount ${iac.maxReceiveCount}).`,
    '',
    table(rows),
  ].join('\n');
};

const budgetTable = ({ config, sizes, results }: BenchRun): Table => {
  const out = new Table();
  if (config.phases.includes('size')) sizeRows(out, sizes);
  if (results.cold) coldRows(out, results.cold);
  if (results.warm) warmRows(out, results.warm);
  if (results.deadline) deadlineRows(out, results.deadline);
  if (results.worker) workerRows(out, results.worker);
  if (results.backfill) backfillRows(out, results.backfill);
  if (results.burst) burstRows(out, results.burst);
  return out;
};

const profileTable = (result: ProfileResult): string => {
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
  const cells = (group: string) => [
    group,
    fmt(cold('shipped', group)),
    fmt(cold('baseline', group)),
    fmt(warmUs('shipped', group), 0),
    fmt(warmUs('baseline', group), 0),
  ];
  return [
    `Where the CPU goes (--profile: self time by package from --cpu-prof at 100 µs, in separate runs; ` +
      `cold = import + 1st invocation, mean of ${result.coldRuns}; warm = per invocation over ${result.warmRuns})`,
    '',
    table([
      ['group', 'cold shipped (ms)', 'cold baseline (ms)', 'warm shipped (µs)', 'warm baseline (µs)'],
      ...shown.map(cells),
      cells(IDLE),
      ['window (wall)', fmt(result.shipped.cold.windowMs), fmt(result.baseline.cold.windowMs), '', ''],
    ]),
    `Profiles: ${result.profiles} (open in Chrome DevTools or speedscope).`,
  ].join('\n');
};

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

/** The commit measured, and how many files differ from it; 'unknown' outside a git work tree. */
const git = () => {
  const run = (args: string[]) =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = run(['rev-parse', '--short', 'HEAD']).trim();
    // Read-only: status would otherwise refresh the index, under a lock others may hold.
    const changed = run(['--no-optional-locks', 'status', '--porcelain']).split('\n').filter(Boolean).length;
    return { commit, uncommittedChanges: changed };
  } catch {
    return { commit: 'unknown', uncommittedChanges: 0 };
  }
};

// ---------------------------------------------------------------------------------------------
// The summary: what a reader compares between two commits, and nothing a machine's paths or the
// raw samples would bloat.

const ratio = (shipped: number, baseline: number) => shipped / baseline;

const sizeSummary = ({ zipBytes, codeBytes, mapBytes, files }: ZipSize) => ({
  zipKiB: zipBytes / KIB,
  codeKiB: codeBytes / KIB,
  mapKiB: mapBytes / KIB,
  files: Object.keys(files).length,
});

const coldSummary = ({ runs, shipped, baseline, shippedFirstInvocationTrace }: ColdResult) => {
  const medians = (figures: ColdResult[Handler]) => ({
    coldMs: figures.coldMs.median,
    coldP90Ms: figures.coldMs.p90,
    coldMaxMs: figures.coldMs.max,
    importMs: figures.importMs.median,
    firstInvocationMs: figures.firstInvocationMs.median,
    importCpuMs: figures.importCpuMs.median,
    firstInvocationCpuMs: figures.firstInvocationCpuMs.median,
    spawnToExitMs: figures.spawnToExitMs.median,
    rssMiB: figures.rssMiB.median,
    heapUsedMiB: figures.heapUsedMiB.median,
    logBytesPerInvocation: figures.logBytesPerInvocation,
  });
  return {
    runs,
    shipped: medians(shipped),
    baseline: medians(baseline),
    ratio: ratio(shipped.coldMs.median, baseline.coldMs.median),
    rssOverBaselineMiB: shipped.rssMiB.median - baseline.rssMiB.median,
    shippedFirstInvocationTrace,
  };
};

const warmSummary = ({ shipped, baseline }: WarmResult) => {
  const figures = (result: WarmResult[Handler]) => ({
    medianMs: result.wallMs.median,
    p99Ms: result.wallMs.p99,
    meanMs: result.wallMs.mean,
    maxMs: result.wallMs.max,
    cpuMedianUs: result.cpuUs.median,
    cpuMeanUs: result.cpuUs.mean,
    invocationsPerSecond: result.invocationsPerSecond,
    rssAfterFirstMiB: result.rssAfterFirstMiB,
    rssAfterLoopMiB: result.rssAfterLoopMiB,
    logBytesPerInvocation: result.logBytesPerInvocation,
    xrayDatagramsPerInvocation: result.xrayDatagramsPerInvocation,
  });
  const of = (pick: (summary: Summary) => number, key: 'wallMs' | 'cpuUs' = 'wallMs') =>
    ratio(pick(shipped[key]), pick(baseline[key]));
  return {
    runs: shipped.iterations,
    warmup: shipped.warmup,
    shipped: figures(shipped),
    baseline: figures(baseline),
    ratios: {
      median: of((summary) => summary.median),
      p99: of((summary) => summary.p99),
      cpuMean: of((summary) => summary.mean, 'cpuUs'),
    },
  };
};

/** What both files open with. */
const headOf = (run: BenchRun, commit: ReturnType<typeof git>, budgets: Budget[]) => ({
  date: run.finishedAt.toISOString(),
  durationS: (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000,
  git: commit,
  machine: machine(run.loadAverageAtStart),
  node: run.node,
  config: run.config,
  budgetsMet: `${budgets.filter((budget) => budget.pass).length} of ${budgets.length}`,
  budgets,
});

const summaryOf = (run: BenchRun, head: ReturnType<typeof headOf>, rawPath: string) => {
  const { cold, warm, deadline, worker, backfill, burst, profile } = run.results;
  return {
    ...head,
    ...(run.config.phases.includes('size') && {
      size: {
        ...Object.fromEntries(
          Object.entries(run.sizes.functions).map(([name, size]) => [name, sizeSummary(size)]),
        ),
        baseline: sizeSummary(run.sizes.baseline),
      },
    }),
    ...(cold && { cold: coldSummary(cold) }),
    ...(warm && { warm: warmSummary(warm) }),
    ...(deadline && {
      deadline: deadline.map(({ elapsedMs: _, ...figures }) => ({
        ...figures,
        limitMs: figures.syncDeadlineMs + BUDGET.deadlineSlackMs,
      })),
    }),
    ...(worker && {
      worker: {
        messages: worker.messages,
        deleted: worker.deleted,
        failed: worker.failed,
        batches: worker.batches,
        messagesPerSecond: worker.messagesPerSecond,
        handlerMessagesPerSecond: worker.handlerMessagesPerSecond,
      },
    }),
    ...(backfill && {
      backfill: {
        users: backfill.users,
        usersPerSecond: backfill.usersPerSecond,
        durationMs: backfill.report.durationMs,
        pages: backfill.report.pages,
        counts: backfill.report.counts,
      },
    }),
    ...(burst && {
      burst: {
        timeScale: burst.timeScale,
        containers: burst.containers,
        iac: burst.iac,
        loadAverages: burst.loadAverages,
        scenarios: burst.scenarios,
      },
    }),
    ...(profile && { profile }),
    ...(Object.keys(run.errors).length > 0 && { errors: run.errors }),
    raw: rawPath,
  };
};

// Arrays of numbers (raw samples, load averages) on one line each: thousands of lines otherwise.
const json = (value: unknown) =>
  `${JSON.stringify(rounded(value), null, 2).replace(
    /\[\s*(-?\d[\d.e+\-,\s]*?)\s*\]/g,
    (_, list: string) => `[${list.replace(/\s+/g, '')}]`,
  )}\n`;

const writeJson = async (path: string, value: unknown) => {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, json(value));
};

/**
 * Prints the table (and the profile's, when there is one), writes the summary to `summaryPath`
 * and every figure to `rawPath` (absolute paths both); returns how many budgets were met.
 */
export const report = async (
  run: BenchRun,
  { summaryPath, rawPath }: { summaryPath: string; rawPath: string },
): Promise<{ met: number; budgets: number }> => {
  const out = budgetTable(run);
  const { budgets } = out;
  const commit = git();
  const header = [
    `cognito-user-sync benchmark, ${run.finishedAt.toISOString()}`,
    `Measured handlers ran under Node ${run.node.measured} (npx node@22), Lambda-like: nodejs22.x environment, ` +
      `the runtime's built-ins (node:http, node:assert…) loaded first, tracing on, ${run.node.measuredFlags.join(' ')}, ` +
      'no NODE_OPTIONS (no --enable-source-maps).',
    `Orchestrator: Node ${run.node.orchestrator}. User Service: the dev User Service, own process ` +
      `(Node ${run.node.userService}), keep-alive. AWS: moto on loopback, plain HTTP (no TLS).`,
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.type()} ${os.release()}, ` +
      `load average ${run.loadAverageAtStart[0]?.toFixed(2)} at start, ${os.loadavg()[0]?.toFixed(2)} at end. ` +
      `Commit ${commit.commit}${commit.uncommittedChanges ? ` + ${commit.uncommittedChanges} uncommitted changes` : ''}.`,
  ];
  const met = budgets.filter((budget) => budget.pass).length;
  const failed = Object.keys(run.errors);
  const verdict = `Budgets met: ${met} of ${budgets.length}.${failed.length ? ` Phases failed: ${failed.join(', ')}.` : ''}`;
  console.log(`\n${header.join('\n')}\n\n${out}\n\n${verdict}`);
  if (run.results.burst) console.log(`\n${burstTable(run.results.burst)}`);
  if (run.results.profile) console.log(`\n${profileTable(run.results.profile)}`);

  const head = headOf(run, commit, budgets);
  // Relative to the package's root: the summary is committed, and a machine's paths have no place in it.
  await writeJson(summaryPath, summaryOf(run, head, relative(ROOT, rawPath)));
  await writeJson(rawPath, {
    ...head,
    sizes: run.sizes,
    ...run.results,
    ...(failed.length > 0 && { errors: run.errors }),
  });
  return { met, budgets: budgets.length };
};
