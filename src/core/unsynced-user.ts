// The queue message for a user the User Service has not got yet: the exact request body plus
// what the retry worker and an operator need. The sign-up path writes it, the worker reads it.

import type { UserRecord } from './user-record.js';

export interface UnsyncedUser {
  version: 1;
  /** The same key the first attempt carried, so a redelivery can never create the user twice. */
  idempotencyKey: string;
  userPoolId: string;
  triggerSource: string;
  body: UserRecord;
  /** A short code: `http-503`, `timeout`, `network-ECONNREFUSED`, `config-USER_SERVICE_URL`… */
  reason: string;
  /** What the User Service answered, cut to a few KiB. Holds PII at worst: never logged. */
  detail?: string;
  attempts: number;
  firstFailedAt: string;
}
