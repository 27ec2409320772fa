// Reconcile: the backstop for events that were lost. The pool and the User Service are compared
// slice by slice of the sub space (Cognito's ListUsers filters `sub ^= "…"`, the service lists
// by prefix in sub order), so a slice of a pool of millions fits in memory and in one Lambda
// invocation. Drift by kind: missing (in the pool, not in the service), different (the
// Cognito-owned fields differ), orphaned (in the service, gone from the pool), excluded (in the
// service, in the pool with a status the user policy leaves out).
//
// The one repair plan, for the command line and the scheduled run alike: what a slice may repair,
// how its deletions are counted against the run's cap, and what is left for the next run. A
// deletion candidate is confirmed with Cognito (ListUsers is eventually consistent) only while
// the cap still allows a deletion: the rest are reported, not looked up one by one, so a slice
// with thousands of orphans costs no more than the cap. Plain functions, dependencies passed in.

import type { ListedServiceUser } from '../clients/user-service.js';
import { COGNITO_OWNED_KEYS, type CognitoOwnedKey } from '../domain/contract.js';
import type { PoolUser } from '../domain/pool-user.js';
import type { UserPolicy } from '../domain/user-policy.js';
import { belongs, recordOf } from '../domain/user-policy.js';

/** The fields compared: what Cognito owns of a user in the User Service (the contract says which). */
export const COMPARED_FIELDS: readonly CognitoOwnedKey[] = COGNITO_OWNED_KEYS;
export type ComparedField = CognitoOwnedKey;

export interface SliceDrift {
  /** Pool users the policy syncs, seen in this slice. */
  checked: number;
  inStep: number;
  missing: PoolUser[];
  different: { user: PoolUser; fields: ComparedField[] }[];
  /** In the service, not listed in the pool: orphaned once Cognito confirms the user is gone. */
  orphanCandidates: string[];
  /**
   * In the service, listed in the pool with a status the policy leaves out (an unconfirmed
   * sign-up, a status taken out of SYNC_USER_STATUSES): excluded once Cognito confirms it.
   */
  excludedCandidates: string[];
}

/** Compares one slice of the pool with the same slice of the User Service, by cognitoSub. */
export const compareSlice = (
  policy: UserPolicy,
  poolUsers: readonly PoolUser[],
  serviceUsers: readonly ListedServiceUser[],
): SliceDrift => {
  const inService = new Map(serviceUsers.map((user) => [user.cognitoSub, user]));
  const inPool = new Set(poolUsers.map((user) => user.sub));
  const drift: SliceDrift = {
    checked: 0,
    inStep: 0,
    missing: [],
    different: [],
    orphanCandidates: [],
    excludedCandidates: [],
  };
  for (const user of poolUsers) {
    const held = inService.get(user.sub);
    if (!belongs(policy, user.status)) {
      // Not a user the service should hold: drift only when it holds them.
      if (held !== undefined) drift.excludedCandidates.push(user.sub);
      continue;
    }
    drift.checked++;
    if (held === undefined) {
      drift.missing.push(user);
      continue;
    }
    const expected = recordOf(policy, user);
    const fields = COMPARED_FIELDS.filter((field) => held[field] !== expected[field]);
    if (fields.length > 0) drift.different.push({ user, fields });
    else drift.inStep++;
  }
  for (const user of serviceUsers)
    if (!inPool.has(user.cognitoSub)) drift.orphanCandidates.push(user.cognitoSub);
  return drift;
};

/** The hex digits a sub (a UUID) starts with. */
const HEX = '0123456789abcdef';

/** The most hex digits a slice's prefix has: 65 536 slices, for a pool of a billion users. */
export const MAX_SLICE_DIGITS = 4;

/** The slices of a run: `digits` hex digits of prefix each (0 digits: one slice, the whole pool). */
export const slicePrefixes = (digits: number): string[] => {
  let prefixes = [''];
  for (let digit = 0; digit < digits; digit++)
    prefixes = prefixes.flatMap((prefix) => [...HEX].map((char) => `${prefix}${char}`));
  return prefixes;
};

/** The prefix of slice `index` of a run cut into `digits` hex digits, without listing the others. */
export const slicePrefix = (digits: number, index: number): string =>
  digits === 0 ? '' : index.toString(16).padStart(digits, '0');

/** How many slices `digits` hex digits make. */
export const sliceCount = (digits: number): number => 16 ** digits;

/** Users per slice a run aims at: a few seconds of ListUsers, and little memory. */
export const TARGET_SLICE_USERS = 10_000;

/** The slicing of a pool whose size is unknown (DescribeUserPool failed): the finest a run uses. */
export const UNKNOWN_SIZE_SLICE_DIGITS = 3;

/**
 * The prefix length that keeps slices near TARGET_SLICE_USERS for a pool of about `users`. A pool
 * of unknown size gets the finest slicing, never one slice: one unfiltered slice of a pool of
 * millions could not finish in an invocation.
 */
export const sliceDigitsFor = (users: number | undefined): number => {
  if (users === undefined || !Number.isFinite(users) || users < 0) return UNKNOWN_SIZE_SLICE_DIGITS;
  if (users <= TARGET_SLICE_USERS) return 0;
  return Math.min(MAX_SLICE_DIGITS, Math.ceil(Math.log(users / TARGET_SLICE_USERS) / Math.log(16)));
};

/** The running totals of a reconcile run. */
export interface ReconcileCounts {
  slices: number;
  slicesDone: number;
  checked: number;
  inStep: number;
  missing: number;
  different: number;
  /** Confirmed gone from the pool. */
  orphaned: number;
  /** Confirmed in the pool with a status the policy leaves out. */
  excluded: number;
  /** Repairs done (--apply) or sent to the user-changes workers (the scheduled run). */
  created: number;
  updated: number;
  deleted: number;
  /** Deletion candidates left for the next run, unconfirmed, because the run's cap was reached. */
  deletesCapped: number;
  /** Repairs that failed (the report lists them). */
  failed: number;
  /** Missing users Cognito no longer had when asked again (a lagging listing): not created. */
  gone: number;
}

export const emptyReconcileCounts = (slices: number): ReconcileCounts => ({
  slices,
  slicesDone: 0,
  checked: 0,
  inStep: 0,
  missing: 0,
  different: 0,
  orphaned: 0,
  excluded: 0,
  created: 0,
  updated: 0,
  deleted: 0,
  deletesCapped: 0,
  failed: 0,
  gone: 0,
});

export interface SliceDeps {
  policy: UserPolicy;
  /** Every pool user whose sub starts with the prefix. */
  listPool: (prefix: string) => Promise<PoolUser[]>;
  /** Every service user whose cognitoSub starts with the prefix. */
  listService: (prefix: string) => Promise<ListedServiceUser[]>;
  /** The pool's user with this sub as Cognito holds it now (AdminGetUser), or undefined when gone. */
  lookup: (sub: string) => Promise<PoolUser | undefined>;
}

/** Why a user is to leave the User Service. */
export type RemovalKind = 'orphaned' | 'excluded';

export interface Removal {
  sub: string;
  kind: RemovalKind;
}

/**
 * A run's cap on deletions: `max` for the whole run, `asked` the deletions asked for so far
 * (counted before each is sent, so a killed or retried run never asks for more than `max`).
 */
export interface DeletionBudget {
  readonly max: number;
  asked: number;
}

export const deletesLeft = ({ max, asked }: DeletionBudget): number => Math.max(0, max - asked);

/** What to do about one slice: the plan both the command line and the scheduled run carry out. */
export interface SlicePlan {
  prefix: string;
  drift: SliceDrift;
  /** Confirmed with Cognito, within what the cap allows: to delete from the User Service. */
  removals: Removal[];
  /** Candidates over the cap: reported, not confirmed; the next run takes them up. */
  capped: string[];
}

/**
 * Lists both sides of one slice, compares them, and confirms deletion candidates with Cognito,
 * in sub order, at most `allowed` of them: an orphan candidate Cognito no longer has is orphaned,
 * one it holds with a status the policy leaves out is excluded, one it holds as a user (ListUsers
 * lagged) is left alone. Candidates beyond `allowed`, or left when `outOfTime` says so (each
 * lookup may cost a paced ListUsers: a Lambda invocation must end), are capped: the next run takes
 * them up.
 */
export const planSlice = async (
  prefix: string,
  deps: SliceDeps,
  allowed: number,
  outOfTime: () => boolean = () => false,
): Promise<SlicePlan> => {
  const [poolUsers, serviceUsers] = await Promise.all([deps.listPool(prefix), deps.listService(prefix)]);
  const drift = compareSlice(deps.policy, poolUsers, serviceUsers);
  const candidates = [...drift.orphanCandidates, ...drift.excludedCandidates].sort();
  const removals: Removal[] = [];
  let confirmed = 0;
  for (const sub of candidates.slice(0, Math.max(0, allowed))) {
    if (outOfTime()) break;
    confirmed++;
    const user = await deps.lookup(sub);
    if (user === undefined) removals.push({ sub, kind: 'orphaned' });
    else if (!belongs(deps.policy, user.status)) removals.push({ sub, kind: 'excluded' });
  }
  return { prefix, drift, removals, capped: candidates.slice(confirmed) };
};

/** Adds a slice's drift to the run's totals (the repairs made are the runner's to count). */
export const countSlice = (counts: ReconcileCounts, { drift, removals, capped }: SlicePlan): void => {
  counts.slicesDone++;
  counts.checked += drift.checked;
  counts.inStep += drift.inStep;
  counts.missing += drift.missing.length;
  counts.different += drift.different.length;
  counts.orphaned += removals.filter((removal) => removal.kind === 'orphaned').length;
  counts.excluded += removals.filter((removal) => removal.kind === 'excluded').length;
  counts.deletesCapped += capped.length;
};

/** Drift left after a run: what a report calls "not in step". */
export const driftOf = (counts: ReconcileCounts): number =>
  counts.missing + counts.different + counts.orphaned + counts.excluded + counts.deletesCapped;
