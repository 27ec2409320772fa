import { describe, expect, it } from 'vitest';
import { createPacer } from '../../src/clients/pacer.js';

/** A clock the test moves, and a sleep that moves it. */
const fakeTime = () => {
  let now = 0;
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
    slept,
  };
};

describe('createPacer', () => {
  it('spaces call starts at most maxRps a second', async () => {
    const time = fakeTime();
    const pacer = createPacer({ maxRps: 4, ...time });

    for (let call = 0; call < 5; call++) await pacer.wait();

    expect(time.slept).toEqual([250, 250, 250, 250]);
  });

  it('halves its rate on a throttle, down to minRps, and earns it back step by step', () => {
    const pacer = createPacer({ maxRps: 8, minRps: 1, ...fakeTime() });

    pacer.throttled();
    expect(pacer.rps).toBe(4);
    pacer.throttled();
    pacer.throttled();
    pacer.throttled();
    expect(pacer.rps).toBe(1);
    expect(pacer.throttles).toBe(4);
    for (let call = 0; call < 40; call++) pacer.succeeded();
    expect(pacer.rps).toBe(8);
  });

  it('makes the call after a throttle wait a full new interval', async () => {
    const time = fakeTime();
    const pacer = createPacer({ maxRps: 10, ...time });

    await pacer.wait();
    pacer.throttled(); // 5 a second now

    await pacer.wait();
    expect(time.slept).toEqual([200]);
  });

  it('stops waiting when its signal aborts', async () => {
    const pacer = createPacer({ maxRps: 0.5 });
    const controller = new AbortController();
    await pacer.wait();

    const waiting = pacer.wait(controller.signal);
    controller.abort(new Error('stopped'));

    await expect(waiting).rejects.toThrow('stopped');
  });

  it('refuses a rate that is no rate', () => {
    expect(() => createPacer({ maxRps: 0 })).toThrow(RangeError);
  });
});
