// The body of POST /api/v1/users, made from a Cognito user's attributes. The trigger, the
// retry worker and backfill all go through here, so a user looks the same whichever path
// created them.

import type { UserRecord } from './contract.js';

const present = (value: string | undefined): string | undefined =>
  value !== undefined && value.trim() !== '' ? value.trim() : undefined;

/** `name`, else `given_name` + `family_name` (either alone will do), else `preferred_username`. */
export const fullNameOf = (attributes: Readonly<Record<string, string>>): string | null => {
  const name = present(attributes.name);
  if (name) return name;
  const parts = [present(attributes.given_name), present(attributes.family_name)].filter(Boolean);
  if (parts.length > 0) return parts.join(' ');
  return present(attributes.preferred_username) ?? null;
};

export const toUserRecord = (
  sub: string,
  attributes: Readonly<Record<string, string>>,
  /** The user policy's defaults (./user-policy.ts), which imports this module. */
  userDefaults: Pick<UserRecord, 'status' | 'role'>,
): UserRecord => ({
  cognitoSub: sub,
  // As Cognito sent it: the User Service owns normalisation.
  email: attributes.email !== undefined && attributes.email !== '' ? attributes.email : null,
  fullName: fullNameOf(attributes),
  status: userDefaults.status,
  role: userDefaults.role,
  createdBy: sub,
  updatedBy: sub,
});
