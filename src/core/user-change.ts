// A user's life after sign-up: a changes-queue message says "user X changed" (a CloudTrail event
// through EventBridge, or a repair from reconcile); the user's current state is read from Cognito
// and written to the User Service. Order does not matter, duplicates are harmless, and a stale
// write never wins (the PATCH carries Cognito's last-modified time). Plain functions with their
// dependencies passed in.

import { measurement, type WriteResult } from '../clients/user-service.js';
import { idempotencyKey, writeKey } from '../domain/idempotency.js';
import type { OutcomeReport, UserKeys } from '../domain/outcomes.js';
import type { PoolUser } from '../domain/pool-user.js';
import type { UserChange } from '../domain/user-events.js';
import type { UserPolicy } from '../domain/user-policy.js';
import { belongs, patchOf, recordOf } from '../domain/user-policy.js';
import { cognitoFailure } from './cognito-failure.js';

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

/** A write that is not done: refused (to the dead-letter queue) or to try again later. */
const notDone = (result: WriteResult & { failure: string }, keys: ChangeReport['keys']): ChangeReport => ({
  outcome: result.failure === 'rejected' || result.failure === 'redirect' ? 'dead-lettered' : 'deferred',
  reason: result.reason ?? 'unknown',
  ...(result.detail !== undefined && { detail: result.detail }),
  ...measurement(result),
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
    if (deleted.outcome !== undefined) return { outcome: 'deleted', ...measurement(deleted), keys };
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
  if (patched.outcome === 'updated') return { outcome: 'updated', ...measurement(patched), keys };
  if (patched.outcome === 'stale')
    return { outcome: 'skipped', reason: 'newer-state-stored', ...measurement(patched), keys };
  if (patched.outcome === undefined) return notDone(patched, keys);

  // Not in the User Service: create it with its whole current state.
  const created = await deps.userService.createUser(
    recordOf(deps.policy, user),
    idempotencyKey(deps.userPoolId, sub),
  );
  if (created.outcome === 'created') return { outcome: 'created', ...measurement(created), keys };
  if (created.outcome === undefined) return notDone(created, keys);
  // Created meanwhile by another path (the trigger, a retry): make sure it holds this state.
  const again = await deps.userService.patchUser(sub, patch, patchKey);
  if (again.outcome === 'updated') return { outcome: 'updated', ...measurement(again), keys };
  if (again.outcome === 'stale')
    return { outcome: 'skipped', reason: 'newer-state-stored', ...measurement(again), keys };
  if (again.outcome === undefined) return notDone(again, keys);
  return { outcome: 'deferred', reason: 'created-and-gone', ...measurement(again), keys };
};
