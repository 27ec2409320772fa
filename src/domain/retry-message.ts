// The retry queue's message: what the sign-up path writes (src/core/sync-user.ts) and the worker
// reads back here, strictly.

import { MalformedMessageError } from '../errors.js';
import { isRecord, nonEmptyString } from '../guards.js';
import { TRIGGER_SOURCES } from './cognito-event.js';
import { USER_RECORD_KEYS, type UserRecord } from './contract.js';
import { idempotencyKey } from './idempotency.js';
import type { UserDefaults } from './user-policy.js';
import { isUserPoolId } from './user-pool-id.js';

/** The retry queue's message: a user the User Service has not got yet, with the exact request body. */
export interface RetryMessage {
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

const MESSAGE_KEYS = new Set([
  'version',
  'idempotencyKey',
  'userPoolId',
  'triggerSource',
  'body',
  'reason',
  'detail',
  'attempts',
  'firstFailedAt',
]);

/** What only the sign-up trigger writes, and so what a message must say to be one of ours. */
export interface RetryExpectations {
  /** DEFAULT_USER_STATUS and DEFAULT_USER_ROLE as configured: a message cannot choose its own. */
  userDefaults: UserDefaults;
}

const nullableString = (value: unknown): boolean => value === null || typeof value === 'string';

/**
 * Reads a queue message back, strictly: whoever can send to the queue must not be able to make the
 * worker create any user it likes with our key and signature. Exactly the keys and types of a
 * RetryMessage; a body of exactly the contract's keys, made for the user it names (createdBy and
 * updatedBy are its sub), with the configured status and role; an idempotency key that is the one
 * derived from the pool and the sub. Throws a MalformedMessageError saying what is wrong, never
 * what the message holds.
 */
export const parseRetryMessage = (text: string, { userDefaults }: RetryExpectations): RetryMessage => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedMessageError('the message is not JSON');
  }
  const malformed = (problem: string) => new MalformedMessageError(`the message ${problem}`);
  if (!isRecord(value)) throw malformed('is not a JSON object');
  const unknownKeys = Object.keys(value).filter((key) => !MESSAGE_KEYS.has(key));
  if (unknownKeys.length > 0)
    throw malformed(`has ${unknownKeys.length} key(s) a retry message does not have`);
  if (value.version !== 1) throw malformed('version is not 1');
  const { userPoolId, idempotencyKey: key, body } = value;
  if (!isUserPoolId(userPoolId)) throw malformed('has no valid userPoolId');
  if (value.triggerSource !== TRIGGER_SOURCES.confirmSignUp) throw malformed('is not from a sign-up');
  if (typeof value.reason !== 'string') throw malformed('has no reason');
  if (!Number.isSafeInteger(value.attempts) || (value.attempts as number) < 0)
    throw malformed('has no attempts count');
  if (typeof value.firstFailedAt !== 'string' || Number.isNaN(Date.parse(value.firstFailedAt))) {
    throw malformed('has no firstFailedAt time');
  }
  if ('detail' in value && typeof value.detail !== 'string') throw malformed('has a detail that is not text');

  if (!isRecord(body)) throw malformed('has no body');
  const bodyKeys = Object.keys(body);
  if (bodyKeys.length !== USER_RECORD_KEYS.length || !USER_RECORD_KEYS.every((name) => name in body)) {
    throw malformed(`body does not have exactly the keys ${USER_RECORD_KEYS.join(', ')}`);
  }
  const sub = nonEmptyString(body.cognitoSub);
  if (sub === undefined) throw malformed('body has no cognitoSub');
  if (!nullableString(body.email) || !nullableString(body.fullName)) {
    throw malformed('body has an email or fullName that is neither text nor null');
  }
  if (body.createdBy !== sub || body.updatedBy !== sub)
    throw malformed('body is not made for the user it names');
  if (body.status !== userDefaults.status || body.role !== userDefaults.role) {
    throw malformed('body has a status or role the configuration does not give');
  }
  if (key !== idempotencyKey(userPoolId, sub)) throw malformed('idempotencyKey is not the one of its user');
  return value as unknown as RetryMessage;
};
