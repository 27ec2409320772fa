// What a post-confirmation invocation is about, worked out once at the front of the chain: the
// decision (sync, skip, invalid), the user and the request body, the configuration, and the clock.
// The secrets stage, the core handler and fail-open's recovery all read this one object.
//
// Resolving cannot throw: a configuration problem is kept here, and the core raises it inside
// fail-open, which then queues the user with the body resolved here.

import type { UserQueue } from '../clients/user-queue.js';
import {
  type Config,
  type ConfigReading,
  defaults,
  type Env,
  firstError,
  POST_CONFIRMATION_CONFIG,
  type PostConfirmationConfig,
  readParts,
} from '../config.js';
import { type CognitoUser, decide, type SkipReason } from '../domain/cognito-event.js';
import type { UserRecord } from '../domain/contract.js';
import type { OutcomeReport, UserKeys } from '../domain/outcomes.js';
import { belongs } from '../domain/user-policy.js';
import { toUserRecord } from '../domain/user-record.js';
import { failureCode } from '../errors.js';
import { type Deadline, queueReserveMs, startDeadline } from './deadline.js';
import { queueUser } from './sync-user.js';

export interface SignUpToSync {
  action: 'sync';
  user: CognitoUser;
  /** Who the invocation is about, for every log line: ids only. */
  keys: UserKeys;
  /** The invocation's clock: the event goes back to Cognito by `deadline.at`. */
  deadline: Deadline;
  /** Kept at the end of the budget for the queue send. */
  reserveMs: number;
  /** The request body; undefined when it cannot be built (DEFAULT_USER_STATUS/ROLE invalid). */
  body: UserRecord | undefined;
  /** The configuration; undefined when a variable is invalid (then `configError` says which). */
  config: Config | undefined;
  configError?: unknown;
}

export type SignUp =
  | SignUpToSync
  | { action: 'skip'; reason: SkipReason | 'status-not-synced'; triggerSource?: string }
  /** A ConfirmSignUp event we cannot make a user of; `keys` holds what ids it had. */
  | { action: 'invalid'; problem: string; keys: UserKeys };

/** The parts a sync needs: all but the queues, which matter only once a user has to be queued. */
const SYNC_PARTS = ['userService', 'syncDeadlineMs', 'userDefaults', 'statuses', 'disabledStatus'] as const;

/** Whether `config` is the function's configuration as read rather than an environment (whose values are strings). */
const isReading = (
  config: ConfigReading<PostConfirmationConfig> | Env,
): config is ConfigReading<PostConfirmationConfig> => typeof config.errors === 'object';

/**
 * Resolves a post-confirmation event; never throws. `config` is the function's configuration as
 * read once for its container, or an environment to read it from now.
 */
export const resolveSignUp = (
  event: unknown,
  config: ConfigReading<PostConfirmationConfig> | Env = process.env,
  now: () => number = Date.now,
): SignUp => {
  const decision = decide(event);
  if (decision.action === 'skip') return decision;
  if (decision.action === 'invalid') {
    const { problem, triggerSource, userPoolId, sub } = decision;
    return { action: 'invalid', problem, keys: { userPoolId, cognitoSub: sub, triggerSource } };
  }
  const { user } = decision;
  const reading = isReading(config) ? config : readParts(POST_CONFIRMATION_CONFIG, config);
  const { userService, syncDeadlineMs, userDefaults, statuses, disabledStatus } = reading.parts;
  // The one user policy: a status it leaves out (SYNC_USER_STATUSES without EXTERNAL_PROVIDER, to
  // keep federated users out, say) is not synced. A policy that cannot be read is a configuration
  // error like any other: the user is then queued, for the worker once it is fixed.
  const policy =
    statuses && userDefaults && disabledStatus !== undefined
      ? { statuses, userDefaults, disabledStatus }
      : undefined;
  const status = user.attributes['cognito:user_status'];
  if (policy && status !== undefined && !belongs(policy, status)) {
    return { action: 'skip', reason: 'status-not-synced', triggerSource: user.triggerSource };
  }
  // The clock starts even when SYNC_DEADLINE_MS is invalid: on the default, and the config error
  // below then queues the user in time.
  const budgetMs = syncDeadlineMs ?? defaults.syncDeadlineMs;
  const configError = firstError(reading, SYNC_PARTS);
  return {
    action: 'sync',
    user,
    keys: { userPoolId: user.userPoolId, cognitoSub: user.sub, triggerSource: user.triggerSource },
    deadline: startDeadline(budgetMs, now),
    reserveMs: queueReserveMs(budgetMs),
    body: userDefaults && toUserRecord(user.sub, user.attributes, userDefaults),
    config:
      configError === undefined && userService && syncDeadlineMs !== undefined && userDefaults
        ? { userService, syncDeadlineMs, userDefaults }
        : undefined,
    ...(configError !== undefined && { configError }),
  };
};

/**
 * Fail-open's recovery: queues the user of a failed invocation with what time is left, or at
 * least the usual reserve (the failure may have been running out of time). Never throws.
 */
export const queueAfterFailure = async (
  signUp: SignUpToSync,
  error: unknown,
  queue: () => UserQueue | undefined,
): Promise<OutcomeReport> => {
  const reason = failureCode(error);
  if (signUp.body === undefined) {
    // Without valid user defaults there is no right body to queue: backfill it once fixed.
    return { outcome: 'dropped', reason, queueFailure: failureCode(signUp.configError) };
  }
  const { deadline, reserveMs } = signUp;
  return queueUser(
    { user: signUp.user, body: signUp.body, reason },
    { queue, deadline: deadline.remaining() >= reserveMs ? deadline : startDeadline(reserveMs) },
  );
};
