// retryRecord and deferRecord with a fake User Service client, a fake Cognito lookup and fake queue
// operations, on the retry-queue message of events/sqs-retry-message.json: what becomes of a
// message for each answer, and for a user Cognito no longer has.

import { readFileSync } from 'node:fs';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { LISTING_CATCH_UP_MS } from '../../src/clients/cognito-users.js';
import type { Credentials } from '../../src/clients/credentials.js';
import type { RetryQueueOps } from '../../src/clients/user-queue.js';
import { MAX_VISIBILITY_SECONDS } from '../../src/core/backoff.js';
import { type Deadline, startDeadline } from '../../src/core/deadline.js';
import { deferRecord, type RetryDeps, retryRecord } from '../../src/core/retry-user.js';
import type { QueueRecord } from '../../src/core/sqs-batch.js';
import type { UserRecord } from '../../src/domain/contract.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import type { PoolUser } from '../../src/domain/pool-user.js';
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
/** Ada as Cognito holds her: still in the pool. */
const ada: PoolUser = {
  username: SUB,
  sub: SUB,
  status: 'CONFIRMED',
  enabled: true,
  attributes: { sub: SUB, email: 'ada.lovelace@example.com', name: 'Ada Lovelace' },
  lastModified: '2026-11-26T10:00:00.000Z',
};
/** An AWS SDK error as the client throws it: only its name matters. */
const awsError = (name: string) => Object.assign(new Error(`${name} (message not read)`), { name });

/** Cognito's answer for any sub (a user, none, or an error), and the lookups it was asked for. */
const fakeCognito = (answer: PoolUser | undefined | Error | ((signal: AbortSignal) => Promise<never>)) => {
  const lookups: { userPoolId: string; sub: string; signal: AbortSignal }[] = [];
  const findUser: RetryDeps['findUser'] = async (userPoolId, sub, signal) => {
    lookups.push({ userPoolId, sub, signal });
    if (typeof answer === 'function') return answer(signal);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { findUser, lookups };
};

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

/** What Cognito answers for the message's user: by default, Ada as she is. */
type CognitoAnswer = Parameters<typeof fakeCognito>[0];

/** The fixture message's firstFailedAt, and a worker's clock that long after it. */
const FIRST_FAILED_AT = Date.parse('2026-11-26T10:00:00.000Z');
const later = (ms: number) => () => FIRST_FAILED_AT + ms;

const setUp = (
  result: CreateUserResult,
  random = () => 0.5,
  options: { inCognito?: CognitoAnswer; deadline?: Deadline; now?: () => number } = {},
) => {
  const userService = fakeUserService(result);
  const queue = fakeQueueOps();
  const cognito = fakeCognito('inCognito' in options ? options.inCognito : ada);
  const deadline = options.deadline ?? startDeadline(10_000, () => 1_000_000);
  const deps: RetryDeps = {
    userService: userService.client,
    findUser: cognito.findUser,
    credentials,
    deadline,
    queue: queue.ops,
    random,
    userDefaults: { status: 'ACTIVE', role: 'USER' },
    // A day after the first failure, unless a test says otherwise: ListUsers has long caught up.
    now: options.now ?? later(86_400_000),
  };
  return { deps, userService, queue, deadline, cognito };
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
      'asks for a role no configuration gives',
      fixtureBodyWith({ body: { ...storedBody, role: 'ADMIN USER' } }),
      'the message body has a status or role no configuration gives',
    ],
  ])(
    'dead-letters a message that %s as malformed-message, without calling the User Service',
    async (_, body, problem) => {
      const { deps, userService, queue, cognito } = setUp({
        outcome: 'created',
        httpStatus: 201,
        ...MEASURED,
      });

      const report = await retryRecord({ ...fixtureRecord, body }, deps);

      expect(report).toEqual({ outcome: 'dead-lettered', reason: 'malformed-message', keys: {} });
      expect(cognito.lookups).toEqual([]);
      expect(queue.deadLetters).toEqual([{ body, reason: 'malformed-message', detail: problem }]);
      expect(queue.deadLetters[0]?.detail).not.toContain('ada.lovelace');
      expect(userService.calls).toEqual([]);
    },
  );

  it('sends a message queued under other defaults (or naming a role of its own) with the status and role configured now', async () => {
    // Queued while DEFAULT_USER_STATUS and DEFAULT_USER_ROLE were PENDING and MEMBER; the worker now
    // runs with ACTIVE and USER. The backlog of an outage outlives a configuration change, and is
    // created as a sign-up now would be: not dead-lettered, and never with a role the message chose.
    const queuedBody = { ...storedBody, status: 'PENDING', role: 'MEMBER' };
    const { deps, userService, queue } = setUp({ outcome: 'created', httpStatus: 201, ...MEASURED });

    const report = await retryRecord({ ...fixtureRecord, body: fixtureBodyWith({ body: queuedBody }) }, deps);

    expect(report).toMatchObject({ outcome: 'created', keys });
    expect(userService.calls.map((call) => call.body)).toEqual([
      { ...queuedBody, status: 'ACTIVE', role: 'USER' },
    ]);
    expect(queue.deadLetters).toEqual([]);
  });

  it('asks Cognito for the user the message names, in the pool it names, before sending', async () => {
    const { deps, cognito, userService } = setUp({ outcome: 'created', httpStatus: 201, ...MEASURED });

    await retryRecord(fixtureRecord, deps);

    expect(cognito.lookups).toEqual([{ userPoolId: POOL, sub: SUB, signal: expect.any(AbortSignal) }]);
    expect(userService.calls).toHaveLength(1);
  });

  it('drops a user Cognito no longer has as gone: nothing sent, nothing dead-lettered or deferred', async () => {
    const { deps, userService, queue } = setUp(
      { outcome: 'created', httpStatus: 201, ...MEASURED },
      () => 0.5,
      { inCognito: undefined },
    );

    const report = await retryRecord(fixtureRecord, deps);

    expect(report).toEqual({ outcome: 'gone', reason: 'not-in-pool', keys });
    expect(userService.calls).toEqual([]);
    expect(queue.deadLetters).toEqual([]);
    expect(queue.deferrals).toEqual([]);
  });

  it.each([
    ['a minute', 60_000],
    ['a moment short of the catch-up', LISTING_CATCH_UP_MS - 1000],
  ])(
    'defers, never drops, a user Cognito does not list %s after the first failure: ListUsers may lag',
    async (_, age) => {
      const { deps, userService, queue } = setUp(
        { outcome: 'created', httpStatus: 201, ...MEASURED },
        () => 0,
        { inCognito: undefined, now: later(age) },
      );

      const report = await retryRecord(fixtureRecord, deps);

      // Back when the listing has surely caught up (or the schedule's own step, if later).
      const seconds = Math.max(60, Math.ceil((LISTING_CATCH_UP_MS - age) / 1000));
      expect(report).toEqual({ outcome: 'deferred', reason: 'not-listed-yet', delaySeconds: seconds, keys });
      expect(queue.deferrals).toEqual([{ receiptHandle: sqsRecord.receiptHandle, seconds }]);
      expect(userService.calls).toEqual([]);
      expect(queue.deadLetters).toEqual([]);
    },
  );

  it('drops a user Cognito does not list once the catch-up has passed since the first failure', async () => {
    const { deps, queue } = setUp({ outcome: 'created', httpStatus: 201, ...MEASURED }, () => 0.5, {
      inCognito: undefined,
      now: later(LISTING_CATCH_UP_MS),
    });

    const report = await retryRecord(fixtureRecord, deps);

    expect(report).toEqual({ outcome: 'gone', reason: 'not-in-pool', keys });
    expect(queue.deferrals).toEqual([]);
  });

  it('defers a user Cognito does not list when the first failure is in the future (a clock out of step): the age is no proof', async () => {
    const { deps, queue } = setUp({ outcome: 'created', httpStatus: 201, ...MEASURED }, () => 0, {
      inCognito: undefined,
      now: later(-3_600_000),
    });

    const report = await retryRecord(fixtureRecord, deps);

    expect(report).toMatchObject({ outcome: 'deferred', reason: 'not-listed-yet' });
    expect(queue.deferrals).toHaveLength(1);
  });

  it.each([
    ['throttles', 'TooManyRequestsException', 'cognito-TooManyRequestsException'],
    ['refuses the role (AccessDenied)', 'AccessDeniedException', 'cognito-AccessDeniedException'],
    ['fails inside', 'InternalErrorException', 'cognito-InternalErrorException'],
    ['does not answer in time', 'TimeoutError', 'cognito-timeout'],
  ])('defers when Cognito %s, without creating or dropping the user', async (_, name, reason) => {
    const { deps, userService, queue } = setUp(
      { outcome: 'created', httpStatus: 201, ...MEASURED },
      () => 0.5,
      { inCognito: awsError(name) },
    );

    const report = await retryRecord(fixtureRecord, deps);

    expect(report).toEqual({ outcome: 'deferred', reason, delaySeconds: 63, keys });
    expect(queue.deferrals).toEqual([{ receiptHandle: sqsRecord.receiptHandle, seconds: 63 }]);
    expect(userService.calls).toEqual([]);
    expect(queue.deadLetters).toEqual([]);
  });

  it('defers when the Cognito lookup outlasts the record budget, and aborts it', async () => {
    let aborted: unknown;
    const { deps, userService } = setUp({ outcome: 'created', httpStatus: 201, ...MEASURED }, () => 0.5, {
      inCognito: (signal) =>
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            reject(signal.reason);
          }),
        ),
      deadline: startDeadline(20),
    });

    const report = await retryRecord(fixtureRecord, deps);

    expect(report).toMatchObject({ outcome: 'deferred', reason: 'cognito-deadline', keys });
    expect(aborted).toBeInstanceOf(Error);
    expect(userService.calls).toEqual([]);
  });

  it('dead-letters the message as pool-not-found when the pool itself does not exist', async () => {
    const { deps, userService, queue } = setUp(
      { outcome: 'created', httpStatus: 201, ...MEASURED },
      () => 0.5,
      { inCognito: awsError('ResourceNotFoundException') },
    );

    const report = await retryRecord(fixtureRecord, deps);

    expect(report).toEqual({ outcome: 'dead-lettered', reason: 'pool-not-found', keys });
    expect(queue.deadLetters).toEqual([
      { body: sqsRecord.body, reason: 'pool-not-found', detail: undefined },
    ]);
    expect(queue.deferrals).toEqual([]);
    expect(userService.calls).toEqual([]);
  });

  it("defers at once while the container's breaker is open: Cognito not asked, nothing sent", async () => {
    const { deps, userService, queue, cognito } = setUp({ outcome: 'created', httpStatus: 201, ...MEASURED });

    const report = await retryRecord(fixtureRecord, { ...deps, serviceOpenForMs: () => 5000 });

    expect(report).toEqual({ outcome: 'deferred', reason: 'circuit-open', delaySeconds: 63, keys });
    expect(queue.deferrals).toEqual([{ receiptHandle: sqsRecord.receiptHandle, seconds: 63 }]);
    expect(cognito.lookups).toEqual([]);
    expect(userService.calls).toEqual([]);
  });

  it('defers a failed try for as long as the User Service asked, when that is longer than the schedule', async () => {
    const { deps, queue } = setUp(failedWrite('transient', 'http-429', { httpStatus: 429 }));
    let asked = 0;
    // The answer's Retry-After reaches the breaker as the call fails.
    const userService = {
      ...deps.userService,
      createUser: async (...args: Parameters<typeof deps.userService.createUser>) => {
        const result = await deps.userService.createUser(...args);
        asked = 600_000;
        return result;
      },
    };

    const report = await retryRecord(fixtureRecord, { ...deps, userService, serviceOpenForMs: () => asked });

    expect(report).toMatchObject({ outcome: 'deferred', reason: 'http-429', delaySeconds: 600, keys });
    expect(queue.deferrals).toEqual([{ receiptHandle: sqsRecord.receiptHandle, seconds: 600 }]);
  });

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

  it('waits out the longest a message can stay hidden, at most, whatever the User Service asked', async () => {
    const queue = fakeQueueOps();

    const report = await deferRecord(fixtureRecord, 'circuit-open', {
      queue: queue.ops,
      random: () => 0,
      serviceOpenForMs: () => 86_400_000,
    });

    expect(report).toMatchObject({ delaySeconds: MAX_VISIBILITY_SECONDS });
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
