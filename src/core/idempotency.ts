// The idempotency key: a name-based UUID (RFC 9562 version 5) of the user pool and the sub, so
// every retry, queue redelivery, replay and backfill of one user carries the same key, and two
// pools can never collide.

import { createHash } from 'node:crypto';

/** The project's UUID namespace; changing it would give every user a new key. */
const NAMESPACE = Buffer.from('5f0cbbd4b6e24f6c9a0e6e9d3c7a1b52', 'hex');

export const idempotencyKey = (userPoolId: string, sub: string): string => {
  const hash = createHash('sha1').update(NAMESPACE).update(`${userPoolId}:${sub}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50; // version 5
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
