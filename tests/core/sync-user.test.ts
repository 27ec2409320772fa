// syncUser and queueUser with a fake User Service client and a fake queue: what becomes of a user
// for each answer, and the exact message a user is queued with.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Credentials } from '../../src/clients/credentials.js';
import type { QueueName } from '../../src/clients/user-queue.js';
import { type Deadline, startDeadline } from '../../src/core/deadline.js';
import { queueUser, type SyncDeps, syncUser } from '../../src/core/sync-user.js';
import type { CognitoUser } from '../../src/domain/cognito-event.js';
import type { UserRecord } from '../../src/domain/contract.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { ConfigError, DeadlineExceededError } from '../../src/errors.js';
import {
  type CreateUserResult,
  failedWrite,
  fakeQueue,
  fakeUserService,
  MEASURED,
} from '../helpers/fakes.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const FAILED_AT = new Date('2026-11-26T10:00:00.000Z');

const user: CognitoUser = {
  userPoolId: POOL,
  triggerSource: 'PostConfirmation_ConfirmSignUp',
  sub: SUB,
  attributes: { sub: SUB, email: 'ada.lovelace@example.com', name: 'Ada Lovelace' },
};
const body: UserRecord = toUserRecord(SUB, user.attributes, { status: 'ACTIVE', role: 'USER' });
const credentials: Credentials = { apiKey: 'test-key' };

/** A deadline on a clock that stands still: only a fake timer can make it pass. */
const stillDeadline = (budgetMs = 3500): Deadline => startDeadline(budgetMs, () => 1_000_000);

const depsFor = (result: CreateUserResult, queue = fakeQueue()) => {
  const userService = fakeUserService(result);
  const deadline = stillDeadline();
  const deps: SyncDeps = {
    userService: userService.client,
    credentials,
    deadline,
    reserveMs: 700,
    queue: queue.lookup,
    now: () => FAILED_AT,
  };
  return { deps, userService, queue, deadline };
};

describe('syncUser', () => {
  it.each([
    ['created', 201],
    ['exists', 409],
  ] as const)('passes %s through with the measurements, queueing nothing', async (outcome, httpStatus) => {
    const { deps, userService, queue, deadline } = depsFor({ outcome, httpStatus, ...MEASURED });

    const report = await syncUser(user, body, deps);

    expect(report).toEqual({ outcome, httpStatus, ...MEASURED });
    expect(userService.calls).toEqual([
      {
        body,
        options: { idempotencyKey: idempotencyKey(POOL, SUB), credentials, deadline, reserveMs: 700 },
      },
    ]);
    expect(queue.lookups()).toBe(0);
  });

  it.each([
    {
      failure: 'transient',
      reason: 'http-503',
      httpStatus: 503,
      detail: '{"error":"unavailable"}',
      queue: 'retry',
    },
    { failure: 'transient', reason: 'timeout', httpStatus: undefined, detail: undefined, queue: 'retry' },
    {
      failure: 'transient',
      reason: 'network-ECONNREFUSED',
      httpStatus: undefined,
      detail: undefined,
      queue: 'retry',
    },
    {
      failure: 'unauthorized',
      reason: 'http-401',
      httpStatus: 401,
      detail: '{"error":"bad key"}',
      queue: 'retry',
    },
    { failure: 'redirect', reason: 'redirect-302', httpStatus: 302, detail: undefined, queue: 'retry' },
    {
      failure: 'rejected',
      reason: 'http-422',
      httpStatus: 422,
      detail: '{"error":"email is invalid"}',
      queue: 'dead-letter',
    },
  ] as const)(
    'queues a $failure failure ($reason) to the $queue queue, with the reason, attempts and detail',
    async ({ failure, reason, httpStatus, detail, queue: sentTo }) => {
      const result = failedWrite(failure, reason, {
        ...(httpStatus !== undefined && { httpStatus }),
        ...(detail !== undefined && { detail }),
      });
      const { deps, queue } = depsFor(result);

      const report = await syncUser(user, body, deps);

      expect(report).toEqual({
        outcome: 'queued',
        reason,
        queue: sentTo,
        ...MEASURED,
        ...(httpStatus !== undefined && { httpStatus }),
      });
      expect(queue.sends).toHaveLength(1);
      expect(queue.sends[0]?.deadLetter).toBe(failure === 'rejected');
      expect(queue.sends[0]?.message).toEqual({
        version: 1,
        idempotencyKey: idempotencyKey(POOL, SUB),
        userPoolId: POOL,
        triggerSource: 'PostConfirmation_ConfirmSignUp',
        body,
        reason,
        ...(detail !== undefined && { detail }),
        attempts: 3,
        firstFailedAt: FAILED_AT.toISOString(),
      });
      expect(Object.hasOwn(queue.sends[0]?.message ?? {}, 'detail')).toBe(detail !== undefined);
    },
  );

  it('drops the user, with the measurements, when no queue is configured', async () => {
    const { deps } = depsFor(failedWrite('transient', 'http-503', { httpStatus: 503 }));

    const report = await syncUser(user, body, { ...deps, queue: () => undefined });

    expect(report).toEqual({
      outcome: 'dropped',
      reason: 'http-503',
      queueFailure: 'no-queue-configured',
      httpStatus: 503,
      ...MEASURED,
    });
  });

  it('drops the user when the queue is misconfigured, naming the variable', async () => {
    const { deps } = depsFor(failedWrite('transient', 'timeout'));
    const misconfigured = () => {
      throw new ConfigError('RETRY_QUEUE_URL', 'is not a valid absolute URL');
    };

    const report = await syncUser(user, body, { ...deps, queue: misconfigured });

    expect(report).toEqual({
      outcome: 'dropped',
      reason: 'timeout',
      queueFailure: 'config-RETRY_QUEUE_URL',
      ...MEASURED,
    });
  });

  it('drops the user when the queue send fails, naming the error', async () => {
    const throttled = fakeQueue(() =>
      Promise.reject(Object.assign(new Error('slow down'), { name: 'RequestThrottled' })),
    );
    const { deps } = depsFor(failedWrite('transient', 'http-500', { httpStatus: 500 }), throttled);

    const report = await syncUser(user, body, deps);

    expect(report).toEqual({
      outcome: 'dropped',
      reason: 'http-500',
      queueFailure: 'error-RequestThrottled',
      httpStatus: 500,
      ...MEASURED,
    });
    expect(throttled.sends).toHaveLength(1);
  });
});

describe('queueUser', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the exact retry message, first failed now, to the retry queue', async () => {
    const queue = fakeQueue();
    const deadline = stillDeadline();

    const report = await queueUser(
      { user, body, reason: 'config-USER_SERVICE_URL' },
      { queue: queue.lookup, deadline, now: () => FAILED_AT },
    );

    expect(report).toEqual({ outcome: 'queued', reason: 'config-USER_SERVICE_URL', queue: 'retry' });
    expect(queue.sends).toEqual([
      {
        message: {
          version: 1,
          idempotencyKey: 'bb3f5b44-0090-5699-99ad-7573b728dcbe',
          userPoolId: POOL,
          triggerSource: 'PostConfirmation_ConfirmSignUp',
          body,
          reason: 'config-USER_SERVICE_URL',
          attempts: 0,
          firstFailedAt: '2026-11-26T10:00:00.000Z',
        },
        deadLetter: false,
        signal: expect.any(AbortSignal),
      },
    ]);
    expect(queue.sends[0]?.message.idempotencyKey).toBe(idempotencyKey(POOL, SUB));
    expect(queue.sends[0]?.signal?.aborted).toBe(false);
  });

  it('asks for the dead-letter queue for a permanent failure, and reports where it went', async () => {
    const queue = fakeQueue();

    const report = await queueUser(
      { user, body, reason: 'http-400', detail: 'bad request', attempts: 1, permanent: true },
      { queue: queue.lookup, deadline: stillDeadline(), now: () => FAILED_AT },
    );

    expect(report).toEqual({ outcome: 'queued', reason: 'http-400', queue: 'dead-letter' });
    expect(queue.sends[0]?.deadLetter).toBe(true);
    expect(queue.sends[0]?.message).toMatchObject({ reason: 'http-400', detail: 'bad request', attempts: 1 });
  });

  it('drops the user, naming the deadline, when the send is slower than the deadline', async () => {
    vi.useFakeTimers();
    const queue = fakeQueue(() => new Promise<QueueName>(() => undefined));

    const queued = queueUser(
      { user, body, reason: 'http-503' },
      { queue: queue.lookup, deadline: stillDeadline(300), now: () => FAILED_AT },
    );
    await vi.advanceTimersByTimeAsync(299);
    const abortedBefore = queue.sends[0]?.signal?.aborted;
    await vi.advanceTimersByTimeAsync(1);
    const report = await queued;

    expect(report).toEqual({ outcome: 'dropped', reason: 'http-503', queueFailure: 'deadline' });
    expect(abortedBefore).toBe(false);
    expect(queue.sends[0]?.signal?.reason).toBeInstanceOf(DeadlineExceededError);
  });

  it('never throws: a queue lookup that fails with a foreign error drops the user with its code', async () => {
    const broken = () => {
      throw new TypeError('no client');
    };

    const report = await queueUser(
      { user, body, reason: 'timeout' },
      { queue: broken, deadline: stillDeadline(), now: () => FAILED_AT },
    );

    expect(report).toEqual({ outcome: 'dropped', reason: 'timeout', queueFailure: 'error-TypeError' });
  });
});
