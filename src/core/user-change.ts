// A user's life after sign-up: a changes-queue message says "user X changed" (a CloudTrail event
// through EventBridge, or a repair from reconcile); the user's current state is read from Cognito
// and written to the User Service. Order does not matter, duplicates are harmless, and a stale
// write never wins (the PATCH carries Cognito's last-modified time). Plain functions with their
// dependencies passed in.

import type { PoolUser } from '../clients/cognito-users.js';
import type { WriteResult } from '../clients/user-service.js';
import type { UserPolicy } from '../config.js';
import { isRecord, nonEmptyString } from '../guards.js';
import { cognitoFailure } from './cognito-failure.js';
import { idempotencyKey, writeKey } from './idempotency.js';
import type { OutcomeReport, UserKeys } from './outcomes.js';
import { belongs, patchOf, recordOf } from './user-policy.js';
import { isUserPoolId } from './user-pool-id.js';

/** The CloudTrail events (eventName) of a user pool that change a user the User Service holds. */
export const USER_EVENTS = {
  changed: [
    'AdminCreateUser',
    'AdminUpdateUserAttributes',
    'UpdateUserAttributes',
    'VerifyUserAttribute',
    'AdminDeleteUserAttributes',
    'DeleteUserAttributes',
    'AdminDisableUser',
    'AdminEnableUser',
  ],
  deleted: ['AdminDeleteUser', 'DeleteUser'],
} as const;

const CHANGED: readonly string[] = USER_EVENTS.changed;
const DELETED: readonly string[] = USER_EVENTS.deleted;

export const REPAIR_TYPE = 'cognito-user-sync.repair';

/**
 * What reconcile puts on the changes queue for a user it found out of step. Version 1 (0.2.0) has
 * `sync` and `delete`; version 2 adds `remove`. Reconcile sends a `sync` or `delete` as version 1,
 * so a user-changes function of 0.2.0 still reads them during an upgrade.
 */
export type RepairMessage =
  | {
      type: 'cognito-user-sync.repair';
      version: 1;
      userPoolId: string;
      sub: string;
      action: 'sync' | 'delete';
    }
  | { type: 'cognito-user-sync.repair'; version: 2; userPoolId: string; sub: string; action: RepairAction };

/**
 * `sync`: write the user's current state; `delete`: the user looked gone, delete if Cognito
 * confirms it; `remove`: the user's status looked like one the policy leaves out, delete unless
 * Cognito now holds them as a user (then sync).
 */
export type RepairAction = 'sync' | 'delete' | 'remove';

/** The repair message of one action: the oldest version that has it. */
export const repairMessage = (userPoolId: string, sub: string, action: RepairAction): RepairMessage =>
  action === 'remove'
    ? { type: REPAIR_TYPE, version: 2, userPoolId, sub, action }
    : { type: REPAIR_TYPE, version: 1, userPoolId, sub, action };

/** One user that changed, as one record of the changes queue says. */
export interface UserChange {
  sub: string;
  /** The pool the event names; undefined when it names none (a call made with a user's token). */
  userPoolId: string | undefined;
  /**
   * `deleted` when the event deletes the user, `removed` when reconcile found the user's status one
   * the policy leaves out: the only kinds that may lead to a DELETE.
   */
  kind: 'changed' | 'deleted' | 'removed';
  /** The eventName, or `reconcile`. */
  source: string;
}

export type ParsedRecord =
  | { change: UserChange }
  /** Nothing to do for this record (another pool, a failed call, an event that changes no user). */
  | { ignore: string; source?: string }
  /** Not a message this version can act on: to the dead-letter queue, unread. */
  | { malformed: string };

const REPAIR_KINDS: Readonly<Record<RepairAction, UserChange['kind']>> = {
  sync: 'changed',
  delete: 'deleted',
  remove: 'removed',
};

const parseRepair = (value: Record<string, unknown>): ParsedRecord => {
  const keys = Object.keys(value).sort().join(',');
  if (keys !== 'action,sub,type,userPoolId,version' || (value.version !== 1 && value.version !== 2)) {
    return { malformed: 'a repair message has exactly type, version (1 or 2), userPoolId, sub and action' };
  }
  const { userPoolId, sub, action } = value;
  if (!isUserPoolId(userPoolId)) return { malformed: 'no valid userPoolId' };
  if (!nonEmptyString(sub)) return { malformed: 'no sub' };
  const actions = value.version === 1 ? ['sync', 'delete'] : Object.keys(REPAIR_KINDS);
  if (typeof action !== 'string' || !actions.includes(action))
    return { malformed: `an action that is not one of ${actions.join(', ')} (version ${value.version})` };
  return {
    change: {
      sub: sub as string,
      userPoolId,
      kind: REPAIR_KINDS[action as RepairAction],
      source: 'reconcile',
    },
  };
};

/**
 * A CloudTrail management event of Cognito as EventBridge delivers it (`detail-type` "AWS API Call
 * via CloudTrail", `source` aws.cognito-idp): the sub is `detail.additionalEventData.sub`, the pool
 * (for the admin calls) `detail.requestParameters.userPoolId`. See events/README.md for the
 * shapes and where they come from.
 */
const parseCloudTrailEvent = (value: Record<string, unknown>): ParsedRecord => {
  const { detail } = value;
  if (value.source !== 'aws.cognito-idp' || !isRecord(detail)) return { malformed: 'not a Cognito event' };
  const eventName = typeof detail.eventName === 'string' ? detail.eventName : undefined;
  if (eventName === undefined) return { malformed: 'an event without an eventName' };
  // A failed call changed nothing. (The rule filters them out; an empty errorCode is a success.)
  if (nonEmptyString(detail.errorCode)) return { ignore: 'failed-call', source: eventName };
  const kind = DELETED.includes(eventName) ? 'deleted' : CHANGED.includes(eventName) ? 'changed' : undefined;
  if (kind === undefined) return { ignore: 'not-a-user-change', source: eventName };
  const request = isRecord(detail.requestParameters) ? detail.requestParameters : {};
  const extra = isRecord(detail.additionalEventData) ? detail.additionalEventData : {};
  const sub = nonEmptyString(extra.sub);
  if (sub === undefined) return { ignore: 'no-sub', source: eventName };
  const userPoolId = nonEmptyString(request.userPoolId);
  return { change: { sub, userPoolId, kind, source: eventName } };
};

/** Reads one changes-queue message body; never throws. */
export const parseChangeRecord = (body: string): ParsedRecord => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { malformed: 'the message is not JSON' };
  }
  if (!isRecord(value)) return { malformed: 'the message is not a JSON object' };
  if (value.type === REPAIR_TYPE) return parseRepair(value);
  if (value['detail-type'] === 'AWS API Call via CloudTrail') return parseCloudTrailEvent(value);
  return { malformed: 'neither a CloudTrail event nor a repair message' };
};

/** The records of one batch, grouped by user: each user is read and written once per batch. */
export const coalesce = <T extends { change: UserChange }>(records: readonly T[]): Map<string, T[]> => {
  const bySub = new Map<string, T[]>();
  for (const record of records) {
    const group = bySub.get(record.change.sub);
    if (group) group.push(record);
    else bySub.set(record.change.sub, [record]);
  }
  return bySub;
};

export interface UserChangeDeps {
  userPoolId: string;
  policy: UserPolicy;
  /** The user with this sub as Cognito holds it now, or undefined when the pool has none. */
  findUser: (sub: string) => Promise<PoolUser | undefined>;
  userService: {
    createUser: (
      body: ReturnType<typeof recordOf>,
      key: string,
    ) => Promise<WriteResult<'created' | 'exists'>>;
    patchUser: (
      sub: string,
      patch: ReturnType<typeof patchOf>,
      key: string,
    ) => Promise<WriteResult<'updated' | 'stale' | 'missing'>>;
    deleteUser: (sub: string, key: string) => Promise<WriteResult<'deleted'>>;
  };
}

/** What became of a user: done (created, updated, deleted, skipped), or to try later, or refused. */
export interface ChangeReport extends OutcomeReport {
  outcome: 'created' | 'updated' | 'deleted' | 'skipped' | 'deferred' | 'dead-lettered';
  keys: UserKeys & { source?: string };
  /** `dead-lettered`: what the User Service answered, credentials cut out; never logged. */
  detail?: string;
}

const measuredOf = (result: WriteResult) => ({
  attempts: result.attempts,
  attemptLatenciesMs: result.attemptLatenciesMs,
  durationMs: result.durationMs,
  ...(result.httpStatus !== undefined && { httpStatus: result.httpStatus }),
});

/** A write that is not done: refused (to the dead-letter queue) or to try again later. */
const notDone = (result: WriteResult & { failure: string }, keys: ChangeReport['keys']): ChangeReport => ({
  outcome: result.failure === 'rejected' || result.failure === 'redirect' ? 'dead-lettered' : 'deferred',
  reason: result.reason ?? 'unknown',
  ...(result.detail !== undefined && { detail: result.detail }),
  ...measuredOf(result),
  keys,
});

/**
 * Applies one user's changes: reads the user's current state and writes it. A delete happens only
 * when a delete event says so and Cognito confirms the user is gone from the configured pool;
 * every other "not found" is skipped.
 */
export const applyUserChange = async (
  changes: readonly UserChange[],
  deps: UserChangeDeps,
): Promise<ChangeReport> => {
  const [first] = changes;
  if (first === undefined) throw new RangeError('applyUserChange needs at least one change');
  const { sub } = first;
  const source = [...new Set(changes.map((change) => change.source))].join(',');
  const keys = { userPoolId: deps.userPoolId, cognitoSub: sub, source };
  const otherPool = changes.find(
    (change) => change.userPoolId !== undefined && change.userPoolId !== deps.userPoolId,
  );
  if (otherPool && changes.every((change) => change.userPoolId !== undefined)) {
    return { outcome: 'skipped', reason: 'other-pool', keys };
  }
  // Only the changes that name this pool, or none (a user's own call): another pool's say nothing here.
  const relevant = changes.filter(
    (change) => change.userPoolId === undefined || change.userPoolId === deps.userPoolId,
  );

  let user: PoolUser | undefined;
  try {
    user = await deps.findUser(sub);
  } catch (error) {
    return cognitoFailure(error, keys);
  }

  const deleteTheUser = async (): Promise<ChangeReport> => {
    const deleted = await deps.userService.deleteUser(
      sub,
      writeKey(deps.userPoolId, sub, { method: 'DELETE' }),
    );
    if (deleted.outcome !== undefined) return { outcome: 'deleted', ...measuredOf(deleted), keys };
    return notDone(deleted, keys);
  };

  if (user === undefined) {
    if (!relevant.some((change) => change.kind === 'deleted' || change.kind === 'removed'))
      return { outcome: 'skipped', reason: 'not-in-pool', keys };
    return deleteTheUser();
  }

  if (!belongs(deps.policy, user.status)) {
    // Reconcile found the User Service holding a user the policy leaves out, and Cognito says so too.
    if (relevant.some((change) => change.kind === 'removed')) return deleteTheUser();
    return { outcome: 'skipped', reason: 'status-not-synced', keys };
  }
  const patch = patchOf(deps.policy, user);
  const patchKey = writeKey(deps.userPoolId, sub, { method: 'PATCH', body: JSON.stringify(patch) });
  const patched = await deps.userService.patchUser(sub, patch, patchKey);
  if (patched.outcome === 'updated') return { outcome: 'updated', ...measuredOf(patched), keys };
  if (patched.outcome === 'stale')
    return { outcome: 'skipped', reason: 'newer-state-stored', ...measuredOf(patched), keys };
  if (patched.outcome === undefined) return notDone(patched, keys);

  // Not in the User Service: create it with its whole current state.
  const created = await deps.userService.createUser(
    recordOf(deps.policy, user),
    idempotencyKey(deps.userPoolId, sub),
  );
  if (created.outcome === 'created') return { outcome: 'created', ...measuredOf(created), keys };
  if (created.outcome === undefined) return notDone(created, keys);
  // Created meanwhile by another path (the trigger, a retry): make sure it holds this state.
  const again = await deps.userService.patchUser(sub, patch, patchKey);
  if (again.outcome === 'updated') return { outcome: 'updated', ...measuredOf(again), keys };
  if (again.outcome === 'stale')
    return { outcome: 'skipped', reason: 'newer-state-stored', ...measuredOf(again), keys };
  if (again.outcome === undefined) return notDone(again, keys);
  return { outcome: 'deferred', reason: 'created-and-gone', ...measuredOf(again), keys };
};
