// Sync one user: create it in the User Service or, failing that, queue it so it is not lost.
// Plain functions with their dependencies passed in: no Lambda, no middy, no Powertools.

import { SecretUnavailableError } from '../clients/secrets.js';
import type { QueueName, UserQueue } from '../clients/user-queue.js';
import type { CreateUserResult, Credentials, UserServiceClient } from '../clients/user-service.js';
import { ConfigError } from '../config.js';
import type { CognitoUser } from './cognito-event.js';
import { type Deadline, DeadlineExceededError } from './deadline.js';
import { idempotencyKey } from './idempotency.js';
import type { UnsyncedUser } from './unsynced-user.js';
import type { UserRecord } from './user-record.js';

export type SyncOutcome = 'synced' | 'exists' | 'queued' | 'dropped';

export interface SyncReport {
  outcome: SyncOutcome;
  /** Why it was not synced (`http-503`, `config-USER_SERVICE_URL`…), or `created`/`already-exists`. */
  reason: string;
  httpStatus?: number;
  attempts: number;
  attemptLatenciesMs: number[];
  durationMs: number;
  /** The queue the user went to, when queued. */
  queue?: QueueName;
  /** Why the user could not be queued, when dropped. */
  queueFailure?: string;
}

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

export interface Unsynced {
  user: CognitoUser;
  body: UserRecord;
  reason: string;
  detail?: string;
  attempts?: number;
  httpStatus?: number;
  /** The User Service refused this payload: the dead-letter queue is the place for it. */
  permanent?: boolean;
}

export const syncUser = async (user: CognitoUser, body: UserRecord, deps: SyncDeps): Promise<SyncReport> => {
  const result: CreateUserResult = await deps.userService.createUser(body, {
    idempotencyKey: idempotencyKey(user.userPoolId, user.sub),
    credentials: deps.credentials,
    deadline: deps.deadline,
    reserveMs: deps.reserveMs,
  });
  const measured = {
    attempts: result.attempts,
    attemptLatenciesMs: result.attemptLatenciesMs,
    durationMs: result.durationMs,
    ...(result.httpStatus !== undefined && { httpStatus: result.httpStatus }),
  };
  if (result.outcome === 'created') return { outcome: 'synced', reason: result.reason, ...measured };
  if (result.outcome === 'exists') return { outcome: 'exists', reason: result.reason, ...measured };

  const queued = await queueUser(
    {
      user,
      body,
      reason: result.reason,
      attempts: result.attempts,
      permanent: result.outcome === 'rejected',
      ...(result.detail !== undefined && { detail: result.detail }),
    },
    deps,
  );
  return { ...queued, ...measured };
};

/** Puts a user on the queue with whatever time is left; never throws. */
export const queueUser = async (
  unsynced: Unsynced,
  { queue, deadline, now = () => new Date() }: QueueDeps,
): Promise<SyncReport> => {
  const { user, body, reason, attempts = 0, httpStatus, permanent = false } = unsynced;
  const report = {
    reason,
    attempts,
    attemptLatenciesMs: [],
    durationMs: 0,
    ...(httpStatus !== undefined && { httpStatus }),
  };
  let target: UserQueue | undefined;
  try {
    target = queue();
  } catch (error) {
    return { ...report, outcome: 'dropped', queueFailure: failureCode(error) };
  }
  if (target === undefined) return { ...report, outcome: 'dropped', queueFailure: 'no-queue-configured' };

  const message: UnsyncedUser = {
    version: 1,
    idempotencyKey: idempotencyKey(user.userPoolId, user.sub),
    userPoolId: user.userPoolId,
    triggerSource: user.triggerSource,
    body,
    reason,
    ...(unsynced.detail !== undefined && { detail: unsynced.detail }),
    attempts,
    firstFailedAt: now().toISOString(),
  };
  try {
    const sentTo = await deadline.race(
      target.send(message, { deadLetter: permanent, signal: deadline.signal('queue send') }),
      'queue send',
    );
    return { ...report, outcome: 'queued', queue: sentTo };
  } catch (error) {
    return { ...report, outcome: 'dropped', queueFailure: errorCode(error) };
  }
};

/** A short, PII-free name for an error: its code or name, never its message. */
export const errorCode = (error: unknown): string => {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return typeof error;
};

/** Why something failed, as the short code queue messages and logs carry. */
export const failureCode = (error: unknown): string => {
  if (error instanceof ConfigError) return `config-${error.variable}`;
  if (error instanceof SecretUnavailableError) return 'secret-unavailable';
  if (error instanceof DeadlineExceededError) return 'deadline';
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  return `error-${errorCode(error)}`;
};
