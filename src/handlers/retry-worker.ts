// The retry worker: the SQS consumer of the retry queue, on the consumers' chain
// (./sqs-consumer.ts). Each message, one more try once Cognito confirms the user is still in the
// pool: done, dropped (gone from the pool), deferred on the backoff schedule, or dead-lettered with
// its reason. The container's retry budget and circuit breaker pace it to what the User Service
// takes: once the breaker opens (failures, or a Retry-After), the rest of the batch is deferred.

import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { lazy } from '../clients/lazy.js';
import { createRetryQueueOps, type RetryQueueOps } from '../clients/user-queue.js';
import { createOverloadGuard, createUserServiceClient, type OverloadGuard } from '../clients/user-service.js';
import {
  type Env,
  RETRY_WORKER_CONFIG,
  type RetryWorkerConfig,
  type WorkerQueues,
  wholeOf,
} from '../config.js';
import { mapConcurrent } from '../core/concurrency.js';
import { bounded, startDeadline } from '../core/deadline.js';
import { deferRecord, type RetryReport, retryRecord } from '../core/retry-user.js';
import { batchResponse, type QueueRecord, recordsOf } from '../core/sqs-batch.js';
import { errorCode, failureCode } from '../errors.js';
import { labelMetrics, logger, recordOutcome, tracer } from '../observability.js';
import { findPoolUser } from './pool-lookup.js';
import { type ConsumerContext, sqsConsumer } from './sqs-consumer.js';

/** Records of one batch sent at once: enough to drain fast, few enough to spare the User Service. */
export const WORKER_CONCURRENCY = 5;
/** One record's time with the User Service, retries included; the backoff schedule does the rest. */
const RECORD_BUDGET_MS = 10_000;
/** A record's work ends this long before the invocation does: time for its SQS call and the answer. */
const SAFETY_MS = 3_000;
/**
 * Kept after the last SQS call for the answer (middy's after phases: metrics, logs). Every SQS call
 * that settles a record is cut at this mark: in a brownout one can take its 3 attempts of up to 3 s
 * each (AWS_CLIENT_PROFILES.worker), and a function that times out answers no batch response, so
 * the whole batch would come back (dead-letter copies sent again, created users POSTed again). A
 * record whose call was cut stays on the queue, reported failed.
 */
const RESPONSE_MS = 1_000;

export type WorkerContext = ConsumerContext<RetryWorkerConfig>;

const sqsClient = lazy(() => tracer.captureAWSv3Client(new SQSClient(AWS_CLIENT_PROFILES.worker)));

const report = (outcome: RetryReport, { messageId, receiveCount }: QueueRecord) => {
  const { keys, ...rest } = outcome;
  recordOutcome('retry-worker', rest, { messageId, receiveCount, ...keys });
};

const retryWorker = async (
  event: SQSEvent,
  context: WorkerContext,
  overload: OverloadGuard,
): Promise<SQSBatchResponse> => {
  const { config, credentials } = context;
  labelMetrics('retry-worker');
  if (config === undefined || credentials === undefined)
    throw new Error('resolveOnce and the credentials stage run before the core');
  const { queues, userDefaults, userService: serviceConfig } = wholeOf(config);
  const invocation = startDeadline(context.getRemainingTimeInMillis() - RESPONSE_MS);
  const sqs = createRetryQueueOps(sqsClient, queues);
  const queue: RetryQueueOps = {
    deadLetter: bounded(invocation, 'the dead-letter send', sqs.deadLetter),
    defer: bounded(invocation, 'the deferral', sqs.defer),
  };
  const userService = createUserServiceClient({
    ...serviceConfig,
    baseBackoffMs: 200,
    maxBackoffMs: 2000,
    overload,
  });
  const records = recordsOf(event);
  const kept = await mapConcurrent(records, WORKER_CONCURRENCY, async (record) => {
    const budgetMs = Math.min(RECORD_BUDGET_MS, context.getRemainingTimeInMillis() - SAFETY_MS);
    try {
      const outcome = await retryRecord(record, {
        userService,
        findUser: findPoolUser,
        credentials,
        queue,
        userDefaults,
        deadline: startDeadline(Math.max(0, budgetMs)),
        serviceOpenForMs: overload.breaker.openForMs,
      });
      report(outcome, record);
      return outcome.outcome === 'deferred';
    } catch (error) {
      logger.error('Retry failed; the message stays on the queue', {
        messageId: record.messageId,
        receiveCount: record.receiveCount,
        errorName: errorCode(error),
      });
      return true;
    }
  });
  return batchResponse(
    records,
    new Set(records.filter((_, index) => kept[index]).map((record) => record.messageId)),
  );
};

/**
 * Nothing could be sent (a secret, the configuration): every message waits its next backoff step,
 * as for a User Service outage, rather than come back at once and burn its receives.
 */
const deferTheBatch = async (event: SQSEvent, error: unknown, queues: WorkerQueues): Promise<void> => {
  const queue = createRetryQueueOps(sqsClient, queues);
  const reason = failureCode(error);
  await mapConcurrent(recordsOf(event), WORKER_CONCURRENCY, async (record) =>
    report({ ...(await deferRecord(record, reason, { queue })), keys: {} }, record),
  );
};

/** Builds the chain (one container) for an environment, read at the first invocation. */
export const createHandler = (env: Env = process.env) => {
  // What this container knows of the User Service's load, from one batch to the next.
  const overload = createOverloadGuard();
  return sqsConsumer<RetryWorkerConfig, WorkerContext>({
    env,
    config: RETRY_WORKER_CONFIG,
    failureMessage: 'The retry worker cannot send; deferring the whole batch',
    deferTheBatch,
    core: (event, context) => retryWorker(event, context, overload),
  });
};

export const handler = createHandler();
