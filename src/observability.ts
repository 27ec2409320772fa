// The Powertools logger, metrics and tracer, created once and shared, and the one place that
// turns a sync report into log lines and EMF metrics, so every path reports alike.
//
// Never log: email, names, phone numbers, custom attributes, API keys, signing secrets or
// anything the User Service answered.

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { SkipReason } from './core/cognito-event.js';
import type { RetryReport } from './core/retry-user.js';
import type { SyncReport } from './core/sync-user.js';
import { DEFAULT_NAMESPACE, DEFAULT_SERVICE_NAME, MetricName } from './metric-names.js';

// Powertools gives its constructor options precedence over the environment; ours are only
// defaults, so the environment is consulted first.
const serviceName = process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME;

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_NAMESPACE,
});
export const tracer = new Tracer({ serviceName });

export interface UserKeys {
  userPoolId?: string;
  cognitoSub?: string;
  triggerSource?: string;
}

export const recordSkipped = (reason: SkipReason | string, triggerSource?: string): void => {
  metrics.addMetric(MetricName.UserSyncSkipped, MetricUnit.Count, 1);
  logger.info('Event skipped: nothing to sync', {
    outcome: 'skipped',
    reason,
    ...(triggerSource !== undefined && { triggerSource }),
  });
};

/** A user that could be neither synced nor queued: the operator's cue to run a backfill. */
export const recordDropped = (keys: UserKeys, reason: string, queueFailure?: string): void => {
  metrics.addMetric(MetricName.UserSyncDropped, MetricUnit.Count, 1);
  logger.error('User not synced and not queued; run a backfill for this pool', {
    outcome: 'dropped',
    userPoolId: keys.userPoolId,
    cognitoSub: keys.cognitoSub,
    reason,
    ...(queueFailure !== undefined && { queueFailure }),
  });
};

const recordAttempts = ({
  attempts,
  attemptLatenciesMs,
}: {
  attempts: number;
  attemptLatenciesMs: number[];
}) => {
  for (const latency of attemptLatenciesMs) {
    metrics.addMetric(MetricName.UserServiceLatency, MetricUnit.Milliseconds, latency);
  }
  if (attempts > 0) metrics.addMetric(MetricName.UserServiceAttempts, MetricUnit.Count, attempts);
};

export const recordSync = (report: SyncReport, keys: UserKeys): void => {
  recordAttempts(report);
  tracer.putAnnotation('outcome', report.outcome);

  const fields = {
    outcome: report.outcome,
    reason: report.reason,
    attempts: report.attempts,
    durationMs: report.durationMs,
    ...(report.httpStatus !== undefined && { httpStatus: report.httpStatus }),
  };
  switch (report.outcome) {
    case 'synced':
      metrics.addMetric(MetricName.UserSynced, MetricUnit.Count, 1);
      logger.info('User created in the User Service', fields);
      return;
    case 'exists':
      metrics.addMetric(MetricName.UserAlreadyExists, MetricUnit.Count, 1);
      logger.info('User already in the User Service', fields);
      return;
    case 'queued':
      metrics.addMetric(MetricName.UserSyncQueued, MetricUnit.Count, 1);
      logger.warn('User not synced now; queued for retry', { ...fields, queue: report.queue });
      return;
    case 'dropped':
      recordDropped(keys, report.reason, report.queueFailure);
      return;
  }
};

/** One retry-queue message's fate; records are handled concurrently, so keys go on each line. */
export const recordRetry = (
  report: RetryReport,
  delivery: { messageId: string; receiveCount: number },
): void => {
  if (report.result) recordAttempts(report.result);
  const fields = {
    ...delivery,
    userPoolId: report.userPoolId,
    cognitoSub: report.cognitoSub,
    outcome: report.disposition,
    reason: report.reason,
    ...(report.result && {
      attempts: report.result.attempts,
      durationMs: report.result.durationMs,
      httpStatus: report.result.httpStatus,
    }),
  };
  switch (report.disposition) {
    case 'succeeded':
      metrics.addMetric(MetricName.RetrySucceeded, MetricUnit.Count, 1);
      logger.info('Queued user synced', fields);
      return;
    case 'deferred':
      metrics.addMetric(MetricName.RetryDeferred, MetricUnit.Count, 1);
      logger.warn('User still not synced; retry deferred', {
        ...fields,
        delaySeconds: report.delaySeconds,
        ...(report.deferFailure && { deferFailure: report.deferFailure }),
      });
      return;
    case 'dead-lettered':
      metrics.addMetric(MetricName.RetryDeadLettered, MetricUnit.Count, 1);
      logger.error('Message moved to the dead-letter queue; fix the cause, then replay it', fields);
      return;
  }
};
