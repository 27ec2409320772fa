// The idempotency key: a name-based UUID (RFC 9562 version 5) of the user pool and the sub, so
// every retry, queue redelivery, replay and backfill of one user carries the same key, and two
// pools can never collide.

import { createHash } from 'node:crypto';

/** The project's UUID namespace; changing it would give every user a new key. */
const NAMESPACE = Buffer.from('5f0cbbd4b6e24f6c9a0e6e9d3c7a1b52', 'hex');

const uuid5 = (name: string): string => {
  const hash = createHash('sha1').update(NAMESPACE).update(name).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50; // version 5
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** The key of a user's creation (POST): the same for every path that creates that user. */
export const idempotencyKey = (userPoolId: string, sub: string): string => uuid5(`${userPoolId}:${sub}`);

/**
 * The key of a later write to a user: a PATCH of exactly this body (a redelivery repeats it; a new
 * state is a new write), or the DELETE (one per user).
 */
export const writeKey = (
  userPoolId: string,
  sub: string,
  write: { method: 'PATCH'; body: string } | { method: 'DELETE' },
): string =>
  uuid5(
    write.method === 'PATCH'
      ? `${userPoolId}:${sub}:PATCH:${createHash('sha256').update(write.body).digest('hex')}`
      : `${userPoolId}:${sub}:DELETE`,
  );
