// The Powertools logger, metrics and tracer, created once and shared, and the one table that turns
// an outcome into its log line and EMF metrics, so every path reports alike.
//
// Never log: email, names, phone numbers, custom attributes, API keys, signing secrets or
// anything the User Service answered.

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Outcome, OutcomeReport, UserKeys } from './domain/outcomes.js';
import { describeError, failureCode } from './errors.js';
import { DEFAULT_NAMESPACE, DEFAULT_SERVICE_NAME, MetricName } from './metric-names.js';
import { stackFramesOf } from './stack-traces.js';

// Powertools gives its constructor options precedence over the environment; ours are only
// defaults, so the environment is consulted first.
const serviceName = process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME;

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_NAMESPACE,
});
export const tracer = new Tracer({ serviceName });

/** The functions that report outcomes; each has its own metric names. */
export type Reporter = 'post-confirmation' | 'retry-worker' | 'user-changes';

interface OutcomeLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  /** The count metric of this outcome, per reporter; none where the outcome cannot happen. */
  metric: Partial<Record<Reporter, MetricName>>;
}

/** Every outcome: its log line and, per function, its metric. */
export const OUTCOME_TABLE: Record<Outcome, OutcomeLine> = {
  created: {
    level: 'info',
    message: 'User created in the User Service',
    metric: {
      'post-confirmation': MetricName.UserSynced,
      'retry-worker': MetricName.RetrySucceeded,
      'user-changes': MetricName.UserChangeCreated,
    },
  },
  exists: {
    level: 'info',
    message: 'User already in the User Service',
    metric: { 'post-confirmation': MetricName.UserAlreadyExists, 'retry-worker': MetricName.RetrySucceeded },
  },
  updated: {
    level: 'info',
    message: 'User updated in the User Service',
    metric: { 'user-changes': MetricName.UserChangeUpdated },
  },
  deleted: {
    level: 'info',
    message: 'User gone from the pool; deleted from the User Service',
    metric: { 'user-changes': MetricName.UserChangeDeleted },
  },
  skipped: {
    level: 'info',
    message: 'Event skipped: nothing to sync',
    metric: { 'post-confirmation': MetricName.UserSyncSkipped, 'user-changes': MetricName.UserChangeSkipped },
  },
  queued: {
    level: 'warn',
    message: 'User not synced now; queued for retry',
    metric: { 'post-confirmation': MetricName.UserSyncQueued },
  },
  deferred: {
    level: 'warn',
    message: 'User still not synced; retry deferred',
    metric: { 'retry-worker': MetricName.RetryDeferred, 'user-changes': MetricName.UserChangeDeferred },
  },
  'dead-lettered': {
    level: 'error',
    message: 'Message moved to the dead-letter queue; fix the cause, then replay it',
    metric: {
      'retry-worker': MetricName.RetryDeadLettered,
      'user-changes': MetricName.UserChangeDeadLettered,
    },
  },
  dropped: {
    level: 'error',
    message: 'User not synced and not queued; run a backfill for this pool',
    metric: { 'post-confirmation': MetricName.UserSyncDropped },
  },
  // INFO: the worker did what it should (Cognito has no such user, so the User Service must not
  // either); nothing for an operator to fix. The metric counts how often a deletion beat a retry.
  gone: {
    level: 'info',
    message: 'User gone from the pool; not created in the User Service',
    metric: { 'retry-worker': MetricName.RetryUserGone },
  },
  failed: { level: 'error', message: 'User not synced', metric: {} },
};

/**
 * Logs one outcome and emits its metrics: the count, and the User Service latency of each attempt
 * and the attempts. `keys` go on the line itself (the worker handles records concurrently).
 */
export const recordOutcome = (
  reporter: Reporter,
  report: OutcomeReport,
  keys: UserKeys & Record<string, unknown> = {},
): void => {
  const line = OUTCOME_TABLE[report.outcome];
  for (const latency of report.attemptLatenciesMs ?? []) {
    metrics.addMetric(MetricName.UserServiceLatency, MetricUnit.Milliseconds, latency);
  }
  if (report.attempts) metrics.addMetric(MetricName.UserServiceAttempts, MetricUnit.Count, report.attempts);
  const metric = line.metric[reporter];
  if (metric) metrics.addMetric(metric, MetricUnit.Count, 1);
  if (report.outcome !== 'skipped') tracer.putAnnotation('outcome', report.outcome);

  const { attemptLatenciesMs: _latencies, ...fields } = report;
  logger[line.level](line.message, { ...keys, ...fields });
};

/**
 * Publishes this invocation's metrics under two dimension sets: `service` (what the alarms watch)
 * and `service` + `function`, so a dashboard tells the functions apart (the User Service latency
 * of the trigger from the worker's). Call once per invocation, before the first metric.
 */
export const labelMetrics = (reporter: Reporter): void => {
  metrics.addDimensions({});
  metrics.addDimensions({ function: reporter });
};

/**
 * A failure with no user to name (a set-up error, say): what it was, never what it said, and
 * where: its stack frames, mapped to our sources (see stack-traces.ts).
 */
export const logFailure = (message: string, error: unknown): void => {
  const stack = stackFramesOf(error);
  logger.error(message, { reason: failureCode(error), ...describeError(error), ...(stack && { stack }) });
};

/**
 * An input/output logger's `logger` that writes at DEBUG only (POWERTOOLS_LOG_LEVEL=DEBUG shows
 * the lines) and masks before writing: at INFO the outcome line already says what happened, and
 * the masking costs nothing unless the line is written.
 */
export const debugInputOutput =
  (mask: (value: unknown) => unknown) =>
  (message: { event?: unknown; response?: unknown }): void => {
    if (logger.getLevelName() !== 'DEBUG') return;
    const [key, value] = 'event' in message ? ['event', message.event] : ['response', message.response];
    logger.debug('Lambda input/output', { [key]: mask(value) });
  };
