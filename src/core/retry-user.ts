// One retry-queue message, one more try: ask Cognito whether the user is still in the pool, send
// the stored body with the same idempotency key, then say what becomes of the message: done,
// dropped (the user left the pool meanwhile, and ListUsers has had time to say so), dead-lettered,
// or deferred by the backoff schedule.
// While the container's circuit breaker is open, the message is deferred at once, Cognito unasked:
// for its next step, or as long as the User Service asked (Retry-After), whichever is longer.

import { LISTING_CATCH_UP_MS } from '../clients/cognito-users.js';
import type { Credentials } from '../clients/credentials.js';
import type { RetryQueueOps } from '../clients/user-queue.js';
import { CIRCUIT_OPEN, measurement, type UserServiceClient } from '../clients/user-service.js';
import type { OutcomeReport, UserKeys } from '../domain/outcomes.js';
import type { PoolUser } from '../domain/pool-user.js';
import { parseRetryMessage } from '../domain/retry-message.js';
import type { UserDefaults } from '../domain/user-policy.js';
import { errorCode, MalformedMessageError } from '../errors.js';
import { MAX_VISIBILITY_SECONDS, retryDelaySeconds } from './backoff.js';
import { cognitoFailure } from './cognito-failure.js';
import type { Deadline } from './deadline.js';
import type { QueueRecord } from './sqs-batch.js';

export interface RetryReport extends OutcomeReport {
  outcome: 'created' | 'exists' | 'gone' | 'deferred' | 'dead-lettered';
  keys: UserKeys;
}

export interface RetryDeps {
  userService: UserServiceClient;
  /**
   * The user with this sub as the pool holds them now, or undefined when the pool has none;
   * rejects when Cognito does not say (a throttle, a timeout, a denial, no such pool).
   */
  findUser: (userPoolId: string, sub: string, signal: AbortSignal) => Promise<PoolUser | undefined>;
  credentials: Credentials;
  deadline: Deadline;
  queue: RetryQueueOps;
  random?: () => number;
  /**
   * How long the User Service is not to be called from this container (its circuit breaker is
   * open: failures, or the service's Retry-After); 0, or left out, when it may be.
   */
  serviceOpenForMs?: () => number;
  /**
   * DEFAULT_USER_STATUS and DEFAULT_USER_ROLE as configured now: the user is created with these,
   * never with what the message says. Whoever can send to the queue must not pick a user's role
   * (an ADMIN, say); and a message queued before either was changed is not malformed for that
   * (the backlog of an outage would be dead-lettered, and a replay fail again), it is sent with
   * what this deployment gives a user now, as a sign-up now would be.
   */
  userDefaults: UserDefaults;
  /** The clock (epoch ms) a message's age is read on; Date.now by default. */
  now?: () => number;
}

export const retryRecord = async (record: QueueRecord, deps: RetryDeps): Promise<RetryReport> => {
  let message: ReturnType<typeof parseRetryMessage>;
  try {
    message = parseRetryMessage(record.body);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    // Round and round it would go: straight to the dead-letter queue, the problem attached.
    await deps.queue.deadLetter(record.body, 'malformed-message', error.message);
    return { outcome: 'dead-lettered', reason: 'malformed-message', keys: {} };
  }
  const keys = { userPoolId: message.userPoolId, cognitoSub: message.body.cognitoSub };
  if ((deps.serviceOpenForMs?.() ?? 0) > 0) {
    return { ...(await deferRecord(record, CIRCUIT_OPEN, deps)), keys };
  }

  // A deleted user stays deleted: the user may have left the pool while the message waited (an
  // outage's backlog, a replay from the dead-letter queue), and creating them now would bring
  // them back. Cognito is asked first, within the record's budget; when it cannot say, the message
  // waits its next backoff step: never a create on a guess, never a drop on one.
  let user: PoolUser | undefined;
  try {
    user = await deps.deadline.withSignal('the Cognito lookup', (signal) =>
      deps.findUser(message.userPoolId, message.body.cognitoSub, signal),
    );
  } catch (error) {
    const failure = cognitoFailure(error, keys);
    if (failure.outcome === 'dead-lettered') {
      await deps.queue.deadLetter(record.body, failure.reason);
      return failure;
    }
    return { ...(await deferRecord(record, failure.reason, deps)), keys };
  }
  if (user === undefined) {
    // "Not in the pool" rests on ListUsers, which is eventually consistent: AdminGetUser does not
    // take a federated user's sub, so for a sub it does not find (a deleted local user, or a
    // federated one) only the listing says, and a federated user who signed in moments ago may not
    // be listed yet. The message has no userName to ask AdminGetUser by. So the user is dropped only
    // once the listing has surely caught up with the sign-up: firstFailedAt, written after
    // Cognito created the user, is LISTING_CATCH_UP_MS old. Until then the message waits, asked
    // again when that time is up; a clock out of step (a firstFailedAt ahead of ours) waits too.
    // Nothing is created meanwhile, so the cost is only a later drop.
    const waitMs = Date.parse(message.firstFailedAt) + LISTING_CATCH_UP_MS - (deps.now ?? Date.now)();
    if (waitMs > 0) {
      return { ...(await deferRecord(record, NOT_LISTED_YET, deps, Math.ceil(waitMs / 1000))), keys };
    }
    return { outcome: 'gone', reason: 'not-in-pool', keys };
  }

  const body = { ...message.body, status: deps.userDefaults.status, role: deps.userDefaults.role };
  const result = await deps.userService.createUser(body, {
    idempotencyKey: message.idempotencyKey,
    credentials: deps.credentials,
    deadline: deps.deadline,
    retryLimit: 2,
  });
  if (result.outcome !== undefined) return { outcome: result.outcome, ...measurement(result), keys };
  if (result.failure === 'rejected' || result.failure === 'redirect') {
    await deps.queue.deadLetter(record.body, result.reason, result.detail);
    return { outcome: 'dead-lettered', reason: result.reason, ...measurement(result), keys };
  }
  return { ...(await deferRecord(record, result.reason, deps)), ...measurement(result), keys };
};

/** Why a message whose user Cognito does not list is kept: the listing may not have caught up. */
const NOT_LISTED_YET = 'not-listed-yet';

/**
 * Hides a message for the next step of the backoff schedule, or as long as the User Service asked
 * not to be called (Retry-After), or `atLeastSeconds`, when that is longer; SQS brings it back then.
 */
export const deferRecord = async (
  record: QueueRecord,
  reason: string,
  deps: Pick<RetryDeps, 'queue' | 'random' | 'serviceOpenForMs'>,
  atLeastSeconds = 0,
): Promise<RetryReport> => {
  const delaySeconds = Math.min(
    MAX_VISIBILITY_SECONDS,
    Math.max(
      retryDelaySeconds(record.receiveCount, deps.random),
      Math.ceil((deps.serviceOpenForMs?.() ?? 0) / 1000),
      atLeastSeconds,
    ),
  );
  const deferFailure = await deps.queue.defer(record.receiptHandle, delaySeconds).then(
    () => undefined,
    (error: unknown) => errorCode(error),
  );
  return { outcome: 'deferred', reason, delaySeconds, ...(deferFailure && { deferFailure }), keys: {} };
};
