import { describe, expect, it, vi } from 'vitest';
import { bounded, queueReserveMs, startDeadline } from '../../src/core/deadline.js';
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

  it('aborts the signal of work still running at the deadline less the reserve', async () => {
    vi.useFakeTimers();
    try {
      let seen: AbortSignal | undefined;
      const work = startDeadline(60).withSignal(
        'call',
        (signal) => {
          seen = signal;
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        },
        40,
      );
      const settled = work.catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(19);
      expect(seen?.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(seen?.aborted).toBe(true);
      expect(await settled).toEqual(new DeadlineExceededError('call'));
    } finally {
      vi.useRealTimers();
    }
  });

  it('clears the timer once the work settles: no timer is left, no signal aborts later', async () => {
    vi.useFakeTimers();
    try {
      const deadline = startDeadline(1000);
      let seen: AbortSignal | undefined;
      await expect(
        deadline.withSignal('call', async (signal) => {
          seen = signal;
          return 'done';
        }),
      ).resolves.toBe('done');
      await expect(
        deadline.withSignal('call', async () => {
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');

      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(2000);
      expect(seen?.aborted).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('bounded', () => {
  it('passes a call its arguments and its answer when it ends in time', async () => {
    const add = bounded(startDeadline(1000), 'the sum', async (a: number, b: number) => a + b);

    await expect(add(2, 3)).resolves.toBe(5);
  });

  it('rejects each call still going at the deadline with a DeadlineExceededError', async () => {
    const deadline = startDeadline(30);
    const hang = bounded(deadline, 'the deferral', (_receipt: string) => new Promise<void>(() => undefined));

    await expect(hang('receipt-1')).rejects.toThrow(new DeadlineExceededError('the deferral'));
    await expect(hang('receipt-2')).rejects.toThrow(new DeadlineExceededError('the deferral'));
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
