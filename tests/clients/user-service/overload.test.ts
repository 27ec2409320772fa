// A container's retry budget and circuit breaker, on a clock the test moves: no sleeps.

import { describe, expect, it } from 'vitest';
import {
  CIRCUIT_BREAKER,
  createCircuitBreaker,
  createOverloadGuard,
  createRetryBudget,
  RETRY_BUDGET,
} from '../../../src/clients/user-service/overload.js';

const clock = () => {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

/** Fails `n` attempts in a row. */
const fail = (breaker: ReturnType<typeof createCircuitBreaker>, n: number) => {
  for (let attempt = 0; attempt < n; attempt++) breaker.failed();
};

/** A breaker opened by failures, its cool-down over, its probe admitted; and the clock. */
const probing = () => {
  const time = clock();
  const breaker = createCircuitBreaker(CIRCUIT_BREAKER, time.now);
  fail(breaker, CIRCUIT_BREAKER.failureThreshold);
  time.advance(CIRCUIT_BREAKER.openMs);
  expect(breaker.admit()).toBe(true);
  return { breaker, time };
};

describe('createRetryBudget', () => {
  it('starts full: two retries after failures, or one after a throttle', () => {
    const budget = createRetryBudget();
    expect(budget.tokens).toBe(RETRY_BUDGET.capacity);

    expect(budget.spend('failure')).toBe(true);
    expect(budget.spend('failure')).toBe(true);
    expect(budget.spend('failure')).toBe(false);

    const throttled = createRetryBudget();
    expect(throttled.spend('throttle')).toBe(true);
    expect(throttled.spend('failure')).toBe(false);
  });

  it('allows no retry once spent, and takes nothing when it cannot pay', () => {
    const budget = createRetryBudget();
    budget.spend('throttle');

    expect(budget.spend('failure')).toBe(false);
    expect(budget.spend('throttle')).toBe(false);
    expect(budget.tokens).toBe(0);
  });

  it('is refilled by answered attempts, a token each, up to its capacity', () => {
    const budget = createRetryBudget();
    budget.spend('throttle');
    for (let call = 0; call < RETRY_BUDGET.retryCost - 1; call++) budget.earn();
    expect(budget.spend('failure')).toBe(false);

    budget.earn();
    expect(budget.spend('failure')).toBe(true);

    for (let call = 0; call < 100; call++) budget.earn();
    expect(budget.tokens).toBe(RETRY_BUDGET.capacity);
  });
});

describe('createCircuitBreaker', () => {
  it('opens after failureThreshold attempts failed in a row, and admits nothing while open', () => {
    const time = clock();
    const breaker = createCircuitBreaker(CIRCUIT_BREAKER, time.now);

    fail(breaker, CIRCUIT_BREAKER.failureThreshold - 1);
    expect(breaker.state()).toBe('closed');
    expect(breaker.admit()).toBe(true);

    breaker.failed();
    expect(breaker.state()).toBe('open');
    expect(breaker.admit()).toBe(false);
    expect(breaker.openForMs()).toBe(CIRCUIT_BREAKER.openMs);
    expect(breaker.allowsRetryIn(CIRCUIT_BREAKER.openMs)).toBe(false);
  });

  it('counts failures in a row only: an answered attempt starts the count again', () => {
    const breaker = createCircuitBreaker(CIRCUIT_BREAKER, clock().now);

    fail(breaker, CIRCUIT_BREAKER.failureThreshold - 1);
    breaker.succeeded();
    fail(breaker, CIRCUIT_BREAKER.failureThreshold - 1);

    expect(breaker.state()).toBe('closed');
  });

  it('half-opens after its cool-down: one probe is admitted, the others wait for its outcome', () => {
    const time = clock();
    const breaker = createCircuitBreaker(CIRCUIT_BREAKER, time.now);
    fail(breaker, CIRCUIT_BREAKER.failureThreshold);

    time.advance(CIRCUIT_BREAKER.openMs - 1);
    expect(breaker.admit()).toBe(false);
    time.advance(1);

    expect(breaker.state()).toBe('half-open');
    expect(breaker.openForMs()).toBe(0);
    expect(breaker.admit()).toBe(true);
    expect(breaker.admit()).toBe(false);
  });

  it('closes when the probe is answered', () => {
    const { breaker } = probing();

    breaker.succeeded();

    expect(breaker.state()).toBe('closed');
    expect(breaker.admit()).toBe(true);
    expect(breaker.admit()).toBe(true);
  });

  it('opens again for twice as long when the probe fails, up to maxOpenMs', () => {
    const { breaker, time } = probing();
    const coolDowns: number[] = [];

    for (let probe = 0; probe < 5; probe++) {
      if (probe > 0) {
        time.advance(breaker.openForMs());
        expect(breaker.admit()).toBe(true);
      }
      breaker.failed();
      coolDowns.push(breaker.openForMs());
    }

    expect(coolDowns).toEqual([10_000, 20_000, 30_000, 30_000, 30_000]);
    expect(breaker.state()).toBe('open');
  });

  it('lets the next call probe when the probe admitted sent nothing', () => {
    const { breaker } = probing();

    breaker.release();

    expect(breaker.admit()).toBe(true);
  });

  it("honours Retry-After: nothing is admitted until the service's wait has passed, then it is closed", () => {
    const time = clock();
    const breaker = createCircuitBreaker(CIRCUIT_BREAKER, time.now);

    breaker.failed({ waitMs: 3000, throttled: true });

    expect(breaker.admit()).toBe(false);
    expect(breaker.openForMs()).toBe(3000);
    // The call that was told may wait it out and try again; sooner, it may not.
    expect(breaker.allowsRetryIn(3000)).toBe(true);
    expect(breaker.allowsRetryIn(2999)).toBe(false);
    time.advance(3000);
    expect(breaker.state()).toBe('closed');
    expect(breaker.admit()).toBe(true);
  });

  it('reads a 429 without Retry-After as Retry-After: 1', () => {
    const time = clock();
    const breaker = createCircuitBreaker(CIRCUIT_BREAKER, time.now);

    breaker.failed({ throttled: true });

    expect(breaker.openForMs()).toBe(CIRCUIT_BREAKER.throttlePauseMs);
    time.advance(CIRCUIT_BREAKER.throttlePauseMs);
    expect(breaker.admit()).toBe(true);
  });

  it('honours a Retry-After up to maxRetryAfterMs, and one of none at all (0) not at all', () => {
    const breaker = createCircuitBreaker(CIRCUIT_BREAKER, clock().now);

    breaker.failed({ waitMs: 0, throttled: true });
    expect(breaker.admit()).toBe(true);

    breaker.failed({ waitMs: Number.POSITIVE_INFINITY });
    expect(breaker.openForMs()).toBe(CIRCUIT_BREAKER.maxRetryAfterMs);
  });

  it('lets a call under way retry no more once failures opened it, whatever the wait', () => {
    const breaker = createCircuitBreaker(CIRCUIT_BREAKER, clock().now);

    fail(breaker, CIRCUIT_BREAKER.failureThreshold);

    expect(breaker.allowsRetryIn(CIRCUIT_BREAKER.maxOpenMs * 10)).toBe(false);
  });
});

describe('createOverloadGuard', () => {
  it('gives each container its own budget and breaker', () => {
    const one = createOverloadGuard();
    const other = createOverloadGuard();

    one.budget.spend('throttle');
    fail(one.breaker, CIRCUIT_BREAKER.failureThreshold);

    expect(other.budget.tokens).toBe(RETRY_BUDGET.capacity);
    expect(other.breaker.state()).toBe('closed');
  });
});
