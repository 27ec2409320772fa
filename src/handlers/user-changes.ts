// The user-changes function: the SQS consumer of the changes queue (CloudTrail's Cognito events
// routed by an EventBridge rule, and reconcile's repairs), on the consumers' chain
// (./sqs-consumer.ts). Each user of a batch is read once from Cognito and written once; what is
// not done is reported in batchItemFailures, deferred on the backoff schedule, or dead-lettered
// with its reason. It writes to the same User Service as the trigger and the retry worker, so it
// keeps the same overload guard for its container: once the breaker opens (failures, or the
// service's Retry-After), the rest of the batch is deferred, Cognito unasked.

import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { lazy } from '../clients/lazy.js';
import { createRetryQueueOps, type RetryQueueOps } from '../clients/user-queue.js';
import {
  CIRCUIT_OPEN,
  createOverloadGuard,
  createUserServiceClient,
  type OverloadGuard,
} from '../clients/user-service.js';
import {
  type Env,
  USER_CHANGES_CONFIG,
  type UserChangesConfig,
  type WorkerQueues,
  wholeOf,
} from '../config.js';
import { mapConcurrent } from '../core/concurrency.js';
import { bounded, startDeadline } from '../core/deadline.js';
import { deferRecord } from '../core/retry-user.js';
import { batchResponse, type QueueRecord, recordsOf } from '../core/sqs-batch.js';
import { applyUserChange, type ChangeReport, coalesce } from '../core/user-change.js';
import { parseChangeRecord, type UserChange } from '../domain/user-events.js';
import { errorCode, failureCode } from '../errors.js';
import { labelMetrics, logger, recordOutcome, tracer } from '../observability.js';
import { findPoolUser } from './pool-lookup.js';
import { type ConsumerContext, sqsConsumer } from './sqs-consumer.js';

/** Users of one batch handled at once: Cognito's AdminGetUser and the User Service are both spared. */
export const USER_CHANGES_CONCURRENCY = 5;
/** One user's time with Cognito and the User Service, retries included; the backoff schedule does the rest. */
const USER_BUDGET_MS = 10_000;
/** A user's work ends this long before the invocation does: time for its SQS calls and the answer. */
const SAFETY_MS = 3_000;
/**
 * Kept after the last SQS call for the answer (middy's after phases: metrics, logs). Every SQS call
 * that settles a record is cut at this mark: in a brownout one can take its 3 attempts of up to 3 s
 * each (AWS_CLIENT_PROFILES.worker), and a function that times out answers no batch response, so
 * the whole batch would come back (dead-letter copies sent again, users written again). A record
 * whose call was cut stays on the queue, reported failed.
 */
const RESPONSE_MS = 1_000;

export type UserChangesContext = ConsumerContext<UserChangesConfig>;

const sqsClient = lazy(() => tracer.captureAWSv3Client(new SQSClient(AWS_CLIENT_PROFILES.worker)));
const report = (
  outcome: Omit<ChangeReport, 'keys'> & { keys?: ChangeReport['keys'] },
  record: QueueRecord,
) => {
  const { keys, detail: _detail, ...rest } = outcome;
  recordOutcome('user-changes', rest, {
    messageId: record.messageId,
    receiveCount: record.receiveCount,
    ...keys,
  });
};

/** Where a record is settled: its queues, and how long the User Service is not to be called. */
interface Settling {
  queue: RetryQueueOps;
  serviceOpenForMs: () => number;
}

/**
 * Settles one record as its user's report says: true when it stays on the queue (deferred, for its
 * next backoff step or as long as the User Service asked, whichever is longer).
 */
const settle = async (
  record: QueueRecord,
  outcome: ChangeReport,
  { queue, serviceOpenForMs }: Settling,
): Promise<boolean> => {
  if (outcome.outcome === 'deferred') {
    const { delaySeconds, deferFailure } = await deferRecord(record, outcome.reason ?? 'deferred', {
      queue,
      serviceOpenForMs,
    });
    report({ ...outcome, delaySeconds, ...(deferFailure && { deferFailure }) }, record);
    return true;
  }
  if (outcome.outcome === 'dead-lettered') {
    try {
      await queue.deadLetter(record.body, outcome.reason ?? 'refused', outcome.detail);
    } catch (error) {
      logger.error('Could not dead-letter; the message stays on the queue', {
        messageId: record.messageId,
        errorName: errorCode(error),
      });
      return true;
    }
  }
  report(outcome, record);
  return false;
};

const userChanges = async (
  event: SQSEvent,
  context: UserChangesContext,
  overload: OverloadGuard,
): Promise<SQSBatchResponse> => {
  const { config, credentials } = context;
  labelMetrics('user-changes');
  if (config === undefined || credentials === undefined)
    throw new Error('resolveOnce and the credentials stage run before the core');
  const { userPoolId, queues, userService, ...policy } = wholeOf(config);
  const invocation = startDeadline(context.getRemainingTimeInMillis() - RESPONSE_MS);
  const sqs = createRetryQueueOps(sqsClient, queues);
  const settling = {
    queue: {
      deadLetter: bounded(invocation, 'the dead-letter send', sqs.deadLetter),
      defer: bounded(invocation, 'the deferral', sqs.defer),
    },
    serviceOpenForMs: overload.breaker.openForMs,
  };
  const client = createUserServiceClient({
    ...userService,
    baseBackoffMs: 200,
    maxBackoffMs: 2000,
    overload,
  });
  const records = recordsOf(event);
  const failed = new Set<string>();

  const changes: { record: QueueRecord; change: UserChange }[] = [];
  for (const record of records) {
    const parsed = parseChangeRecord(record.body);
    if ('change' in parsed) changes.push({ record, change: parsed.change });
    else if ('ignore' in parsed) {
      report(
        { outcome: 'skipped', reason: parsed.ignore, keys: { userPoolId, source: parsed.source } },
        record,
      );
    } else if (
      await settle(
        record,
        { outcome: 'dead-lettered', reason: 'malformed-message', detail: parsed.malformed, keys: {} },
        settling,
      )
    ) {
      failed.add(record.messageId);
    }
  }

  const groups = [...coalesce(changes).values()];
  await mapConcurrent(groups, USER_CHANGES_CONCURRENCY, async (group) => {
    const settleAll = async (outcome: ChangeReport) => {
      // One user, one write: every record of the group shares its fate.
      for (const { record } of group)
        if (await settle(record, outcome, settling)) failed.add(record.messageId);
    };
    const sub = group[0]?.change.sub;
    if (overload.breaker.openForMs() > 0) {
      // Nothing can be written now: Cognito is not asked either.
      return settleAll({ outcome: 'deferred', reason: CIRCUIT_OPEN, keys: { userPoolId, cognitoSub: sub } });
    }
    const budgetMs = Math.max(0, Math.min(USER_BUDGET_MS, context.getRemainingTimeInMillis() - SAFETY_MS));
    const write = { credentials, deadline: startDeadline(budgetMs), retryLimit: 2 };
    let outcome: ChangeReport;
    try {
      outcome = await applyUserChange(
        group.map(({ change }) => change),
        {
          userPoolId,
          policy,
          findUser: (sub) =>
            write.deadline.withSignal('the Cognito lookup', (signal) =>
              findPoolUser(userPoolId, sub, signal),
            ),
          userService: {
            createUser: (body, idempotencyKey) => client.createUser(body, { ...write, idempotencyKey }),
            patchUser: (sub, patch, idempotencyKey) =>
              client.patchUser(sub, patch, { ...write, idempotencyKey }),
            deleteUser: (sub, idempotencyKey) => client.deleteUser(sub, { ...write, idempotencyKey }),
          },
        },
      );
    } catch (error) {
      outcome = { outcome: 'deferred', reason: failureCode(error), keys: { userPoolId } };
    }
    await settleAll(outcome);
  });
  return batchResponse(records, failed);
};

/** Nothing could be done (a secret, the configuration): every message waits its next backoff step. */
const deferTheBatch = async (event: SQSEvent, error: unknown, queues: WorkerQueues): Promise<void> => {
  const settling = { queue: createRetryQueueOps(sqsClient, queues), serviceOpenForMs: () => 0 };
  const reason = failureCode(error);
  await mapConcurrent(recordsOf(event), USER_CHANGES_CONCURRENCY, (record) =>
    settle(record, { outcome: 'deferred', reason, keys: {} }, settling),
  );
};

/** Builds the chain (one container) for an environment, read at the first invocation. */
export const createHandler = (env: Env = process.env) => {
  // What this container knows of the User Service's load, from one batch to the next.
  const overload = createOverloadGuard();
  return sqsConsumer<UserChangesConfig, UserChangesContext>({
    env,
    config: USER_CHANGES_CONFIG,
    failureMessage: 'The user-changes function cannot work; deferring the whole batch',
    deferTheBatch,
    core: (event, context) => userChanges(event, context, overload),
  });
};

export const handler = createHandler();
