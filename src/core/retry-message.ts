// The retry queue's message: a user the User Service has not got yet, with the exact request body
// and what the retry worker and an operator need. The sign-up path writes it, the worker reads it.

import { MalformedMessageError } from '../errors.js';
import { isRecord, nonEmptyString } from '../guards.js';
import { USER_RECORD_KEYS, type UserRecord } from './user-record.js';

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

/**
 * Reads a queue message back; throws a MalformedMessageError saying what is wrong (never what
 * the message holds) when it is not a RetryMessage this version can send.
 */
export const parseRetryMessage = (text: string): RetryMessage => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedMessageError('the message is not JSON');
  }
  if (!isRecord(value)) throw new MalformedMessageError('the message is not a JSON object');
  if (value.version !== 1) throw new MalformedMessageError('the message version is not 1');
  for (const key of ['idempotencyKey', 'userPoolId', 'triggerSource'] as const) {
    if (!nonEmptyString(value[key])) throw new MalformedMessageError(`the message has no ${key}`);
  }
  const { body } = value;
  if (!isRecord(body) || !nonEmptyString(body.cognitoSub)) {
    throw new MalformedMessageError('the message has no body with a cognitoSub');
  }
  for (const key of USER_RECORD_KEYS) {
    if (!(key in body)) throw new MalformedMessageError(`the message body has no ${key}`);
  }
  return value as unknown as RetryMessage;
};
