// One policy for which users belong in the User Service, and what the service holds of them:
// applied alike by the trigger, the user-changes function, backfill and reconcile (configured by
// SYNC_USER_STATUSES, DEFAULT_USER_STATUS, DEFAULT_USER_ROLE and DISABLED_USER_STATUS).

import type { UserPatch, UserRecord } from './contract.js';
import type { PoolUser } from './pool-user.js';
import { fullNameOf, toUserRecord } from './user-record.js';

export interface UserDefaults {
  status: string;
  role: string;
}

/**
 * Which Cognito users belong in the User Service, and with which status: one policy, applied alike
 * by the trigger, the user-changes function, backfill and reconcile.
 */
export interface UserPolicy {
  /** The Cognito user statuses (UserStatus) whose users are synced: SYNC_USER_STATUSES. */
  statuses: ReadonlySet<string>;
  /** `status` and `role` of an enabled user (DEFAULT_USER_STATUS, DEFAULT_USER_ROLE). */
  userDefaults: UserDefaults;
  /** `status` of a disabled user (DISABLED_USER_STATUS). */
  disabledStatus: string;
}

/** Cognito's UserStatus values (ListUsers, AdminGetUser: UserStatusType). */
export const COGNITO_USER_STATUSES = [
  'UNCONFIRMED',
  'CONFIRMED',
  'ARCHIVED',
  'COMPROMISED',
  'UNKNOWN',
  'RESET_REQUIRED',
  'FORCE_CHANGE_PASSWORD',
  'EXTERNAL_PROVIDER',
] as const;

/**
 * A user, unless they never confirmed: confirmed and federated users, invited users
 * (FORCE_CHANGE_PASSWORD: made with AdminCreateUser, not signed in yet) and users an admin asked to
 * reset their password (RESET_REQUIRED). An UNCONFIRMED sign-up is not a user yet.
 */
export const DEFAULT_SYNCED_STATUSES = [
  'CONFIRMED',
  'EXTERNAL_PROVIDER',
  'FORCE_CHANGE_PASSWORD',
  'RESET_REQUIRED',
] as const;

/** Whether the user belongs in the User Service: a status the policy syncs (disabled or not). */
export const belongs = (policy: UserPolicy, status: string | undefined): boolean =>
  status !== undefined && policy.statuses.has(status);

/** The service `status` of a user: the default one, or the disabled one. */
export const serviceStatusOf = (policy: UserPolicy, enabled: boolean): string =>
  enabled ? policy.userDefaults.status : policy.disabledStatus;

/** The full record to create (POST) for a pool user: mapped as the trigger maps a sign-up. */
export const recordOf = (policy: UserPolicy, user: PoolUser): UserRecord => ({
  ...toUserRecord(user.sub, user.attributes, {
    status: serviceStatusOf(policy, user.enabled),
    role: policy.userDefaults.role,
  }),
  ...(user.lastModified !== undefined && { cognitoLastModified: user.lastModified }),
});

/** The Cognito-owned fields to PATCH, with the time that makes a stale write lose. */
export const patchOf = (policy: UserPolicy, user: PoolUser): UserPatch => {
  const record = recordOf(policy, user);
  return {
    email: record.email,
    fullName: fullNameOf(user.attributes),
    status: record.status,
    updatedBy: user.sub,
    cognitoLastModified: user.lastModified ?? new Date(0).toISOString(),
  };
};
