// parseRetryMessage: the pool a message names (every partition's pool ids, read by the one parser), and
// the versions of the message, each read as it was written, its body brought to the current shape.

import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { USER_RECORD_FIELDS, USER_RECORD_KEYS } from '../../src/domain/contract.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import type { RetryMessage } from '../../src/domain/retry-message.js';
import { parseRetryMessage, RETRY_MESSAGE_VERSION } from '../../src/domain/retry-message.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { MalformedMessageError } from '../../src/errors.js';

const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
/** DEFAULT_USER_STATUS and DEFAULT_USER_ROLE as configured now. */
const DEFAULTS = { status: 'ACTIVE', role: 'USER' };

/** A retry message as the sign-up path writes it now, for the pool given. */
const messageFor = (userPoolId: string): RetryMessage => ({
  version: RETRY_MESSAGE_VERSION,
  idempotencyKey: idempotencyKey(userPoolId, SUB),
  userPoolId,
  triggerSource: 'PostConfirmation_ConfirmSignUp',
  body: toUserRecord(SUB, { email: 'ada.lovelace@example.com', name: 'Ada Lovelace' }, DEFAULTS),
  reason: 'http-503',
  attempts: 3,
  firstFailedAt: '2026-11-26T10:00:00.000Z',
});

describe('parseRetryMessage', () => {
  it.each([
    'eu-west-1_Qx7Lm2Rt9',
    'eusc-de-east-1_AbC123',
    'us-gov-west-1_AbC123',
    'cn-north-1_AbC123',
    'us-iso-east-1_AbC123',
    'us-isob-east-1_AbC123',
  ])('reads a message naming the pool %s', (userPoolId) => {
    const message = messageFor(userPoolId);

    expect(parseRetryMessage(JSON.stringify(message))).toEqual(message);
  });

  it.each([
    ['a region no SDK resolves', 'EU_WEST_1_Qx7Lm2Rt9'],
    ['more than the 55 characters of a pool id', `eu-west-1_${'a'.repeat(46)}`],
  ])('refuses a message naming %s', (_, userPoolId) => {
    const text = JSON.stringify(messageFor(userPoolId));

    expect(() => parseRetryMessage(text)).toThrow(MalformedMessageError);
    expect(() => parseRetryMessage(text)).toThrow('the message has no valid userPoolId');
  });
});

describe('parseRetryMessage and the versions of a message', () => {
  /** A version-1 message as the sign-up path wrote it before any field was added: exactly these seven body keys. */
  const VERSION_1 = JSON.stringify({
    version: 1,
    idempotencyKey: idempotencyKey('eu-west-1_Qx7Lm2Rt9', SUB),
    userPoolId: 'eu-west-1_Qx7Lm2Rt9',
    triggerSource: 'PostConfirmation_ConfirmSignUp',
    body: {
      cognitoSub: SUB,
      email: 'ada.lovelace@example.com',
      fullName: 'Ada Lovelace',
      status: 'ACTIVE',
      role: 'USER',
      createdBy: SUB,
      updatedBy: SUB,
    },
    reason: 'http-503',
    attempts: 3,
    firstFailedAt: '2026-11-26T10:00:00.000Z',
  });
  /** The fields the contract added since version 1, each null: what a version-1 body is read with. */
  const addedSinceVersion1 = Object.fromEntries(
    USER_RECORD_KEYS.filter((key) => USER_RECORD_FIELDS[key].since > 1).map((key) => [key, null]),
  );

  it('reads a version-1 message of today, its body in the current shape: a field added since is null', () => {
    const message = parseRetryMessage(VERSION_1);

    expect(message.body).toEqual({ ...JSON.parse(VERSION_1).body, ...addedSinceVersion1 });
    expect(Object.keys(message.body)).toEqual([...USER_RECORD_KEYS]);
  });

  it('reads a version-1 message queued under other defaults, its status and role as they were queued', () => {
    // Queued while DEFAULT_USER_STATUS and DEFAULT_USER_ROLE were PENDING and MEMBER; read after a
    // deployment that made them ACTIVE and USER: the body was valid when it was queued.
    const written = JSON.parse(VERSION_1);
    const queued = { ...written, body: { ...written.body, status: 'PENDING', role: 'MEMBER' } };

    const message = parseRetryMessage(JSON.stringify(queued));

    expect(message.body).toEqual({ ...queued.body, ...addedSinceVersion1 });
  });

  it.each([
    ['a role with a space', { role: 'SUPER USER' }],
    ['an empty status', { status: '' }],
    ['a role of 65 characters', { role: 'R'.repeat(65) }],
    ['a status with a line break', { status: 'ACTIVE\n' }],
  ])('refuses a body with %s: no configuration gives it, so no sign-up queued it', (_, change) => {
    const written = JSON.parse(VERSION_1);
    const text = JSON.stringify({ ...written, body: { ...written.body, ...change } });

    expect(() => parseRetryMessage(text)).toThrow(
      'the message body has a status or role no configuration gives',
    );
  });

  it('holds a version-1 body to its own seven keys, whatever was added since', () => {
    const written = JSON.parse(VERSION_1);
    const withAnother = { ...written, body: { ...written.body, phoneNumber: null } };
    const { role: _role, ...withoutRole } = written.body;

    for (const body of [withAnother.body, withoutRole]) {
      expect(() => parseRetryMessage(JSON.stringify({ ...written, body }))).toThrow(
        'the message body does not have exactly the keys cognitoSub, email, fullName, status, role, createdBy, updatedBy',
      );
    }
  });

  it('writes the version of the latest field, and every field added since version 1 can be null', () => {
    const versions = Object.values(USER_RECORD_FIELDS).map((field) => field.since);

    expect(RETRY_MESSAGE_VERSION).toBe(Math.max(...versions));
    for (const key of Object.keys(addedSinceVersion1)) {
      expect(v.is(USER_RECORD_FIELDS[key as keyof typeof USER_RECORD_FIELDS].type, null), key).toBe(true);
    }
  });

  it.each([
    ['a version newer than the worker reads', RETRY_MESSAGE_VERSION + 1],
    ['version 0', 0],
    ['a version that is no integer', 1.5],
    ['a version that is text', '1'],
  ])('refuses %s', (_, version) => {
    const text = JSON.stringify({ ...JSON.parse(VERSION_1), version });

    expect(() => parseRetryMessage(text)).toThrow(/^the message version is not 1/);
  });

  it.each([
    ['an unknown key', { cause: 'x' }, 'the message has a key a retry message does not have'],
    ['no reason', { reason: undefined }, 'the message has no reason'],
    ['a negative attempts count', { attempts: -1 }, 'the message has no attempts count'],
    ['an email that is a number', { body: { email: 42 } }, 'the message body.email is not string'],
  ])('says what is wrong with a message with %s, never what it holds', (_, change, problem) => {
    const written = JSON.parse(VERSION_1);
    const { body, ...envelope } = change as { body?: Record<string, unknown> };
    const text = JSON.stringify({ ...written, ...envelope, body: { ...written.body, ...body } });

    expect(() => parseRetryMessage(text)).toThrow(problem);
  });
});
