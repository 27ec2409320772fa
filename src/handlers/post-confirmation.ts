// The Cognito post-confirmation trigger: the middleware chain and the thin core. Outermost first:
// tracer → logger → metrics → input/output logger → fail-open → resolve once (the configuration,
// read once per container; then the sign-up) → secrets (fetched by @middy/secrets-manager, awaited
// within the deadline) → core. The container's retry budget and circuit breaker live as long as
// the chain: while the breaker is open, a user is queued at once, without a call.

import { cleanupMiddlewares } from '@aws-lambda-powertools/commons';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import inputOutputLogger from '@middy/input-output-logger';
import type { Context } from 'aws-lambda';
import { failOpen } from '../../middlewares/fail-open.js';
import { resolveOnce } from '../../middlewares/resolve-once.js';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { type Credentials, credentialSources } from '../clients/credentials.js';
import { lazy } from '../clients/lazy.js';
import { createUserQueue } from '../clients/user-queue.js';
import { createOverloadGuard, createUserServiceClient, type OverloadGuard } from '../clients/user-service.js';
import {
  type ConfigReading,
  configOnce,
  type Env,
  POST_CONFIRMATION_CONFIG,
  type PostConfirmationConfig,
  partOf,
  TIMEOUT_EARLY_MS,
} from '../config.js';
import { maskCognitoEvent } from '../core/mask.js';
import { queueAfterFailure, resolveSignUp, type SignUp, type SignUpToSync } from '../core/sign-up.js';
import { syncUser } from '../core/sync-user.js';
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

/** What the chain leaves on the Lambda context for the core. */
export interface SignUpContext extends Context {
  config?: ConfigReading<PostConfirmationConfig>;
  signUp?: SignUp;
  credentials?: Credentials;
}

const sqsClient = lazy(() => tracer.captureAWSv3Client(new SQSClient(AWS_CLIENT_PROFILES.trigger)));

/** The queues, raised when a user has to be queued (not before): a typo there must not stop a sync. */
const queueOf = (config: ConfigReading<PostConfirmationConfig>) => () =>
  createUserQueue(sqsClient, partOf(config, 'queues'));

const report = (outcome: Parameters<typeof recordOutcome>[1], keys: SignUpToSync['keys']) =>
  recordOutcome('post-confirmation', outcome, keys);

/** Resolves the event once, and labels every later log line with who it is about. */
const resolve = (event: unknown, config: ConfigReading<PostConfirmationConfig>): SignUp => {
  const signUp = resolveSignUp(event, config);
  if (signUp.action === 'sync') {
    logger.appendKeys(signUp.keys);
    tracer.putAnnotation('triggerSource', signUp.user.triggerSource);
  }
  return signUp;
};

/** Nothing to sync (a password reset, an event without a user): answer Cognito at once. */
const answerAtOnce = (signUp: SignUp, event: unknown): unknown => {
  if (signUp.action === 'skip') {
    recordOutcome('post-confirmation', {
      outcome: 'skipped',
      reason: signUp.reason,
      ...(signUp.triggerSource !== undefined && { triggerSource: signUp.triggerSource }),
    });
    return event;
  }
  if (signUp.action === 'invalid') {
    report({ outcome: 'dropped', reason: 'invalid-event' }, signUp.keys);
    return event;
  }
  return undefined;
};

const postConfirmation = async (
  event: unknown,
  context: SignUpContext,
  overload: OverloadGuard,
): Promise<unknown> => {
  const { config, signUp, credentials } = context;
  labelMetrics('post-confirmation');
  // resolveOnce answered every other action already.
  if (config === undefined || signUp?.action !== 'sync' || credentials === undefined)
    throw new Error('resolveOnce and the credentials stage run before the core');
  if (signUp.config === undefined || signUp.body === undefined) throw signUp.configError;
  const outcome = await syncUser(signUp.user, signUp.body, {
    userService: createUserServiceClient({ ...signUp.config.userService, overload }),
    queue: queueOf(config),
    credentials,
    deadline: signUp.deadline,
    reserveMs: signUp.reserveMs,
  });
  report(outcome, signUp.keys);
  return event;
};

/**
 * Builds the chain for an environment (one container); its configuration is read at the first
 * invocation, and kept once valid.
 */
export const createHandler = (env: Env = process.env) => {
  const config = configOnce(POST_CONFIRMATION_CONFIG, env);
  // What this container knows of the User Service's load, from one invocation to the next.
  const overload = createOverloadGuard();
  const credentials = credentialsStage<SignUpContext>({
    sources: credentialSources(env),
    profile: AWS_CLIENT_PROFILES.trigger,
    // Within the invocation's deadline, less the time kept for the queue send.
    within: (request, pending) => {
      const { signUp } = request.context;
      if (signUp?.action !== 'sync') return pending;
      return signUp.deadline.race(pending, 'Secrets Manager', signUp.reserveMs);
    },
  });
  return (
    middy<unknown, unknown, Error, SignUpContext>({
      // The last guard, should everything else fail to stop in time: Lambda's Timeout is 5 s.
      timeoutEarlyInMillis: TIMEOUT_EARLY_MS,
    })
      // Responses are the user's event: never copied into the trace.
      .use(captureLambdaHandler(tracer, { captureResponse: false }))
      // logEvent is forced off: POWERTOOLS_LOGGER_LOG_EVENT=true would log the event unmasked.
      .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
      .use(logMetrics(metrics, { captureColdStartMetric: true }))
      .use(inputOutputLogger({ logger: debugInputOutput(maskCognitoEvent) }))
      .use(
        failOpen<unknown, unknown, SignUpContext>({
          failureMessage: 'Post-confirmation failed; returning the event to Cognito',
          logError: logFailure,
          recover: async (request, error) => {
            const { signUp } = request.context;
            if (signUp?.action !== 'sync') return;
            const queue = queueOf(request.context.config ?? config());
            report(await queueAfterFailure(signUp, error, queue), signUp.keys);
          },
        }),
      )
      .use(resolveOnce<ConfigReading<PostConfirmationConfig>>({ resolve: config, contextKey: 'config' }))
      .use(
        resolveOnce<SignUp, unknown, unknown, SignUpContext>({
          resolve: (event, context) => resolve(event, context.config ?? config()),
          contextKey: 'signUp',
          earlyResponse: answerAtOnce,
          cleanup: cleanupMiddlewares,
        }),
      )
      .use(credentials)
      .handler((event, context) => postConfirmation(event, context, overload))
  );
};

export const handler = createHandler();
