// Burst (issue 22, launch day): the shipped post-confirmation and retry-worker zips, scaled as
// Lambda scales them, against a User Service with a capacity, in the five scenarios of the issue.
// Each scenario runs in its own Node 22 process (bench/lib/burst-host.ts); this file says what the
// scenarios are, how they are scaled, and what their figures come to.
//
// Scaling (bench/README.md): the machine has two cores, and a scenario's horizon (S4's five
// minutes, the worker's backoff schedule of minutes to hours, the 10-minute bound) would not fit a
// benchmark. Every duration is divided by `timeScale` (5 by default): the length of a burst, an
// outage's start and end, the retry queue's DelaySeconds and VisibilityTimeout, every
// ChangeMessageVisibility (hence the worker's backoff schedule) and the 10-minute bound. The rates
// are not: sign-ups a second, the service's requests a second (so their ratio is the issue's), its
// answer time, Retry-After, the trigger's deadline and backoff, the worker's Cognito pace and its
// Lambda timeout stay in real time, as the code under test runs them. A scenario thus has
// 1/timeScale of the sign-ups.

import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { isRecord } from '../../src/guards.js';
import type { HostConfig, HostReport } from '../lib/burst-host.js';
import { lambdaEnv, ROOT, runMeasured } from '../lib/processes.js';
import { progress } from '../lib/progress.js';
import { API_KEY, HANDLER_ZIP, POWERTOOLS, type Setup, taskRoot, WORKER_ZIP } from '../lib/setup.js';
import { percentile } from '../lib/stats.js';

const HOST = join(ROOT, 'bench/lib/burst-host.ts');

/** SYNC_DEADLINE_MS's default: the trigger runs with it. */
export const SYNC_DEADLINE_MS = 3500;
/** Cognito's p99 budget: the deadline and this. */
export const ANSWER_SLACK_MS = 50;
/** Every user in the service within this of the burst's (or the outage's) end, before scaling. */
export const BOUND_S = 600;
/** Post-confirmation containers at most (Lambda would scale further; the issue asks for 50). */
export const CONTAINERS = 50;

/** A scenario as the issue gives it, before scaling. */
export interface Scenario {
  id: string;
  title: string;
  signUps: number;
  overSeconds: number;
  capacityRps: number;
  /** The Retry-After of a 429 beyond capacity; none when undefined. */
  retryAfter: string | undefined;
  latencyMs: number;
  /** 503 from `fromS` to `toS` of the scenario. */
  outage?: { fromS: number; toS: number };
  /** Requests per user: overall, or (S4) of the users who signed up during the outage. */
  amplificationBudget: number;
  /** What the amplification budget counts. */
  amplificationOf: 'all' | 'outage';
}

export const SCENARIOS: Scenario[] = [
  {
    id: 'S1',
    title: 'room to spare: 100 req/s, 2000 sign-ups over 60 s',
    signUps: 2000,
    overSeconds: 60,
    capacityRps: 100,
    retryAfter: '1',
    latencyMs: 0,
    amplificationBudget: 1.05,
    amplificationOf: 'all',
  },
  {
    id: 'S2',
    title: 'twice overloaded: 50 req/s, 429 + Retry-After: 1 beyond; 2000 over 20 s',
    signUps: 2000,
    overSeconds: 20,
    capacityRps: 50,
    retryAfter: '1',
    latencyMs: 0,
    amplificationBudget: 1.7,
    amplificationOf: 'all',
  },
  {
    id: 'S3',
    title: 'as S2, the 429s without Retry-After',
    signUps: 2000,
    overSeconds: 20,
    capacityRps: 50,
    retryAfter: undefined,
    latencyMs: 0,
    amplificationBudget: 1.7,
    amplificationOf: 'all',
  },
  {
    id: 'S4',
    title: 'outage: 33 sign-ups/s for 5 min, 503 for 2 min of it (1:30–3:30), 100 req/s otherwise',
    signUps: 9900,
    overSeconds: 300,
    capacityRps: 100,
    retryAfter: '1',
    latencyMs: 0,
    outage: { fromS: 90, toS: 210 },
    amplificationBudget: 1.3,
    amplificationOf: 'outage',
  },
  {
    // 20 a second, not S1's 33: at 2 s an answer, 33 a second keeps 66 invocations busy, more
    // than the 50 containers the phase scales to.
    id: 'S5',
    title: 'slow but healthy: every answer takes 2 s; 100 req/s, 2000 sign-ups over 100 s',
    signUps: 2000,
    overSeconds: 100,
    capacityRps: 100,
    retryAfter: '1',
    latencyMs: 2000,
    amplificationBudget: 1.05,
    amplificationOf: 'all',
  },
];

/** The retry worker's event source and queue as deployed by default, read from template.yaml. */
export interface IacDefaults {
  batchSize: number;
  maximumConcurrency: number;
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  maxReceiveCount: number;
}

const block = (template: string, name: string): string => {
  const start = template.search(new RegExp(`^  ${name}:\\s*$`, 'm'));
  if (start < 0) throw new Error(`template.yaml has no ${name}`);
  const rest = template.slice(start + 1);
  const end = rest.search(/^ {2}\S/m);
  return end < 0 ? rest : rest.slice(0, end);
};

const numberIn = (text: string, key: string, where: string): number => {
  const match = new RegExp(`^\\s+${key}: (\\d+)\\s*$`, 'm').exec(text);
  if (!match?.[1]) throw new Error(`template.yaml: no ${key} in ${where}`);
  return Number(match[1]);
};

export const readIacDefaults = async (): Promise<IacDefaults> => {
  const template = await readFile(join(ROOT, 'template.yaml'), 'utf8');
  const worker = block(template, 'RetryWorkerFunction');
  const queue = block(template, 'RetryQueue');
  if (!/MaximumConcurrency: !Ref RetryWorkerMaximumConcurrency/.test(worker)) {
    throw new Error('template.yaml: the retry worker no longer takes RetryWorkerMaximumConcurrency');
  }
  if (/MaximumBatchingWindowInSeconds/.test(worker)) {
    throw new Error('template.yaml: the retry worker has a batching window, which the phase does not model');
  }
  return {
    batchSize: numberIn(worker, 'BatchSize', 'RetryWorkerFunction'),
    maximumConcurrency: numberIn(
      block(template, 'RetryWorkerMaximumConcurrency'),
      'Default',
      'the parameter',
    ),
    visibilityTimeoutSeconds: numberIn(queue, 'VisibilityTimeout', 'RetryQueue'),
    delaySeconds: numberIn(queue, 'DelaySeconds', 'RetryQueue'),
    maxReceiveCount: numberIn(block(template, 'MaxReceiveCount'), 'Default', 'the parameter'),
  };
};

/** A scenario as run: scaled. */
export interface ScaledScenario {
  users: number;
  arrivalsPerSecond: number;
  burstS: number;
  outage?: { fromS: number; toS: number };
  /** From the start, when the bound starts counting: the burst's end, or the outage's. */
  endS: number;
  boundS: number;
}

export const scale = (scenario: Scenario, timeScale: number): ScaledScenario => ({
  users: Math.round(scenario.signUps / timeScale),
  arrivalsPerSecond: scenario.signUps / scenario.overSeconds,
  burstS: scenario.overSeconds / timeScale,
  ...(scenario.outage && {
    outage: { fromS: scenario.outage.fromS / timeScale, toS: scenario.outage.toS / timeScale },
  }),
  endS: (scenario.outage?.toS ?? scenario.overSeconds) / timeScale,
  boundS: BOUND_S / timeScale,
});

export interface ScenarioFigures {
  id: string;
  title: string;
  scaled: ScaledScenario;
  requests: { trigger: number; worker: number };
  amplification: { trigger: number; worker: number; total: number };
  /** S4: of the users who signed up during the outage, and the requests that reached the service then. */
  duringOutage?: { users: number; trigger: number; worker: number; amplification: number };
  /** The amplification the budget reads. */
  budgetedAmplification: number;
  statuses: { trigger: Record<string, number>; worker: Record<string, number> };
  /** Time until Cognito got its answer, from the sign-up (a wait for a container included), ms. */
  cognitoMs: { p50: number; p99: number; max: number };
  /** Answers later than the deadline + slack, and later than Cognito's 5 s (it would have retried). */
  lateAnswers: number;
  over5s: number;
  notReturned: number;
  /** When the last user got in, after the burst's (outage's) end, in real seconds; undefined when not all did. */
  lastInAfterEndS: number | undefined;
  inService: number;
  lost: number;
  twice: number;
  deadLettered: number;
  stillQueued: number;
  containersUsed: number;
  maxBusy: number;
  waitedForContainer: number;
  worker: {
    batches: number;
    records: number;
    reportedFailures: number;
    deletes: number;
    functionErrors: number;
  };
  queued: number;
  stoppedBecause: HostReport['stoppedBecause'];
  durationS: number;
}

export interface BurstResult {
  timeScale: number;
  containers: number;
  syncDeadlineMs: number;
  iac: IacDefaults;
  scenarios: ScenarioFigures[];
  loadAverages: Record<string, number[]>;
  raw: Record<string, HostReport>;
}

const countBy = <T>(items: T[], key: (item: T) => string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

export const figuresOf = (
  scenario: Scenario,
  scaled: ScaledScenario,
  report: HostReport,
): ScenarioFigures => {
  const { requests } = report.service;
  const bySource = (source: string) => requests.filter(([, from]) => from === source);
  const trigger = bySource('trigger');
  const worker = bySource('worker');
  const users = scaled.users;
  const created = new Map(report.service.users.map(([sub, creates, at]) => [sub, { creates, at }]));
  const onQueue = new Set(report.queues.retry.left);
  const deadLettered = new Set(report.queues.deadLetter.subs);
  const subs = report.invocations.map(([sub]) => sub);
  const answerMs = report.invocations.map(([, arrivalAt, , doneAt]) => doneAt - arrivalAt);
  const allIn = subs.length === users && subs.every((sub) => created.has(sub));
  const lastIn = Math.max(...[...created.values()].map(({ at }) => at));

  let duringOutage: ScenarioFigures['duringOutage'];
  if (scaled.outage) {
    const from = report.t0 + scaled.outage.fromS * 1000;
    const to = report.t0 + scaled.outage.toS * 1000;
    const within = (at: number) => at >= from && at < to;
    const outageUsers = report.invocations.filter(([, arrivalAt]) => within(arrivalAt)).length;
    const t = trigger.filter(([at]) => within(at)).length;
    const w = worker.filter(([at]) => within(at)).length;
    duringOutage = { users: outageUsers, trigger: t, worker: w, amplification: (t + w) / outageUsers };
  }
  const amplification = {
    trigger: trigger.length / users,
    worker: worker.length / users,
    total: requests.length / users,
  };
  return {
    id: scenario.id,
    title: scenario.title,
    scaled,
    requests: { trigger: trigger.length, worker: worker.length },
    amplification,
    ...(duringOutage && { duringOutage }),
    budgetedAmplification:
      scenario.amplificationOf === 'outage'
        ? (duringOutage?.amplification ?? Number.NaN)
        : amplification.total,
    statuses: {
      trigger: countBy(trigger, ([, , status]) => String(status)),
      worker: countBy(worker, ([, , status]) => String(status)),
    },
    cognitoMs: {
      p50: percentile(answerMs, 50),
      p99: percentile(answerMs, 99),
      max: percentile(answerMs, 100),
    },
    lateAnswers: answerMs.filter((ms) => ms > SYNC_DEADLINE_MS + ANSWER_SLACK_MS).length,
    over5s: answerMs.filter((ms) => ms > 5000).length,
    notReturned: report.invocations.filter(([, , , , , returned]) => returned !== 1).length,
    // Every user in before the end counts as in at the end: no time after it (nor a -0.0).
    lastInAfterEndS: allIn ? Math.max(0, (lastIn - report.endAt) / 1000) : undefined,
    inService: subs.filter((sub) => created.has(sub)).length,
    lost: subs.filter((sub) => !created.has(sub) && !onQueue.has(sub) && !deadLettered.has(sub)).length,
    twice: [...created.values()].filter(({ creates }) => creates > 1).length,
    deadLettered: subs.filter((sub) => !created.has(sub) && deadLettered.has(sub)).length,
    stillQueued: subs.filter((sub) => !created.has(sub) && onQueue.has(sub)).length,
    containersUsed: report.containersUsed,
    maxBusy: report.maxBusy,
    waitedForContainer: report.waitedForContainer,
    worker: {
      batches: report.esm.batches,
      records: report.esm.records,
      reportedFailures: report.esm.reportedFailures,
      deletes: report.esm.deletes,
      functionErrors: report.esm.functionErrors.length,
    },
    queued: report.queues.retry.sends,
    stoppedBecause: report.stoppedBecause,
    durationS: (report.finishedAt - report.t0) / 1000,
  };
};

const readTemplates = async () => {
  const event: unknown = JSON.parse(
    await readFile(join(ROOT, 'events/post-confirmation-signup.json'), 'utf8'),
  );
  const sqs: unknown = JSON.parse(await readFile(join(ROOT, 'events/sqs-retry-message.json'), 'utf8'));
  const record = isRecord(sqs) && Array.isArray(sqs.Records) ? sqs.Records[0] : undefined;
  if (!isRecord(event) || !isRecord(record)) throw new Error('events/: no sign-up event or SQS record');
  return { event: event as HostConfig['event'], record };
};

export const burst = async (
  setup: Setup,
  { timeScale, only }: { timeScale: number; only: string[] },
): Promise<BurstResult> => {
  const iac = await readIacDefaults();
  const { event, record } = await readTemplates();
  const placeholders = { xrayDaemon: '127.0.0.1:2000', awsEndpoint: 'http://127.0.0.1:1' };
  const env = {
    trigger: lambdaEnv(
      {
        ...placeholders,
        functionName: 'cognito-user-sync-post-confirmation',
        taskRoot: taskRoot(HANDLER_ZIP.shipped),
      },
      { ...POWERTOOLS },
    ),
    worker: lambdaEnv(
      { ...placeholders, functionName: 'cognito-user-sync-retry-worker', taskRoot: taskRoot(WORKER_ZIP) },
      { ...POWERTOOLS },
    ),
  };
  const scenarios: ScenarioFigures[] = [];
  const raw: Record<string, HostReport> = {};
  const loadAverages: Record<string, number[]> = {};
  for (const scenario of SCENARIOS.filter(({ id }) => only.includes(id))) {
    const scaled = scale(scenario, timeScale);
    const config: HostConfig = {
      scenario: scenario.id,
      timeScale,
      users: scaled.users,
      arrivalsPerSecond: scaled.arrivalsPerSecond,
      containers: CONTAINERS,
      service: {
        capacityRps: scenario.capacityRps,
        bucketSeconds: 0.2,
        retryAfter: scenario.retryAfter,
        latencyMs: scenario.latencyMs,
        outage: scaled.outage && { fromMs: scaled.outage.fromS * 1000, toMs: scaled.outage.toS * 1000 },
      },
      esm: { batchSize: iac.batchSize, maximumConcurrency: iac.maximumConcurrency },
      retryQueue: {
        delaySeconds: iac.delaySeconds,
        visibilityTimeoutSeconds: iac.visibilityTimeoutSeconds,
        maxReceiveCount: iac.maxReceiveCount,
      },
      endMs: scaled.endS * 1000,
      boundMs: scaled.boundS * 1000,
      taskRoots: { trigger: taskRoot(HANDLER_ZIP.shipped), worker: taskRoot(WORKER_ZIP) },
      env,
      event,
      record,
      apiKey: API_KEY,
    };
    progress(
      `burst ${scenario.id}: ${scaled.users} sign-ups at ${scaled.arrivalsPerSecond.toFixed(1)}/s over ` +
        `${scaled.burstS} s, ${scenario.capacityRps} req/s (durations ÷ ${timeScale})`,
    );
    const loadBefore = os.loadavg()[0] ?? Number.NaN;
    const measured = await runMeasured<HostReport>(setup.node22.path, HOST, {
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', BENCH_BURST: JSON.stringify(config) },
      cwd: ROOT,
      nodeFlags: ['--import', 'tsx'],
      onStderr: (chunk) => process.stderr.write(chunk),
    });
    loadAverages[scenario.id] = [loadBefore, os.loadavg()[0] ?? Number.NaN];
    const report = measured.result;
    if (report.invocations.length !== scaled.users) {
      throw new Error(`${scenario.id}: ${report.invocations.length} of ${scaled.users} sign-ups answered`);
    }
    raw[scenario.id] = report;
    const figures = figuresOf(scenario, scaled, report);
    scenarios.push(figures);
    progress(
      `burst ${scenario.id}: ${figures.amplification.total.toFixed(2)} requests/user ` +
        `(trigger ${figures.amplification.trigger.toFixed(2)}, worker ${figures.amplification.worker.toFixed(2)}), ` +
        `p99 ${figures.cognitoMs.p99.toFixed(0)} ms, ${figures.inService}/${scaled.users} in, ` +
        `${figures.lost} lost, ${figures.twice} twice (${report.stoppedBecause})`,
    );
  }
  return {
    timeScale,
    containers: CONTAINERS,
    syncDeadlineMs: SYNC_DEADLINE_MS,
    iac,
    scenarios,
    loadAverages,
    raw,
  };
};
