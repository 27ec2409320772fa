// The middleware chain every SQS consumer of ours shares (wiring, not an entry point): the retry
// worker and the user-changes function. Outermost first: tracer → logger → metrics → input/output
// logger (DEBUG, masked) → fail-open → resolve once (the configuration, read once per container)
// → secrets → core. What the core does not finish it reports
// in batchItemFailures; when nothing can be done at all (a secret, the configuration), fail-open
// defers the whole batch and answers with every record failed, so no message comes back at once
// to burn its receives.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import inputOutputLogger from '@middy/input-output-logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { failOpen } from '../../middlewares/fail-open.js';
import { resolveOnce } from '../../middlewares/resolve-once.js';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { type Credentials, credentialSources } from '../clients/credentials.js';
import {
  type ConfigReading,
  configOnce,
  type Env,
  type PartReaders,
  partOf,
  type WorkerQueues,
} from '../config.js';
import { startDeadline } from '../core/deadline.js';
import { maskSqsEvent } from '../core/mask.js';
import { everyRecordFailed } from '../core/sqs-batch.js';
import { debugInputOutput, logFailure, logger, metrics, tracer } from '../observability.js';
import { credentialsStage } from './credentials.js';

/** The longest a consumer waits for its secrets; then the batch is deferred. */
const SECRETS_WAIT_MS = 5_000;

export interface ConsumerContext<TConfig> extends Context {
  config?: ConfigReading<TConfig>;
  credentials?: Credentials;
}

/** A consumer's configuration: whatever it needs, and the queue it defers on with its dead-letter queue. */
export interface ConsumerConfig {
  queues: WorkerQueues;
}

export interface ConsumerOptions<TConfig extends ConsumerConfig, TContext extends ConsumerContext<TConfig>> {
  /** The environment; read at the first invocation, and kept for the container once valid. */
  env: Env;
  /** How the function's configuration is read (src/config.ts). */
  config: PartReaders<TConfig>;
  /** What the failure is called in the log when nothing could be done. */
  failureMessage: string;
  /** Defers every record of the batch on the backoff schedule. */
  deferTheBatch: (event: SQSEvent, error: unknown, queues: WorkerQueues) => Promise<void>;
  core: (event: SQSEvent, context: TContext) => Promise<SQSBatchResponse>;
}

export const sqsConsumer = <TConfig extends ConsumerConfig, TContext extends ConsumerContext<TConfig>>({
  env,
  config: readers,
  failureMessage,
  deferTheBatch,
  core,
}: ConsumerOptions<TConfig, TContext>) => {
  const config = configOnce(readers, env);
  return middy<SQSEvent, SQSBatchResponse, Error, TContext>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics))
    .use(inputOutputLogger({ logger: debugInputOutput(maskSqsEvent) }))
    .use(
      failOpen<SQSEvent, SQSBatchResponse, TContext>({
        failureMessage,
        logError: logFailure,
        // The queues may be valid when another variable is not; if they are not, nothing can defer.
        recover: (request, error) =>
          deferTheBatch(request.event, error, partOf(request.context.config ?? config(), 'queues')),
        // Every record failed: SQS keeps each message, hidden until its next step.
        response: (request) => everyRecordFailed(request.event),
      }),
    )
    .use(resolveOnce<ConfigReading<TConfig>>({ resolve: config, contextKey: 'config' }))
    .use(
      credentialsStage<TContext>({
        sources: credentialSources(env),
        profile: AWS_CLIENT_PROFILES.worker,
        within: (_request, pending) => startDeadline(SECRETS_WAIT_MS).race(pending, 'Secrets Manager'),
      }),
    )
    .handler(core);
};
