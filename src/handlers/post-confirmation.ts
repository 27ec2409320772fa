// The Cognito post-confirmation trigger: wiring only. The chain, outermost first, is
// tracer → logger → metrics → input/output logger → fail-open → secrets → core handler.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy, { type Request } from '@middy/core';
import inputOutputLogger from '@middy/input-output-logger';
import type { Context } from 'aws-lambda';
import { deadlineOf, failOpen, findDeadline } from '../../middlewares/fail-open.js';
import { credentialsOf, userServiceSecrets } from '../../middlewares/user-service-secrets.js';
import { lazy } from '../clients/lazy.js';
import { createUserQueue } from '../clients/user-queue.js';
import { createUserServiceClient } from '../clients/user-service.js';
import {
  defaults,
  readConfig,
  readQueueConfig,
  readSyncDeadlineMs,
  readUserDefaults,
  TIMEOUT_EARLY_MS,
} from '../config.js';
import { type CognitoUser, decide, maskCognitoEvent } from '../core/cognito-event.js';
import { queueReserveMs, startDeadline } from '../core/deadline.js';
import { failureCode, queueUser, syncUser } from '../core/sync-user.js';
import { toUserRecord } from '../core/user-record.js';
import { logger, metrics, recordDropped, recordSkipped, recordSync, tracer } from '../observability.js';

/** Short timeouts and one retry: an SQS outage must not eat the time kept for the send. */
const sqsClient = lazy(() =>
  tracer.captureAWSv3Client(
    new SQSClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 300, requestTimeout: 1000 } }),
  ),
);

/** The queues, read when a user has to be queued: a typo there must not stop a sync. */
const queueFromEnv = () => createUserQueue(sqsClient, readQueueConfig());

/** SYNC_DEADLINE_MS as configured, or the default when it is invalid (the core reports that). */
const budgetMs = (): number => {
  try {
    return readSyncDeadlineMs();
  } catch {
    return defaults.syncDeadlineMs;
  }
};

const userKeys = (user: CognitoUser) => ({
  userPoolId: user.userPoolId,
  cognitoSub: user.sub,
  triggerSource: user.triggerSource,
});

/** The user the event is about; for an event to skip or one without a user, records that instead. */
const userToSync = (event: unknown): CognitoUser | undefined => {
  const decision = decide(event);
  if (decision.action === 'sync') return decision.user;
  if (decision.action === 'skip') recordSkipped(decision.reason, decision.triggerSource);
  else recordDropped({ userPoolId: decision.userPoolId, cognitoSub: decision.sub }, 'invalid-event');
  return undefined;
};

const postConfirmation = async (event: unknown, context: Context): Promise<unknown> => {
  const user = userToSync(event);
  if (user === undefined) return event;
  logger.appendKeys(userKeys(user));
  tracer.putAnnotation('triggerSource', user.triggerSource);

  const config = readConfig();
  const report = await syncUser(user, toUserRecord(user.sub, user.attributes, config.userDefaults), {
    userService: createUserServiceClient(config.userService),
    queue: queueFromEnv,
    credentials: credentialsOf(context),
    deadline: deadlineOf(context),
    reserveMs: queueReserveMs(config.syncDeadlineMs),
  });
  recordSync(report, userKeys(user));
  return event;
};

/** Fail-open's recovery: queue the user the failed invocation was about, with what time is left. */
const recover = async (request: Request<unknown, unknown, Error, Context>, error: unknown) => {
  const user = userToSync(request.event);
  if (user === undefined) return;
  const keys = userKeys(user);
  logger.appendKeys(keys);
  const reason = failureCode(error);
  let userDefaults: ReturnType<typeof readUserDefaults>;
  try {
    userDefaults = readUserDefaults();
  } catch (configError) {
    // Without valid user defaults there is no right body to queue: backfill it once fixed.
    recordDropped(keys, reason, failureCode(configError));
    return;
  }
  // The send gets at least the usual reserve, even when the failure was running out of time.
  const reserveMs = queueReserveMs(budgetMs());
  const deadline = findDeadline(request.context);
  const report = await queueUser(
    { user, body: toUserRecord(user.sub, user.attributes, userDefaults), reason },
    {
      queue: queueFromEnv,
      deadline: deadline && deadline.remaining() >= reserveMs ? deadline : startDeadline(reserveMs),
    },
  );
  recordSync(report, keys);
};

export const handler = middy<unknown, unknown, Error, Context>({
  // The last guard, should everything else fail to stop in time: Lambda's Timeout is 5 s.
  timeoutEarlyInMillis: TIMEOUT_EARLY_MS,
})
  // Responses are the user's event: never copied into the trace.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  // logEvent is forced off: POWERTOOLS_LOGGER_LOG_EVENT=true would log the event unmasked.
  .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(
    inputOutputLogger({
      // At DEBUG (POWERTOOLS_LOG_LEVEL=DEBUG shows them): the outcome line already names the pool,
      // the user and the trigger, and at INFO these two lines were a fifth of a sign-up's cost.
      // Masked here rather than with omitPaths, which deep-copies every event: only the user's
      // data is replaced, only where present, and only when the line is written.
      logger: (message: { event?: unknown; response?: unknown }) => {
        if (logger.getLevelName() !== 'DEBUG') return;
        const [key, value] = 'event' in message ? ['event', message.event] : ['response', message.response];
        logger.debug('Lambda input/output', { [key]: maskCognitoEvent(value) });
      },
    }),
  )
  .use(
    failOpen({
      budgetMs,
      recover,
      logError: (message, details) => logger.error(message, details),
    }),
  )
  .use(
    userServiceSecrets({
      awsClientCapture: (client) => tracer.captureAWSv3Client(client),
      reserveMs: () => queueReserveMs(budgetMs()),
      // A password reset needs no secret, and must not wait on Secrets Manager for one.
      shouldFetch: (event) => decide(event).action === 'sync',
    }),
  )
  .handler(postConfirmation);
