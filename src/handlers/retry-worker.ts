// The retry worker: the SQS consumer of the retry queue. Wiring only; the chain, outermost
// first, is tracer → logger → metrics → input/output logger → secrets → core handler. No
// fail-open here: what is not done is reported in batchItemFailures, and SQS brings it back.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import inputOutputLogger from '@middy/input-output-logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  credentialsErrorOf,
  credentialsOf,
  userServiceSecrets,
} from '../../middlewares/user-service-secrets.js';
import { lazy } from '../clients/lazy.js';
import { createRetryQueueOps } from '../clients/user-queue.js';
import {
  type Credentials,
  createUserServiceClient,
  type UserServiceClient,
} from '../clients/user-service.js';
import { readUserServiceConfig, readWorkerQueues } from '../config.js';
import { mapConcurrent } from '../core/concurrency.js';
import { startDeadline } from '../core/deadline.js';
import { deferRecord, type QueueRecord, retryRecord } from '../core/retry-user.js';
import { errorCode, failureCode } from '../core/sync-user.js';
import { logger, metrics, recordRetry, tracer } from '../observability.js';

/** Records of one batch sent at once: enough to drain fast, few enough to spare the User Service. */
export const WORKER_CONCURRENCY = 5;
/** One record's time with the User Service, retries included; the backoff schedule does the rest. */
const RECORD_BUDGET_MS = 10_000;
/** Kept at the end of the invocation for the last deferrals and the response. */
const SAFETY_MS = 3_000;

const sqsClient = lazy(() =>
  tracer.captureAWSv3Client(
    new SQSClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } }),
  ),
);

const receiveCountOf = (record: SQSRecord): number => {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count > 0 ? count : 1;
};

const retryWorker = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // Without the queues nothing can be deferred or dead-lettered: fail the batch, SQS retries it.
  const queue = createRetryQueueOps(sqsClient, readWorkerQueues());
  const records = (Array.isArray(event?.Records) ? event.Records : []).map(
    (record): QueueRecord => ({
      messageId: record.messageId,
      body: record.body,
      receiptHandle: record.receiptHandle,
      receiveCount: receiveCountOf(record),
    }),
  );
  let setUp: { userService: UserServiceClient; credentials: Credentials };
  try {
    const unavailable = credentialsErrorOf(context);
    if (unavailable) throw unavailable;
    setUp = {
      userService: createUserServiceClient({
        ...readUserServiceConfig(),
        baseBackoffMs: 200,
        maxBackoffMs: 2000,
      }),
      credentials: credentialsOf(context),
    };
  } catch (error) {
    // Nothing can be sent (a secret, the configuration): every message waits its next backoff
    // step, as for a User Service outage, rather than come back at once and burn its receives.
    const reason = failureCode(error);
    logger.error('The retry worker cannot send; deferring the whole batch', {
      reason,
      ...(error instanceof Error && 'variable' in error && { variable: error.variable }),
    });
    await mapConcurrent(records, WORKER_CONCURRENCY, async (record) =>
      recordRetry(await deferRecord(record, reason, { queue }), delivery(record)),
    );
    return batchResponse(
      records,
      records.map(() => true),
    );
  }

  const failed = await mapConcurrent(records, WORKER_CONCURRENCY, async (record) => {
    const budgetMs = Math.min(RECORD_BUDGET_MS, context.getRemainingTimeInMillis() - SAFETY_MS);
    try {
      const report = await retryRecord(record, {
        ...setUp,
        queue,
        deadline: startDeadline(Math.max(0, budgetMs)),
      });
      recordRetry(report, delivery(record));
      return report.disposition === 'deferred';
    } catch (error) {
      logger.error('Retry failed; the message stays on the queue', {
        ...delivery(record),
        errorName: errorCode(error),
      });
      return true;
    }
  });
  return batchResponse(records, failed);
};

const delivery = ({ messageId, receiveCount }: QueueRecord) => ({ messageId, receiveCount });

const batchResponse = (records: QueueRecord[], failed: boolean[]): SQSBatchResponse => ({
  batchItemFailures: records
    .filter((_, index) => failed[index])
    .map((record) => ({ itemIdentifier: record.messageId })),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
  .use(logMetrics(metrics))
  .use(
    inputOutputLogger({
      logger: (message: Record<string, unknown>) => logger.info('Lambda input/output', message),
      // A record's body is a user's data.
      omitPaths: ['event.Records.[].body', 'event.Records.[].messageAttributes'],
      mask: '*****',
    }),
  )
  .use(
    userServiceSecrets({ awsClientCapture: (client) => tracer.captureAWSv3Client(client), failSoft: true }),
  )
  .handler(retryWorker);
