// parseRetryMessage on the pool a message names: every partition's pool ids, read by the one parser.

import { describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import type { RetryMessage } from '../../src/domain/retry-message.js';
import { parseRetryMessage } from '../../src/domain/retry-message.js';
import { MalformedMessageError } from '../../src/errors.js';

const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const expectations = { userDefaults: { status: 'ACTIVE', role: 'USER' } };

/** A retry message as the sign-up path writes it, for the pool given. */
const messageFor = (userPoolId: string): RetryMessage => ({
  version: 1,
  idempotencyKey: idempotencyKey(userPoolId, SUB),
  userPoolId,
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

    expect(parseRetryMessage(JSON.stringify(message), expectations)).toEqual(message);
  });

  it.each([
    ['a region no SDK resolves', 'EU_WEST_1_Qx7Lm2Rt9'],
    ['more than the 55 characters of a pool id', `eu-west-1_${'a'.repeat(46)}`],
  ])('refuses a message naming %s', (_, userPoolId) => {
    const text = JSON.stringify(messageFor(userPoolId));

    expect(() => parseRetryMessage(text, expectations)).toThrow(MalformedMessageError);
    expect(() => parseRetryMessage(text, expectations)).toThrow('the message has no valid userPoolId');
  });
});
