import { describe, expect, it } from 'vitest';
import { queueReserveMs, startDeadline } from '../../src/core/deadline.js';
import { DeadlineExceededError } from '../../src/errors.js';

describe('startDeadline', () => {
  it('counts down from the budget, less a reserve, never below zero', () => {
    let now = 1000;
    const deadline = startDeadline(500, () => now);
    expect(deadline.remaining()).toBe(500);
    now = 1300;
    expect(deadline.remaining()).toBe(200);
    expect(deadline.remaining(150)).toBe(50);
    expect(deadline.remaining(400)).toBe(0);
  });

  it('rejects a race that runs past the deadline with a DeadlineExceededError', async () => {
    const deadline = startDeadline(30);
    await expect(deadline.race(new Promise(() => undefined), 'slow thing')).rejects.toThrow(
      new DeadlineExceededError('slow thing'),
    );
  });

  it('lets a race that finishes in time through', async () => {
    await expect(startDeadline(1000).race(Promise.resolve('done'), 'quick thing')).resolves.toBe('done');
  });

  it('aborts its signal at the deadline less the reserve', async () => {
    const signal = startDeadline(60).signal('call', 40);
    expect(signal.aborted).toBe(false);
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    expect(signal.reason).toBeInstanceOf(DeadlineExceededError);
  });
});

describe('queueReserveMs', () => {
  it.each([
    [200, 100],
    [1000, 200],
    [3500, 700],
    [4800, 800],
  ])('keeps %i ms → %i ms for the queue send', (budget, reserve) => {
    expect(queueReserveMs(budget)).toBe(reserve);
  });
});
