import { readdirSync, readFileSync } from 'node:fs';
import type { PostConfirmationTriggerEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MASK, maskCognitoEvent, maskExcept, maskSqsEvent } from '../../src/core/mask.js';

const EVENTS = new URL('../../events/', import.meta.url);
const loadEvent = (file: string): PostConfirmationTriggerEvent =>
  JSON.parse(readFileSync(new URL(file, EVENTS), 'utf8'));
const loadSqsEvent = (): SQSEvent =>
  JSON.parse(readFileSync(new URL('sqs-retry-message.json', EVENTS), 'utf8'));
const sqsRecord = (): SQSRecord => {
  const [record] = loadSqsEvent().Records;
  if (record === undefined) throw new Error('events/sqs-retry-message.json has no record');
  return record;
};
const postConfirmationEvents = readdirSync(EVENTS).filter((file) => file.startsWith('post-confirmation-'));

/** Freezes a value all the way down, so that any write to it throws. */
const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
};

describe('maskExcept', () => {
  it.each([
    ['a string', 'text'],
    ['a number', 42],
    ['a boolean', false],
    ['null', null],
  ])('keeps %s where the shape allows a scalar', (_, value) => {
    expect(maskExcept(value, true)).toBe(value);
  });

  it.each([
    ['an object', { email: 'ada@example.com' }],
    ['an array', ['ada@example.com']],
    ['undefined', undefined],
  ])('masks %s where the shape allows a scalar', (_, value) => {
    expect(maskExcept(value, true)).toBe(MASK);
  });

  it('keeps the keys the shape names and masks every other', () => {
    const value = { id: 'u-1', email: 'ada@example.com', phone: '+441234' };

    const masked = maskExcept(value, { id: true });

    expect(masked).toEqual({ id: 'u-1', email: MASK, phone: MASK });
  });

  it('adds no key the value does not have', () => {
    expect(maskExcept({ id: 'u-1' }, { id: true, region: true })).toEqual({ id: 'u-1' });
  });

  it('masks unknown keys at every depth, and a known key holding the wrong kind', () => {
    const value = {
      outer: { inner: 'kept', secret: { deep: 'ada@example.com' }, list: ['x'] },
      flag: { not: 'a scalar' },
    };

    const masked = maskExcept(value, { outer: { inner: true, list: true }, flag: true });

    expect(masked).toEqual({ outer: { inner: 'kept', secret: MASK, list: MASK }, flag: MASK });
  });

  it.each([
    ['a string', 'ada@example.com'],
    ['an array', [{ id: 'u-1' }]],
    ['null', null],
  ])('masks %s where the shape wants an object', (_, value) => {
    expect(maskExcept(value, { id: true })).toBe(MASK);
  });

  it('masks each element of an array by the element shape, and a non-array where one is wanted', () => {
    const value = { items: [{ id: 'a', email: 'a@example.com' }, 'loose', { id: 'b' }], more: 'x' };

    const masked = maskExcept(value, { items: [{ id: true }], more: [true] });

    expect(masked).toEqual({ items: [{ id: 'a', email: MASK }, MASK, { id: 'b' }], more: MASK });
  });

  it('masks keys that only the prototype of an object has', () => {
    const value = { toString: 'ada@example.com', constructor: 'ada', hasOwnProperty: 'x' };

    expect(maskExcept(value, {})).toEqual({ toString: MASK, constructor: MASK, hasOwnProperty: MASK });
  });

  it('masks a __proto__ key parsed from JSON as any unknown key, keeping it a key', () => {
    const value: unknown = JSON.parse('{"__proto__": {"email": "ada@example.com"}, "id": "u-1"}');

    const masked = maskExcept(value, { id: true });

    expect(JSON.stringify(masked)).not.toContain('ada@example.com');
    expect(JSON.stringify(masked)).toBe('{"__proto__":"*****","id":"u-1"}');
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
  });

  it('never changes the value it masks', () => {
    const value = deepFreeze({ id: 'u-1', email: 'ada@example.com', items: [{ id: 'a', secret: 's' }] });
    const before = structuredClone(value);

    const masked = maskExcept(value, { id: true, items: [{ id: true }] });

    expect(value).toEqual(before);
    expect(masked).not.toBe(value);
  });
});

describe('maskCognitoEvent', () => {
  it.each(postConfirmationEvents)(
    '%s: keeps the routing fields and masks userName, userAttributes and clientMetadata',
    (file) => {
      const event = loadEvent(file);
      const withMetadata = {
        ...event,
        request: { ...event.request, clientMetadata: { k: 'v' } },
      };

      const masked = maskCognitoEvent(withMetadata);

      expect(masked).toEqual({
        version: event.version,
        region: event.region,
        userPoolId: event.userPoolId,
        userName: MASK,
        callerContext: event.callerContext,
        triggerSource: event.triggerSource,
        request: { userAttributes: MASK, clientMetadata: MASK },
        response: {},
      });
    },
  );

  it('never changes the event it masks', () => {
    const event = deepFreeze(loadEvent('post-confirmation-signup.json'));
    const before = structuredClone(event);

    maskCognitoEvent(event);

    expect(event).toEqual(before);
  });

  it('masks the values of another trigger’s response', () => {
    const event = {
      ...loadEvent('post-confirmation-signup.json'),
      triggerSource: 'PreTokenGeneration_HostedAuth',
      response: { claimsOverrideDetails: { claimsToAddOrOverride: { email: 'ada@example.com' } } },
    };

    const masked = maskCognitoEvent(event);

    expect(masked).toMatchObject({
      triggerSource: 'PreTokenGeneration_HostedAuth',
      response: { claimsOverrideDetails: MASK },
    });
    expect(JSON.stringify(masked)).not.toContain('ada@example.com');
  });

  it('masks unknown keys, a callerContext of the wrong shape, and anything that is not an event', () => {
    const event = {
      ...loadEvent('post-confirmation-signup.json'),
      callerContext: { clientId: { nested: 'x' }, extra: 'y' },
      newField: { email: 'ada@example.com' },
    };

    expect(maskCognitoEvent(event)).toMatchObject({
      callerContext: { clientId: MASK, extra: MASK },
      newField: MASK,
    });
    expect(maskCognitoEvent([event])).toBe(MASK);
    expect(maskCognitoEvent('ada@example.com')).toBe(MASK);
  });
});

describe('maskSqsEvent', () => {
  it('keeps each record’s ids and counts, and masks its body, receipt handle and attributes', () => {
    const event = loadSqsEvent();
    const record = sqsRecord();

    const masked = maskSqsEvent(event);

    expect(masked).toEqual({
      Records: [
        {
          messageId: record.messageId,
          receiptHandle: MASK,
          body: MASK,
          attributes: record.attributes,
          messageAttributes: MASK,
          md5OfBody: record.md5OfBody,
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:cognito-user-sync-retry',
          awsRegion: 'eu-west-1',
        },
      ],
    });
    expect(JSON.stringify(masked)).not.toContain('ada.lovelace');
  });

  it('masks an attribute it does not know, a Records that is not a list, and an unknown top-level key', () => {
    const record = sqsRecord();
    const fifo = {
      Records: [{ ...record, attributes: { ...record.attributes, MessageGroupId: 'ada' } }],
      extra: 'x',
    };

    expect(maskSqsEvent(fifo)).toMatchObject({
      Records: [{ attributes: { ApproximateReceiveCount: '1', MessageGroupId: MASK } }],
      extra: MASK,
    });
    expect(maskSqsEvent({ Records: { 0: record } })).toEqual({ Records: MASK });
  });

  it('never changes the event it masks', () => {
    const event = deepFreeze(loadSqsEvent());
    const before = structuredClone(event);

    maskSqsEvent(event);

    expect(event).toEqual(before);
  });
});
