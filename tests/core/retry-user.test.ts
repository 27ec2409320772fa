// retryRecord and deferRecord with a fake User Service client and fake queue operations, on the
// retry-queue message of events/sqs-retry-message.json: what becomes of a message for each answer.

import { readFileSync } from 'node:fs';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/clients/contract.js';
import type { Credentials } from '../../src/clients/credentials.js';
import type { RetryQueueOps } from '../../src/clients/user-queue.js';
import { startDeadline } from '../../src/core/deadline.js';
import { idempotencyKey } from '../../src/core/idempotency.js';
import { deferRecord, type RetryDeps, retryRecord } from '../../src/core/retry-user.js';
import type { QueueRecord } from '../../src/core/sqs-batch.js';
import { type CreateUserResult, failedWrite, fakeUserService, MEASURED } from '../helpers/fakes.js';

const sqsEvent = JSON.parse(
  readFileSync(new URL('../../events/sqs-retry-message.json', import.meta.url), 'utf8'),
) as SQSEvent;
const sqsRecord = sqsEvent.Records[0];
if (sqsRecord === undefined) throw new Error('events/sqs-retry-message.json has no record');

/** The fixture's record as the worker hands it over. */
const fixtureRecord: QueueRecord = {
  messageId: sqsRecord.messageId,
  body: sqsRecord.body,
  receiptHandle: sqsRecord.receiptHandle,
  receiveCount: Number(sqsRecord.attributes.ApproximateReceiveCount),
};
/** The fixture's message with one field changed, as JSON. */
const fixtureBodyWith = (changes: Record<string, unknown>): string =>
  JSON.stringify({ ...JSON.parse(sqsRecord.body), ...changes });

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const keys = { userPoolId: POOL, cognitoSub: SUB };
const storedBody: UserRecord = {
  cognitoSub: SUB,
  email: 'ada.lovelace@example.com',
  fullName: 'Ada Lovelace',
  status: 'ACTIVE',
  role: 'USER',
  createdBy: SUB,
  updatedBy: SUB,
};
const credentials: Credentials = { apiKey: 'worker-key' };

/** Queue operations that do as asked (or fail as `defer` says) and keep what they were asked. */
const fakeQueueOps = (defer: () => Promise<void> = async () => undefined) => {
  const deadLetters: { body: string; reason: string; detail: string | undefined }[] = [];
  const deferrals: { receiptHandle: string; seconds: number }[] = [];
  const ops: RetryQueueOps = {
    deadLetter: async (body, reason, detail) => {
      deadLetters.push({ body, reason, detail });
    },
    defer: (receiptHandle, seconds) => {
      deferrals.push({ receiptHandle, seconds });
      return defer();
    },
  };
  return { ops, deadLetters, deferrals };
};

const setUp = (result: CreateUserResult, random = () => 0.5) => {
  const userService = fakeUserService(result);
  const queue = fakeQueueOps();
  const deadline = startDeadline(10_000, () => 1_000_000);
  const deps: RetryDeps = {
    userService: userService.client,
    credentials,
    deadline,
    queue: queue.ops,
    random,
    userDefaults: { status: 'ACTIVE', role: 'USER' },
  };
  return { deps, userService, queue, deadline };
};

describe('retryRecord', () => {
  it.each([
    ['created', 201],
    ['exists', 409],
  ] as const)(
    'reports %s when the User Service has the user, sending the stored body with the stored key',
    async (outcome, httpStatus) => {
      const { deps, userService, queue, deadline } = setUp({ outcome, httpStatus, ...MEASURED });

      const report = await retryRecord(fixtureRecord, deps);

      expect(report).toEqual({ outcome, httpStatus, ...MEASURED, keys });
      expect(userService.calls).toEqual([
        {
          body: storedBody,
          options: {
            idempotencyKey: 'bb3f5b44-0090-5699-99ad-7573b728dcbe',
            credentials,
            deadline,
            retryLimit: 2,
          },
        },
      ]);
      expect(queue.deadLetters).toEqual([]);
      expect(queue.deferrals).toEqual([]);
    },
  );

  it.each([
    { failure: 'rejected', reason: 'http-422', httpStatus: 422, detail: '{"error":"email is invalid"}' },
    { failure: 'rejected', reason: 'http-400', httpStatus: 400, detail: undefined },
    { failure: 'redirect', reason: 'redirect-302', httpStatus: 302, detail: undefined },
  ] as const)(
    'dead-letters a $failure answer ($reason) with the body unchanged and the reason and detail',
    async ({ failure, reason, httpStatus, detail }) => {
      const { deps, queue } = setUp(failedWrite(failure, reason, { httpStatus, ...(detail && { detail }) }));

      const report = await retryRecord(fixtureRecord, deps);

      expect(report).toEqual({ outcome: 'dead-lettered', reason, httpStatus, ...MEASURED, keys });
      expect(queue.deadLetters).toEqual([{ body: sqsRecord.body, reason, detail }]);
      expect(queue.deferrals).toEqual([]);
    },
  );

  it.each([
    { failure: 'transient', reason: 'http-503', httpStatus: 503 },
    { failure: 'transient', reason: 'network-ECONNRESET', httpStatus: undefined },
    { failure: 'unauthorized', reason: 'http-401', httpStatus: 401 },
  ] as const)(
    'defers a $failure answer ($reason) for the first step of the schedule',
    async ({ failure, reason, httpStatus }) => {
      const { deps, queue } = setUp(
        failedWrite(failure, reason, httpStatus ? { httpStatus } : {}),
        () => 0.5,
      );

      const report = await retryRecord(fixtureRecord, deps);

      // The fixture's first delivery: 60 s, stretched by half of the 10% jitter.
      expect(report).toEqual({
        outcome: 'deferred',
        reason,
        delaySeconds: 63,
        ...MEASURED,
        ...(httpStatus && { httpStatus }),
        keys,
      });
      expect(queue.deferrals).toEqual([{ receiptHandle: sqsRecord.receiptHandle, seconds: 63 }]);
      expect(queue.deadLetters).toEqual([]);
    },
  );

  it.each([
    [2, 0, 120],
    [4, 0.5, 630],
    [7, 1, 3960],
    [12, 0, 42_600],
    [40, 1, 42_600],
  ])('defers the delivery number %i (random %f) for %i seconds', async (receiveCount, random, seconds) => {
    const { deps, queue } = setUp(failedWrite('transient', 'timeout'), () => random);

    const report = await retryRecord({ ...fixtureRecord, receiveCount }, deps);

    expect(report).toMatchObject({ outcome: 'deferred', reason: 'timeout', delaySeconds: seconds });
    expect(queue.deferrals).toEqual([{ receiptHandle: sqsRecord.receiptHandle, seconds }]);
  });

  it.each([
    ['is not JSON', '{"version":1,', 'the message is not JSON'],
    ['has another version', fixtureBodyWith({ version: 2 }), 'the message version is not 1'],
    [
      'carries the key of another user',
      fixtureBodyWith({ idempotencyKey: idempotencyKey(POOL, 'another-sub') }),
      expect.stringMatching(/^the message /),
    ],
    [
      'has a body without a role',
      fixtureBodyWith({ body: { ...storedBody, role: undefined } }),
      expect.stringMatching(/^the message /),
    ],
    [
      'asks for a role the configuration does not give',
      fixtureBodyWith({ body: { ...storedBody, role: 'ADMIN' } }),
      expect.stringMatching(/^the message /),
    ],
  ])(
    'dead-letters a message that %s as malformed-message, without calling the User Service',
    async (_, body, problem) => {
      const { deps, userService, queue } = setUp({ outcome: 'created', httpStatus: 201, ...MEASURED });

      const report = await retryRecord({ ...fixtureRecord, body }, deps);

      expect(report).toEqual({ outcome: 'dead-lettered', reason: 'malformed-message', keys: {} });
      expect(queue.deadLetters).toEqual([{ body, reason: 'malformed-message', detail: problem }]);
      expect(queue.deadLetters[0]?.detail).not.toContain('ada.lovelace');
      expect(userService.calls).toEqual([]);
    },
  );

  it('rejects when the dead-letter send fails, so the message stays on the retry queue', async () => {
    const { deps } = setUp(failedWrite('rejected', 'http-422', { httpStatus: 422 }));
    const queue: RetryQueueOps = {
      ...deps.queue,
      deadLetter: () => Promise.reject(Object.assign(new Error('denied'), { name: 'AccessDenied' })),
    };

    await expect(retryRecord(fixtureRecord, { ...deps, queue })).rejects.toThrow('denied');
  });
});

describe('deferRecord', () => {
  it('hides the message for the scheduled delay and says why', async () => {
    const queue = fakeQueueOps();

    const report = await deferRecord(fixtureRecord, 'secret-unavailable', {
      queue: queue.ops,
      random: () => 0,
    });

    expect(report).toEqual({ outcome: 'deferred', reason: 'secret-unavailable', delaySeconds: 60, keys: {} });
    expect(queue.deferrals).toEqual([{ receiptHandle: sqsRecord.receiptHandle, seconds: 60 }]);
  });

  it('reports a failing ChangeMessageVisibility as deferFailure, without throwing', async () => {
    const queue = fakeQueueOps(() =>
      Promise.reject(
        Object.assign(new Error('the receipt handle has expired'), { name: 'ReceiptHandleIsInvalid' }),
      ),
    );

    const report = await deferRecord({ ...fixtureRecord, receiveCount: 3 }, 'http-503', {
      queue: queue.ops,
      random: () => 0,
    });

    expect(report).toEqual({
      outcome: 'deferred',
      reason: 'http-503',
      delaySeconds: 300,
      deferFailure: 'ReceiptHandleIsInvalid',
      keys: {},
    });
  });
});
