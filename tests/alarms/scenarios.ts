// What on-call must be told, and when: a deployment's alarms, as rendered from template.yaml or as
// Terraform applied them, evaluated (evaluator.ts) over simulated days (traffic.ts) with the
// incidents below. Each outage shape of the User Service pages within 15 minutes; normal traffic,
// one failure at 3 a.m. and a 3-minute blip page nothing; each kind of silent loss pages its alarm.
//
// The datapoints of our functions are replayed from the real handlers' outcomes; those of AWS's
// services are scripted here as AWS documents them: SQS queue depths every minute while the queue
// is active (and none once it has been left alone for hours, with the messages still in it),
// Lambda's Throttles only when there are some, EventBridge's FailedInvocations only when not zero.
// Not scripted: Lambda's Duration and SQS's ApproximateAgeOfOldestMessage, so the p99 and
// oldest-message alarms see no data here (they are checked as definitions, in spec.ts).

import { expect, it } from 'vitest';
import type { Alarm } from '../iac/helpers/metrics.js';
import { alarmsOf, DEFAULT_RECONCILE, type Deployment, namesOf } from '../iac/helpers/spec.js';
import { type Datapoint, type Evaluation, evaluateAlarm, MetricStore } from './evaluator.js';
import { OUTAGE_SHAPES, type Recording, recordOutcomes, type Shape } from './recorder.js';
import {
  DAY,
  EPOCH,
  HOUR,
  MINUTE,
  schedule,
  simulateTraffic,
  TRAFFIC,
  TRANSIENT_EVERY,
  type Traffic,
} from './traffic.js';

export interface Scenario {
  name: string;
  points: Datapoint[];
  /** Evaluated every `stepMs` from `from` to `to`. */
  window: { from: number; to: number; stepMs: number };
  /** Alarms (by suffix) that must go to ALARM, no earlier than `after` and no later than `by`. */
  fires: Record<string, { after: number; by: number }>;
  /** Whether any other alarm may fire too (an outage may set off more than its own), or none may. */
  othersSilent: boolean;
  /** Alarms back to OK by then (their OK action tells on-call it is over). */
  okBy?: { at: number; alarms: string[] };
  /** Alarms still in ALARM at the end of the window. */
  stillAlarming?: string[];
}

/** The days every scenario lives through before its incident: daily alarms need their history. */
const BACKGROUND = { from: EPOCH, to: EPOCH + 4 * DAY + HOUR };
/** The day of the incidents. */
const D2 = EPOCH + 2 * DAY;

let recorded: Promise<Record<Shape, Recording>> | undefined;
/** The handlers' outcomes, recorded once a test file. */
export const recordingsOnce = () => {
  recorded ??= recordOutcomes(['healthy', ...OUTAGE_SHAPES]);
  return recorded;
};

/** A reconcile run completed at 03:20 each day in `days`. */
const completions = (d: Deployment, days: number[]): Datapoint[] =>
  days.map((day) => ({
    namespace: 'CognitoUserSync',
    name: 'ReconcileRunCompleted',
    dimensions: { service: d.prefix },
    timestamp: EPOCH + day * DAY + 3 * HOUR + 20 * MINUTE,
    value: 1,
  }));

/** A metric of AWS's every minute from `from` to `to`, at `value`. */
const everyMinute = (
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
  from: number,
  to: number,
  value: number,
): Datapoint[] => {
  const points: Datapoint[] = [];
  for (let t = from; t < to; t += MINUTE) points.push({ namespace, name, dimensions, timestamp: t, value });
  return points;
};

export const scenariosOf = (d: Deployment, recordings: Record<Shape, Recording>): Scenario[] => {
  const names = namesOf(d.prefix);
  const traffic = (options: Partial<Traffic> = {}) =>
    simulateTraffic(d.prefix, recordings, {
      ...BACKGROUND,
      failsOnce: (_t, n) => n % TRANSIENT_EVERY === TRANSIENT_EVERY - 1,
      ...options,
    });
  const daily = completions(d, [0, 1, 2, 3]);
  const background = (options: Partial<Traffic> = {}) => [...traffic(options), ...daily];
  const overdue = (d.reconcile ? d.reconcile.overdueDays : undefined) ?? DEFAULT_RECONCILE.overdueDays;

  const outageAt = D2 + 14 * HOUR + 2 * MINUTE + 40 * 1000; // not on a period's boundary
  const outageEnds = outageAt + 45 * MINUTE;
  const outages = OUTAGE_SHAPES.map(
    (shape): Scenario => ({
      name: `a User Service outage (${shape}) at 14:02:40, at a sign-up a minute and a change every two`,
      points: background({ serviceAt: (t) => (t >= outageAt && t < outageEnds ? shape : 'healthy') }),
      window: { from: outageAt - HOUR, to: outageEnds + HOUR, stepMs: MINUTE },
      fires: {
        'sign-ups-not-synced': { after: outageAt, by: outageAt + 15 * MINUTE },
        'retries-failing': { after: outageAt, by: outageAt + 15 * MINUTE },
        'user-changes-failing': { after: outageAt, by: outageAt + 15 * MINUTE },
      },
      othersSilent: false,
      okBy: {
        at: outageEnds + 15 * MINUTE,
        alarms: ['sign-ups-not-synced', 'retries-failing', 'user-changes-failing'],
      },
    }),
  );

  // At night: a sign-up every 15 minutes, a change every 30 minutes.
  const night = D2 + 3 * HOUR;
  const firstAfter = (times: number[], t: number) => times.find((time) => time >= t) ?? Number.NaN;
  const nightSignUp = firstAfter(schedule(BACKGROUND.from, BACKGROUND.to, TRAFFIC.signUps), night);
  const nightChange = firstAfter(schedule(BACKGROUND.from, BACKGROUND.to, TRAFFIC.changes, 30), night);
  const nightOutage: Scenario = {
    name: 'a User Service outage (5xx) at 3 a.m., at a sign-up every 15 minutes and a change every 30',
    points: background({ serviceAt: (t) => (t >= night && t < night + HOUR ? '5xx' : 'healthy') }),
    window: { from: night - HOUR, to: night + 2 * HOUR, stepMs: MINUTE },
    fires: {
      'retries-failing': { after: night, by: nightSignUp + 15 * MINUTE },
      'user-changes-failing': { after: night, by: nightChange + 15 * MINUTE },
    },
    othersSilent: false,
  };
  const quiet = (name: string, options: Partial<Traffic>): Scenario => ({
    name,
    points: background(options),
    window: { from: night - HOUR, to: night + 3 * HOUR, stepMs: MINUTE },
    fires: {},
    othersSilent: true,
  });

  const dlqs = [
    names.deadLetterQueue,
    ...(d.userChanges ? [names.changesDeadLetterQueue] : []),
    ...(d.reconcile ? [names.reconcileDeadLetterQueue] : []),
  ];
  const deadLettered = D2 + 14 * HOUR;
  const ruleFails = D2 + 14 * HOUR;
  const trailStops = D2 + 12 * HOUR;

  return [
    {
      name: 'two days of normal traffic, a transient failure every 50 sign-ups',
      points: background(),
      window: { from: EPOCH + DAY, to: EPOCH + 4 * DAY, stepMs: 5 * MINUTE },
      fires: {},
      othersSilent: true,
    },
    ...outages,
    nightOutage,
    quiet('one failure at 3 a.m.: a sign-up queued once, synced by its first retry', {
      failsOnce: (t) => t === nightSignUp,
    }),
    quiet('a 3-minute blip of the User Service at 3 a.m.', {
      serviceAt: (t) => (t >= night && t < night + 3 * MINUTE ? '5xx' : 'healthy'),
    }),
    {
      name: 'a message in each dead-letter queue, then the queue left alone for hours (SQS stops reporting it)',
      points: [
        ...background(),
        ...dlqs.flatMap((queue) => [
          ...everyMinute(
            'AWS/SQS',
            'ApproximateNumberOfMessagesVisible',
            { QueueName: queue },
            deadLettered - 6 * HOUR,
            deadLettered,
            0,
          ),
          ...everyMinute(
            'AWS/SQS',
            'ApproximateNumberOfMessagesVisible',
            { QueueName: queue },
            deadLettered,
            deadLettered + 6 * HOUR,
            1,
          ),
        ]),
      ],
      window: { from: deadLettered - HOUR, to: deadLettered + 9 * HOUR, stepMs: MINUTE },
      fires: Object.fromEntries(
        [
          'dead-letter-queue-not-empty',
          'changes-dead-letter-queue-not-empty',
          'reconcile-dead-letter-queue-not-empty',
        ].map((alarm) => [alarm, { after: deadLettered, by: deadLettered + 10 * MINUTE }]),
      ),
      othersSilent: true,
      stillAlarming: [
        'dead-letter-queue-not-empty',
        'changes-dead-letter-queue-not-empty',
        'reconcile-dead-letter-queue-not-empty',
      ],
    },
    {
      name: "the rule's deliveries to the changes queue failing (a KMS grant taken away) for half an hour",
      points: background({ ruleDelivers: (t) => t < ruleFails || t >= ruleFails + 30 * MINUTE }),
      window: { from: ruleFails - HOUR, to: ruleFails + 2 * HOUR, stepMs: MINUTE },
      fires: { 'user-changes-rule-failed-invocations': { after: ruleFails, by: ruleFails + 10 * MINUTE } },
      othersSilent: true,
    },
    {
      name: 'the trail stops logging at noon: sign-ups go on, no change event reaches the queue',
      points: background({ trailLogs: (t) => t < trailStops }),
      window: { from: trailStops - HOUR, to: EPOCH + 4 * DAY + 30 * MINUTE, stepMs: 5 * MINUTE },
      fires: { 'cognito-events-missing': { after: trailStops, by: EPOCH + 4 * DAY + 10 * MINUTE } },
      othersSilent: true,
    },
    {
      name: 'Lambda throttling the user-changes function for a quarter of an hour',
      points: [
        ...background(),
        ...everyMinute(
          'AWS/Lambda',
          'Throttles',
          { FunctionName: names.userChanges },
          ruleFails,
          ruleFails + 15 * MINUTE,
          3,
        ),
      ],
      window: { from: ruleFails - HOUR, to: ruleFails + 2 * HOUR, stepMs: MINUTE },
      fires: { 'user-changes-throttles': { after: ruleFails, by: ruleFails + 10 * MINUTE } },
      othersSilent: true,
    },
    {
      name: `reconcile runs that stop completing after day 1 (alarm after ${overdue} days without one)`,
      points: completions(d, [0, 1]),
      window: { from: EPOCH + DAY + 12 * HOUR, to: EPOCH + (2 + overdue) * DAY + HOUR, stepMs: 5 * MINUTE },
      fires: {
        'reconcile-runs-not-completing': {
          after: EPOCH + (2 + overdue) * DAY - 5 * MINUTE,
          by: EPOCH + (2 + overdue) * DAY + 10 * MINUTE,
        },
      },
      othersSilent: true,
    },
    {
      name: 'a pool of 40 million users: a 37-hour run every other day',
      points: [0, 2, 4, 6, 8].map((day) => ({
        namespace: 'CognitoUserSync',
        name: 'ReconcileRunCompleted',
        dimensions: { service: d.prefix },
        timestamp: EPOCH + day * DAY + 16 * HOUR,
        value: 1,
      })),
      window: { from: EPOCH + DAY, to: EPOCH + 9 * DAY, stepMs: 10 * MINUTE },
      fires: {},
      othersSilent: true,
    },
  ];
};

const stateAt = (evaluation: Evaluation, at: number) =>
  evaluation.changes.filter((change) => change.at <= at).at(-1)?.state ?? 'INSUFFICIENT_DATA';

const clock = (t: number) => {
  const days = Math.floor((t - EPOCH) / DAY);
  return `day ${days} ${new Date(t).toISOString().slice(11, 19)}`;
};

/** Evaluates the deployment's alarms over the scenario, and says what went against it. */
export const checkScenario = (alarms: readonly Alarm[], d: Deployment, scenario: Scenario): string[] => {
  const store = new MetricStore().add(scenario.points);
  const problems: string[] = [];
  for (const entry of alarmsOf(d)) {
    const alarm = alarms.find((candidate) => candidate.AlarmName === `${d.prefix}-${entry.suffix}`);
    if (!alarm) {
      problems.push(`${entry.suffix}: no such alarm`);
      continue;
    }
    const evaluation = evaluateAlarm(alarm, store, scenario.window);
    const expected = scenario.fires[entry.suffix];
    const fired = evaluation.firstAlarmAt;
    if (expected) {
      if (fired === undefined) problems.push(`${entry.suffix} did not fire`);
      else if (fired < expected.after || fired > expected.by) {
        problems.push(
          `${entry.suffix} fired at ${clock(fired)}, expected between ${clock(expected.after)} and ${clock(expected.by)}`,
        );
      }
    } else if (scenario.othersSilent && fired !== undefined) {
      problems.push(`${entry.suffix} fired at ${clock(fired)}, and should not have`);
    }
    if (scenario.okBy?.alarms.includes(entry.suffix) && stateAt(evaluation, scenario.okBy.at) !== 'OK') {
      problems.push(
        `${entry.suffix} is ${stateAt(evaluation, scenario.okBy.at)} at ${clock(scenario.okBy.at)}, not OK`,
      );
    }
    if (scenario.stillAlarming?.includes(entry.suffix) && evaluation.state !== 'ALARM') {
      problems.push(`${entry.suffix} is ${evaluation.state} at the end, not ALARM`);
    }
  }
  return problems;
};

/**
 * Registers the alarm-evaluation tests of a deployment: its alarms (read when the tests run) against
 * every scenario, in groups.
 */
export const itPagesOnCall = (
  alarmsOfDeployment: () => Promise<readonly Alarm[]> | readonly Alarm[],
  deployment: () => Deployment,
) => {
  const run = async (select: (scenario: Scenario) => boolean) => {
    const d = deployment();
    const alarms = await alarmsOfDeployment();
    const scenarios = scenariosOf(d, await recordingsOnce()).filter(select);
    expect(scenarios.length).toBeGreaterThan(0);
    const problems = scenarios.flatMap((scenario) =>
      checkScenario(alarms, d, scenario).map((problem) => `${scenario.name}: ${problem}`),
    );
    expect(problems).toEqual([]);
  };
  it('pages within 15 minutes of a User Service outage, whatever its shape (5xx, 401 after the refetch, refused, timeouts, 429), and stops paging once it is over', async () => {
    await run((scenario) => scenario.name.startsWith('a User Service outage'));
  }, 300_000);
  it('pages nothing in normal traffic, nor for one failure or a 3-minute blip at 3 a.m.', async () => {
    await run((scenario) => scenario.othersSilent && scenario.name.match(/normal traffic|3 a\.m\./) !== null);
  }, 300_000);
  it('pages on silent loss: dead letters (kept in ALARM after SQS stops reporting), failed deliveries, missing events, throttles, reconcile runs that stop', async () => {
    await run((scenario) =>
      /dead-letter|rule's|trail|throttling|reconcile runs|40 million/.test(scenario.name),
    );
  }, 300_000);
};
