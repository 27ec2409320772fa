// resolveSignUp on the sample events with an injected clock and environment, and fail-open's
// recovery, queueAfterFailure, with a fake queue.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { QueueName } from '../../src/clients/user-queue.js';
import { readConfig } from '../../src/config.js';
import { queueAfterFailure, resolveSignUp, type SignUpToSync } from '../../src/core/sign-up.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { ConfigError, DeadlineExceededError, SecretUnavailableError } from '../../src/errors.js';
import { fakeQueue } from '../helpers/fakes.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const CONFIRM_SIGN_UP = 'PostConfirmation_ConfirmSignUp';
const USER_SERVICE_URL = 'https://users.internal.example.com/api/v1/users';
const env = { USER_SERVICE_URL };
const START = 1_000;

interface SampleEvent {
  userPoolId?: string;
  triggerSource: string;
  request: { userAttributes: Record<string, string> };
}

const loadEvent = (name: string): SampleEvent =>
  JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));

const signUpEvent = () => loadEvent('post-confirmation-signup');

/** A clock the test moves by hand. */
const handClock = (start = START) => {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
};

const adaBody = (status = 'ACTIVE', role = 'USER') => ({
  cognitoSub: SUB,
  email: 'ada.lovelace@example.com',
  fullName: 'Ada Lovelace',
  status,
  role,
  createdBy: SUB,
  updatedBy: SUB,
});

/** Resolves the sign-up sample, which must come out as a sync. */
const resolveToSync = (vars: Record<string, string> = env, now = handClock().now): SignUpToSync => {
  const signUp = resolveSignUp(signUpEvent(), vars, now);
  if (signUp.action !== 'sync') throw new Error(`expected a sync, got ${signUp.action}`);
  return signUp;
};

describe('resolveSignUp', () => {
  it('skips a password reset, naming its trigger', () => {
    const signUp = resolveSignUp(loadEvent('post-confirmation-forgot-password'), env, handClock().now);

    expect(signUp).toEqual({
      action: 'skip',
      reason: 'forgot-password',
      triggerSource: 'PostConfirmation_ConfirmForgotPassword',
    });
  });

  it.each([
    ['another trigger', { ...signUpEvent(), triggerSource: 'PreSignUp_SignUp' }, 'unsupported-trigger'],
    ['something that is no Cognito event', 'hello', 'not-a-cognito-event'],
    ['no event at all', undefined, 'not-a-cognito-event'],
  ])('skips %s', (_, event, reason) => {
    const signUp = resolveSignUp(event, env, handClock().now);

    expect(signUp).toMatchObject({ action: 'skip', reason });
  });

  it('calls a sign-up without a sub invalid, keeping the ids it had', () => {
    const event = signUpEvent();
    const { sub: _sub, ...attributes } = event.request.userAttributes;

    const signUp = resolveSignUp({ ...event, request: { userAttributes: attributes } }, env, handClock().now);

    expect(signUp).toEqual({
      action: 'invalid',
      problem: 'event has no sub attribute',
      keys: { userPoolId: POOL, triggerSource: CONFIRM_SIGN_UP },
    });
  });

  it('calls a sign-up without a user pool invalid, keeping the sub', () => {
    const { userPoolId: _pool, ...event } = signUpEvent();

    const signUp = resolveSignUp(event, env, handClock().now);

    expect(signUp).toEqual({
      action: 'invalid',
      problem: 'event has no valid userPoolId',
      keys: { cognitoSub: SUB, triggerSource: CONFIRM_SIGN_UP },
    });
  });

  it('resolves a sign-up to sync: the user, its keys, the body, the configuration and the clock', () => {
    const signUp = resolveSignUp(signUpEvent(), env, handClock().now);

    expect(signUp).toEqual({
      action: 'sync',
      user: {
        userPoolId: POOL,
        triggerSource: CONFIRM_SIGN_UP,
        sub: SUB,
        attributes: signUpEvent().request.userAttributes,
      },
      keys: { userPoolId: POOL, cognitoSub: SUB, triggerSource: CONFIRM_SIGN_UP },
      deadline: expect.objectContaining({ at: START + 3500 }),
      reserveMs: 700,
      body: adaBody(),
      config: readConfig(env),
    });
    expect(signUp).not.toHaveProperty('configError');
    expect(signUp).toMatchObject({
      config: { userService: { url: new URL(USER_SERVICE_URL) }, syncDeadlineMs: 3500 },
    });
  });

  it('starts the clock on the injected now, with SYNC_DEADLINE_MS as the budget', () => {
    const clock = handClock(50_000);

    const signUp = resolveToSync({ ...env, SYNC_DEADLINE_MS: '2000' }, clock.now);
    const atStart = signUp.deadline.remaining();
    clock.advance(1500);

    expect(signUp.deadline.at).toBe(52_000);
    expect(atStart).toBe(2000);
    expect(signUp.deadline.remaining()).toBe(500);
    expect(signUp.reserveMs).toBe(400);
    expect(signUp.config?.syncDeadlineMs).toBe(2000);
  });

  it.each([
    ['not a number', '3s'],
    ['above the limit', '99999'],
  ])(
    'starts the clock on the default budget when SYNC_DEADLINE_MS is %s, and keeps the error',
    (_, value) => {
      const signUp = resolveToSync({ ...env, SYNC_DEADLINE_MS: value });

      expect(signUp.deadline.at).toBe(START + 3500);
      expect(signUp.reserveMs).toBe(700);
      expect(signUp.config).toBeUndefined();
      expect(signUp.configError).toBeInstanceOf(ConfigError);
      expect(signUp.configError).toMatchObject({ variable: 'SYNC_DEADLINE_MS' });
      expect(signUp.body).toEqual(adaBody());
    },
  );

  it('has no body when DEFAULT_USER_ROLE is invalid, and keeps the error', () => {
    const signUp = resolveToSync({ ...env, DEFAULT_USER_ROLE: 'not a role!' });

    expect(signUp.body).toBeUndefined();
    expect(signUp.config).toBeUndefined();
    expect(signUp.configError).toMatchObject({ name: 'ConfigError', variable: 'DEFAULT_USER_ROLE' });
  });

  it('builds the body with the configured defaults even when USER_SERVICE_URL is missing', () => {
    const signUp = resolveToSync({ DEFAULT_USER_STATUS: 'PENDING', DEFAULT_USER_ROLE: 'MEMBER' });

    expect(signUp.body).toEqual(adaBody('PENDING', 'MEMBER'));
    expect(signUp.config).toBeUndefined();
    expect(signUp.configError).toMatchObject({ name: 'ConfigError', variable: 'USER_SERVICE_URL' });
  });
});

describe('queueAfterFailure', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    [new ConfigError('USER_SERVICE_URL', 'is not set'), 'config-USER_SERVICE_URL'],
    [new SecretUnavailableError('USER_SERVICE_API_KEY_SECRET_ID', 'could not be read'), 'secret-unavailable'],
    [new DeadlineExceededError('User Service call'), 'deadline'],
    [new TypeError('fetch failed'), 'error-TypeError'],
  ])('queues the user with the failure code of %o as the reason', async (error, reason) => {
    const queue = fakeQueue();

    const report = await queueAfterFailure(resolveToSync(), error, queue.lookup);

    expect(report).toEqual({ outcome: 'queued', reason, queue: 'retry' });
    expect(queue.sends).toEqual([
      {
        message: {
          version: 1,
          idempotencyKey: idempotencyKey(POOL, SUB),
          userPoolId: POOL,
          triggerSource: CONFIRM_SIGN_UP,
          body: adaBody(),
          reason,
          attempts: 0,
          firstFailedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        },
        deadLetter: false,
        signal: expect.any(AbortSignal),
      },
    ]);
  });

  it('gives the send the reserve when the invocation deadline has passed', async () => {
    vi.useFakeTimers();
    const clock = handClock();
    const signUp = resolveToSync(env, clock.now);
    clock.advance(5000);
    let answer: (queue: QueueName) => void = () => undefined;
    const queue = fakeQueue(() => new Promise<QueueName>((resolve) => (answer = resolve)));

    const queued = queueAfterFailure(signUp, new DeadlineExceededError('User Service call'), queue.lookup);
    await vi.advanceTimersByTimeAsync(signUp.reserveMs - 1);
    const abortedWithinReserve = queue.sends[0]?.signal?.aborted;
    answer('retry');

    await expect(queued).resolves.toEqual({ outcome: 'queued', reason: 'deadline', queue: 'retry' });
    expect(abortedWithinReserve).toBe(false);
  });

  it('gives the send no more than the reserve when the invocation deadline has passed', async () => {
    vi.useFakeTimers();
    const clock = handClock();
    const signUp = resolveToSync(env, clock.now);
    clock.advance(5000);
    const queue = fakeQueue(() => new Promise<QueueName>(() => undefined));

    const queued = queueAfterFailure(signUp, new DeadlineExceededError('User Service call'), queue.lookup);
    await vi.advanceTimersByTimeAsync(signUp.reserveMs);

    await expect(queued).resolves.toEqual({
      outcome: 'dropped',
      reason: 'deadline',
      queueFailure: 'deadline',
    });
  });

  it('gives the send all that is left of the invocation deadline when that is more than the reserve', async () => {
    vi.useFakeTimers();
    const clock = handClock();
    const signUp = resolveToSync(env, clock.now);
    clock.advance(1000);
    const queue = fakeQueue(() => new Promise<QueueName>(() => undefined));

    const queued = queueAfterFailure(signUp, new TypeError('boom'), queue.lookup);
    await vi.advanceTimersByTimeAsync(2499);
    const abortedBefore = queue.sends[0]?.signal?.aborted;
    await vi.advanceTimersByTimeAsync(1);

    await expect(queued).resolves.toEqual({
      outcome: 'dropped',
      reason: 'error-TypeError',
      queueFailure: 'deadline',
    });
    expect(abortedBefore).toBe(false);
  });

  it('drops the user without a body, with the configuration error as the queue failure', async () => {
    const signUp = resolveToSync({ ...env, DEFAULT_USER_STATUS: 'no good' });
    const queue = fakeQueue();

    const report = await queueAfterFailure(signUp, signUp.configError, queue.lookup);

    expect(report).toEqual({
      outcome: 'dropped',
      reason: 'config-DEFAULT_USER_STATUS',
      queueFailure: 'config-DEFAULT_USER_STATUS',
    });
    expect(queue.lookups()).toBe(0);
  });

  it('drops the user when no queue is configured', async () => {
    const report = await queueAfterFailure(
      resolveToSync(),
      new ConfigError('USER_SERVICE_URL', 'is not set'),
      () => undefined,
    );

    expect(report).toEqual({
      outcome: 'dropped',
      reason: 'config-USER_SERVICE_URL',
      queueFailure: 'no-queue-configured',
    });
  });
});
