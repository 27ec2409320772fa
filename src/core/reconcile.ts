// Reconcile: the backstop for events that were lost. The pool and the User Service are compared
// slice by slice of the sub space (Cognito's ListUsers filters `sub ^= "…"`, the service lists
// by prefix in sub order), so a slice of a pool of millions fits in memory and in one Lambda
// invocation. Drift by kind: missing (in the pool, not in the service), different (the
// Cognito-owned fields differ), orphaned (in the service, gone from the pool — confirmed one by
// one, since ListUsers is eventually consistent). Plain functions, dependencies passed in.

import type { PoolUser } from '../clients/cognito-users.js';
import type { ListedServiceUser } from '../clients/user-service.js';
import type { UserPolicy } from '../config.js';
import { belongs, recordOf } from './user-policy.js';

/** The fields compared: what Cognito owns of a user in the User Service. */
export const COMPARED_FIELDS = ['email', 'fullName', 'status'] as const;
export type ComparedField = (typeof COMPARED_FIELDS)[number];

export interface SliceDrift {
  /** Pool users the policy syncs, seen in this slice. */
  checked: number;
  inStep: number;
  missing: PoolUser[];
  different: { user: PoolUser; fields: ComparedField[] }[];
  /** In the service, not listed in the pool: orphaned once Cognito confirms the user is gone. */
  orphanCandidates: string[];
}

/** Compares one slice of the pool with the same slice of the User Service, by cognitoSub. */
export const compareSlice = (
  policy: UserPolicy,
  poolUsers: readonly PoolUser[],
  serviceUsers: readonly ListedServiceUser[],
): SliceDrift => {
  const inService = new Map(serviceUsers.map((user) => [user.cognitoSub, user]));
  const inPool = new Set(poolUsers.map((user) => user.sub));
  const drift: SliceDrift = { checked: 0, inStep: 0, missing: [], different: [], orphanCandidates: [] };
  for (const user of poolUsers) {
    // A user the policy leaves out is neither missing nor, while in the pool, an orphan.
    if (!belongs(policy, user.status)) continue;
    drift.checked++;
    const held = inService.get(user.sub);
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

/** The slices of a run: `digits` hex digits of prefix each (0 digits: one slice, the whole pool). */
export const slicePrefixes = (digits: number): string[] => {
  let prefixes = [''];
  for (let digit = 0; digit < digits; digit++)
    prefixes = prefixes.flatMap((prefix) => [...HEX].map((char) => `${prefix}${char}`));
  return prefixes;
};

/** Users per slice a run aims at: a few seconds of ListUsers, and little memory. */
export const TARGET_SLICE_USERS = 10_000;

/** The prefix length that keeps slices near TARGET_SLICE_USERS for a pool of about `users`. */
export const sliceDigitsFor = (users: number | undefined): number => {
  if (users === undefined || users <= TARGET_SLICE_USERS) return 0;
  return Math.min(4, Math.ceil(Math.log(users / TARGET_SLICE_USERS) / Math.log(16)));
};

/** The running totals of a reconcile run. */
export interface ReconcileCounts {
  slices: number;
  slicesDone: number;
  checked: number;
  inStep: number;
  missing: number;
  different: number;
  orphaned: number;
  /** Repairs done (--apply) or sent to the user-changes workers (the scheduled run). */
  created: number;
  updated: number;
  deleted: number;
  /** Orphans left alone because the run's deletion cap was reached. */
  deletesCapped: number;
  /** Repairs that failed (the report lists them). */
  failed: number;
}

export const emptyReconcileCounts = (slices: number): ReconcileCounts => ({
  slices,
  slicesDone: 0,
  checked: 0,
  inStep: 0,
  missing: 0,
  different: 0,
  orphaned: 0,
  created: 0,
  updated: 0,
  deleted: 0,
  deletesCapped: 0,
  failed: 0,
});

export interface SliceDeps {
  policy: UserPolicy;
  /** Every pool user whose sub starts with the prefix. */
  listPool: (prefix: string) => Promise<PoolUser[]>;
  /** Every service user whose cognitoSub starts with the prefix. */
  listService: (prefix: string) => Promise<ListedServiceUser[]>;
  /** Whether the pool still has a user with this sub (AdminGetUser, then ListUsers). */
  stillInPool: (sub: string) => Promise<boolean>;
}

export interface SliceResult {
  prefix: string;
  drift: SliceDrift;
  /** Orphan candidates Cognito confirmed gone. */
  orphaned: string[];
}

/** Lists both sides of one slice, compares them, and confirms each orphan with Cognito. */
export const reconcileSlice = async (prefix: string, deps: SliceDeps): Promise<SliceResult> => {
  const [poolUsers, serviceUsers] = await Promise.all([deps.listPool(prefix), deps.listService(prefix)]);
  const drift = compareSlice(deps.policy, poolUsers, serviceUsers);
  const orphaned: string[] = [];
  for (const sub of drift.orphanCandidates) if (!(await deps.stillInPool(sub))) orphaned.push(sub);
  return { prefix, drift, orphaned };
};

/** Adds a slice's drift to the run's totals. */
export const countSlice = (counts: ReconcileCounts, { drift, orphaned }: SliceResult): void => {
  counts.slicesDone++;
  counts.checked += drift.checked;
  counts.inStep += drift.inStep;
  counts.missing += drift.missing.length;
  counts.different += drift.different.length;
  counts.orphaned += orphaned.length;
};
