// The queue message for a user the User Service has not got yet: the exact request body plus
// what the retry worker and an operator need. The sign-up path writes it, the worker reads it.

import { USER_RECORD_KEYS, type UserRecord } from './user-record.js';

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

export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * Reads a queue message back; throws a MalformedMessageError saying what is wrong (never what
 * the message holds) when it is not an UnsyncedUser this version can send.
 */
export const parseUnsyncedUser = (text: string): UnsyncedUser => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedMessageError('the message is not JSON');
  }
  if (!isObject(value)) throw new MalformedMessageError('the message is not a JSON object');
  if (value.version !== 1) throw new MalformedMessageError('the message version is not 1');
  for (const key of ['idempotencyKey', 'userPoolId', 'triggerSource'] as const) {
    if (!nonEmpty(value[key])) throw new MalformedMessageError(`the message has no ${key}`);
  }
  const { body } = value;
  if (!isObject(body) || !nonEmpty(body.cognitoSub)) {
    throw new MalformedMessageError('the message has no body with a cognitoSub');
  }
  for (const key of USER_RECORD_KEYS) {
    if (!(key in body)) throw new MalformedMessageError(`the message body has no ${key}`);
  }
  return value as unknown as UnsyncedUser;
};
