// The one outcome table: for each outcome and each function that reports it, the EMF metric and
// the log line operators see.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OUTCOMES, type Outcome, type OutcomeReport } from '../src/domain/outcomes.js';
import { MetricName } from '../src/metric-names.js';
import { metrics, OUTCOME_TABLE, type Reporter, recordOutcome } from '../src/observability.js';
import { type CapturedOutput, captureOutput } from './helpers/output.js';

interface Expected {
  level: 'INFO' | 'WARN' | 'ERROR';
  message: string;
  metric: Record<Reporter, MetricName | undefined>;
}

/** What operators see, written out by hand: a change to the table shows up here. */
const EXPECTED: Record<string, Expected> = {
  created: {
    level: 'INFO',
    message: 'User created in the User Service',
    metric: {
      'post-confirmation': MetricName.UserSynced,
      'retry-worker': MetricName.RetrySucceeded,
      'user-changes': MetricName.UserChangeCreated,
    },
  },
  exists: {
    level: 'INFO',
    message: 'User already in the User Service',
    metric: {
      'post-confirmation': MetricName.UserAlreadyExists,
      'retry-worker': MetricName.RetrySucceeded,
      'user-changes': undefined,
    },
  },
  updated: {
    level: 'INFO',
    message: 'User updated in the User Service',
    metric: {
      'post-confirmation': undefined,
      'retry-worker': undefined,
      'user-changes': MetricName.UserChangeUpdated,
    },
  },
  deleted: {
    level: 'INFO',
    message: 'User gone from the pool; deleted from the User Service',
    metric: {
      'post-confirmation': undefined,
      'retry-worker': undefined,
      'user-changes': MetricName.UserChangeDeleted,
    },
  },
  skipped: {
    level: 'INFO',
    message: 'Event skipped: nothing to sync',
    metric: {
      'post-confirmation': MetricName.UserSyncSkipped,
      'retry-worker': undefined,
      'user-changes': MetricName.UserChangeSkipped,
    },
  },
  queued: {
    level: 'WARN',
    message: 'User not synced now; queued for retry',
    metric: {
      'post-confirmation': MetricName.UserSyncQueued,
      'retry-worker': undefined,
      'user-changes': undefined,
    },
  },
  deferred: {
    level: 'WARN',
    message: 'User still not synced; retry deferred',
    metric: {
      'post-confirmation': undefined,
      'retry-worker': MetricName.RetryDeferred,
      'user-changes': MetricName.UserChangeDeferred,
    },
  },
  'dead-lettered': {
    level: 'ERROR',
    message: 'Message moved to the dead-letter queue; fix the cause, then replay it',
    metric: {
      'post-confirmation': undefined,
      'retry-worker': MetricName.RetryDeadLettered,
      'user-changes': MetricName.UserChangeDeadLettered,
    },
  },
  dropped: {
    level: 'ERROR',
    message: 'User not synced and not queued; run a backfill for this pool',
    metric: {
      'post-confirmation': MetricName.UserSyncDropped,
      'retry-worker': undefined,
      'user-changes': undefined,
    },
  },
  gone: {
    level: 'INFO',
    message: 'User gone from the pool; not created in the User Service',
    metric: {
      'post-confirmation': undefined,
      'retry-worker': MetricName.RetryUserGone,
      'user-changes': undefined,
    },
  },
  failed: {
    level: 'ERROR',
    message: 'User not synced',
    metric: { 'post-confirmation': undefined, 'retry-worker': undefined, 'user-changes': undefined },
  },
};

const REPORTERS: Reporter[] = ['post-confirmation', 'retry-worker', 'user-changes'];
const CASES = OUTCOMES.flatMap((outcome) => REPORTERS.map((reporter) => ({ outcome, reporter })));

const keys = { userPoolId: 'eu-west-1_Qx7Lm2Rt9', cognitoSub: '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13' };

interface MetricDefinition {
  Name: string;
  Unit: string;
}

/** The metrics an EMF blob declares, with their units. */
const definitions = (blob: Record<string, unknown>): MetricDefinition[] => {
  const aws = blob._aws as { CloudWatchMetrics: { Metrics: MetricDefinition[] }[] };
  return aws.CloudWatchMetrics.flatMap(({ Metrics }) => Metrics);
};
const declaredMetrics = (blob: Record<string, unknown>): string[] =>
  definitions(blob).map(({ Name }) => Name);
const unitOf = (blob: Record<string, unknown>, name: string): string | undefined =>
  definitions(blob).find((metric) => metric.Name === name)?.Unit;

const expectedFor = (outcome: Outcome): Expected => {
  const expected = EXPECTED[outcome];
  if (expected === undefined) throw new Error(`no expected row for the outcome ${outcome}: add one`);
  return expected;
};

describe('OUTCOME_TABLE', () => {
  it.each(OUTCOMES)('has a row for the outcome %s, with a level and a message', (outcome) => {
    const row = Object.hasOwn(OUTCOME_TABLE, outcome) ? OUTCOME_TABLE[outcome] : undefined;

    expect(row).toBeDefined();
    expect(['info', 'warn', 'error']).toContain(row?.level);
    expect(row?.message).toEqual(expect.any(String));
  });

  it('has a row for every outcome and none besides', () => {
    const outcomes = Object.keys(OUTCOME_TABLE);

    expect(outcomes.sort()).toEqual([...OUTCOMES].sort());
  });
});

describe('recordOutcome', () => {
  let output: CapturedOutput;

  beforeEach(() => {
    output = captureOutput();
  });

  afterEach(() => {
    output.restore();
  });

  /** Publishes what was recorded, as logMetrics does at the end of an invocation. */
  const publish = () => metrics.publishStoredMetrics();

  it.each(CASES)('$reporter, $outcome: counts its metric and logs its line', ({ outcome, reporter }) => {
    const expected = expectedFor(outcome);

    recordOutcome(reporter, { outcome }, keys);
    publish();

    const metric = expected.metric[reporter];
    const declared = output.emf().flatMap(declaredMetrics);
    expect(declared).toEqual(metric === undefined ? [] : [metric]);
    if (metric !== undefined) expect(output.metric(metric)).toEqual([1]);
    expect(output.logs()).toEqual([
      expect.objectContaining({ level: expected.level, message: expected.message, outcome, ...keys }),
    ]);
  });

  it('emits the latency of each attempt and the attempt count, besides the outcome', () => {
    const report: OutcomeReport = {
      outcome: 'queued',
      reason: 'http-503',
      httpStatus: 503,
      attempts: 3,
      attemptLatenciesMs: [120, 80, 95],
      durationMs: 640,
      queue: 'retry',
    };

    recordOutcome('post-confirmation', report, keys);
    publish();

    expect(output.metric(MetricName.UserServiceLatency)).toEqual([120, 80, 95]);
    expect(output.metric(MetricName.UserServiceAttempts)).toEqual([3]);
    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
    const [blob] = output.emf();
    expect(blob && unitOf(blob, MetricName.UserServiceLatency)).toBe('Milliseconds');
    expect(blob && unitOf(blob, MetricName.UserServiceAttempts)).toBe('Count');
    expect(blob && unitOf(blob, MetricName.UserSyncQueued)).toBe('Count');
  });

  it('emits no latency or attempt metric when no User Service call was made', () => {
    recordOutcome('post-confirmation', {
      outcome: 'dropped',
      reason: 'config-USER_SERVICE_URL',
      attempts: 0,
    });
    publish();

    expect(output.emf().flatMap(declaredMetrics)).toEqual([MetricName.UserSyncDropped]);
  });

  it('puts the keys and the report on the line, but not the latencies of each attempt', () => {
    recordOutcome(
      'retry-worker',
      {
        outcome: 'deferred',
        reason: 'timeout',
        attempts: 2,
        attemptLatenciesMs: [1500, 1500],
        durationMs: 3210,
        delaySeconds: 63,
        deferFailure: 'ReceiptHandleIsInvalid',
      },
      { ...keys, messageId: '059f36b4-87a3-44ab-83d2-661975830a7d', receiveCount: 1 },
    );
    publish();

    const [line] = output.logs();
    expect(line).toMatchObject({
      level: 'WARN',
      message: 'User still not synced; retry deferred',
      ...keys,
      messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
      receiveCount: 1,
      outcome: 'deferred',
      reason: 'timeout',
      attempts: 2,
      durationMs: 3210,
      delaySeconds: 63,
      deferFailure: 'ReceiptHandleIsInvalid',
    });
    expect(line).not.toHaveProperty('attemptLatenciesMs');
    expect(output.logs()).toHaveLength(1);
  });
});
