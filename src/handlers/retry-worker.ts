// The retry worker: the SQS consumer of the retry queue. The middleware chain and the thin core.
// Outermost first: tracer → logger → metrics → input/output logger → fail-open → secrets → core.
// What is not done is reported in batchItemFailures, and SQS brings it back; when nothing can be
// sent at all (a secret, the configuration), fail-open defers the whole batch on its schedule.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import inputOutputLogger from '@middy/input-output-logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { failOpen } from '../../middlewares/fail-open.js';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { type Credentials, credentialSources } from '../clients/credentials.js';
import { lazy } from '../clients/lazy.js';
import { createRetryQueueOps } from '../clients/user-queue.js';
import { createUserServiceClient } from '../clients/user-service.js';
import { type Env, readUserDefaults, readUserServiceConfig, readWorkerQueues } from '../config.js';
import { mapConcurrent } from '../core/concurrency.js';
import { startDeadline } from '../core/deadline.js';
import { maskSqsEvent } from '../core/mask.js';
import { deferRecord, type RetryReport, retryRecord } from '../core/retry-user.js';
import { batchResponse, everyRecordFailed, type QueueRecord, recordsOf } from '../core/sqs-batch.js';
import { errorCode, failureCode } from '../errors.js';
import {
  debugInputOutput,
  labelMetrics,
  logFailure,
  logger,
  metrics,
  recordOutcome,
  tracer,
} from '../observability.js';
import { credentialsStage } from './credentials.js';

/** Records of one batch sent at once: enough to drain fast, few enough to spare the User Service. */
export const WORKER_CONCURRENCY = 5;
/** One record's time with the User Service, retries included; the backoff schedule does the rest. */
const RECORD_BUDGET_MS = 10_000;
/** Kept at the end of the invocation for the last deferrals and the response. */
const SAFETY_MS = 3_000;
/** The longest the worker waits for its secrets; then the batch is deferred. */
const SECRETS_WAIT_MS = 5_000;

export interface WorkerContext extends Context {
  credentials?: Credentials;
}

const sqsClient = lazy(() => tracer.captureAWSv3Client(new SQSClient(AWS_CLIENT_PROFILES.worker)));

const report = (outcome: RetryReport, { messageId, receiveCount }: QueueRecord) => {
  const { keys, ...rest } = outcome;
  recordOutcome('retry-worker', rest, { messageId, receiveCount, ...keys });
};

const retryWorker = async (event: SQSEvent, context: WorkerContext): Promise<SQSBatchResponse> => {
  const { credentials } = context;
  labelMetrics('retry-worker');
  if (credentials === undefined) throw new Error('the credentials stage runs before the core');
  const queue = createRetryQueueOps(sqsClient, readWorkerQueues());
  const userService = createUserServiceClient({
    ...readUserServiceConfig(),
    baseBackoffMs: 200,
    maxBackoffMs: 2000,
  });
  const userDefaults = readUserDefaults();
  const records = recordsOf(event);
  const kept = await mapConcurrent(records, WORKER_CONCURRENCY, async (record) => {
    const budgetMs = Math.min(RECORD_BUDGET_MS, context.getRemainingTimeInMillis() - SAFETY_MS);
    try {
      const outcome = await retryRecord(record, {
        userService,
        credentials,
        queue,
        userDefaults,
        deadline: startDeadline(Math.max(0, budgetMs)),
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
const deferTheBatch = async (event: SQSEvent, error: unknown): Promise<void> => {
  const queue = createRetryQueueOps(sqsClient, readWorkerQueues());
  const reason = failureCode(error);
  await mapConcurrent(recordsOf(event), WORKER_CONCURRENCY, async (record) =>
    report({ ...(await deferRecord(record, reason, { queue })), keys: {} }, record),
  );
};

/** Builds the chain for an environment; Lambda's is read once, when the module loads. */
export const createHandler = (env: Env = process.env) =>
  middy<SQSEvent, SQSBatchResponse, Error, WorkerContext>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics))
    .use(inputOutputLogger({ logger: debugInputOutput(maskSqsEvent) }))
    .use(
      failOpen<SQSEvent, SQSBatchResponse, WorkerContext>({
        failureMessage: 'The retry worker cannot send; deferring the whole batch',
        logError: logFailure,
        recover: (request, error) => deferTheBatch(request.event, error),
        // Every record failed: SQS keeps each message, hidden until its next step.
        response: (request) => everyRecordFailed(request.event),
      }),
    )
    .use(
      credentialsStage<WorkerContext>({
        sources: credentialSources(env),
        profile: AWS_CLIENT_PROFILES.worker,
        within: (_request, pending) => startDeadline(SECRETS_WAIT_MS).race(pending, 'Secrets Manager'),
      }),
    )
    .handler(retryWorker);

export const handler = createHandler();
