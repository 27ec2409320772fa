// Sync one user: create it in the User Service or, failing that, queue it so it is not lost.
// Plain functions with their dependencies passed in: no Lambda, no middy, no Powertools.

import type { Credentials } from '../clients/credentials.js';
import type { UserQueue } from '../clients/user-queue.js';
import { measurement, type UserServiceClient } from '../clients/user-service.js';
import type { CognitoUser } from '../domain/cognito-event.js';
import type { UserRecord } from '../domain/contract.js';
import { idempotencyKey } from '../domain/idempotency.js';
import type { OutcomeReport } from '../domain/outcomes.js';
import { RETRY_MESSAGE_VERSION, type RetryMessage } from '../domain/retry-message.js';
import { failureCode } from '../errors.js';
import type { Deadline } from './deadline.js';

export interface QueueDeps {
  /**
   * The queue, looked up only when a user needs it: undefined when none is configured, and a
   * ConfigError when one is misconfigured. Either way the user is then dropped (and alarmed;
   * backfill recovers it), but a user the User Service takes never depends on it.
   */
  queue: () => UserQueue | undefined;
  deadline: Deadline;
  now?: () => Date;
}

export interface SyncDeps extends QueueDeps {
  userService: UserServiceClient;
  credentials: Credentials;
  /** Time kept back from the User Service call for the queue send. */
  reserveMs: number;
}

/** A user to put on the queue, and why. */
export interface QueueRequest {
  user: CognitoUser;
  body: UserRecord;
  reason: string;
  detail?: string;
  attempts?: number;
  /** The User Service refused this payload: the dead-letter queue is the place for it. */
  permanent?: boolean;
}

export const syncUser = async (
  user: CognitoUser,
  body: UserRecord,
  deps: SyncDeps,
): Promise<OutcomeReport> => {
  const result = await deps.userService.createUser(body, {
    idempotencyKey: idempotencyKey(user.userPoolId, user.sub),
    credentials: deps.credentials,
    deadline: deps.deadline,
    reserveMs: deps.reserveMs,
  });
  if (result.outcome !== undefined) return { outcome: result.outcome, ...measurement(result) };

  const queued = await queueUser(
    {
      user,
      body,
      reason: result.reason,
      attempts: result.attempts,
      permanent: result.failure === 'rejected',
      ...(result.detail !== undefined && { detail: result.detail }),
    },
    deps,
  );
  return { ...queued, ...measurement(result) };
};

/** Puts a user on the queue with whatever time is left; never throws. */
export const queueUser = async (
  request: QueueRequest,
  { queue, deadline, now = () => new Date() }: QueueDeps,
): Promise<OutcomeReport> => {
  const { user, body, reason, attempts = 0, permanent = false } = request;
  let target: UserQueue | undefined;
  try {
    target = queue();
  } catch (error) {
    return { outcome: 'dropped', reason, queueFailure: failureCode(error) };
  }
  if (target === undefined) return { outcome: 'dropped', reason, queueFailure: 'no-queue-configured' };

  const message: RetryMessage = {
    version: RETRY_MESSAGE_VERSION,
    idempotencyKey: idempotencyKey(user.userPoolId, user.sub),
    userPoolId: user.userPoolId,
    triggerSource: user.triggerSource,
    body,
    reason,
    ...(request.detail !== undefined && { detail: request.detail }),
    attempts,
    firstFailedAt: now().toISOString(),
  };
  try {
    const sentTo = await deadline.race(
      deadline.withSignal('queue send', (signal) => target.send(message, { deadLetter: permanent, signal })),
      'queue send',
    );
    return { outcome: 'queued', reason, queue: sentTo };
  } catch (error) {
    return { outcome: 'dropped', reason, queueFailure: failureCode(error) };
  }
};
