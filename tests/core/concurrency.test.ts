import { describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../src/core/concurrency.js';

interface Started<T> {
  item: T;
  index: number;
  resolve(value: string): void;
  reject(error: unknown): void;
}

/**
 * Work whose every call waits until the test settles it: the test sees what is in flight, and
 * can wait for the nth call to start, with no timer involved.
 */
const controlledWork = <T>() => {
  const started: Started<T>[] = [];
  const waiting: { count: number; resolve(): void }[] = [];
  let inFlight = 0;
  let mostInFlight = 0;

  const work = (item: T, index: number) =>
    new Promise<string>((resolve, reject) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const done = () => {
        inFlight -= 1;
      };
      started.push({
        item,
        index,
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      for (const waiter of waiting.filter(({ count }) => started.length >= count)) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve();
      }
    });

  /** Resolves once `count` calls have started. */
  const startedCount = (count: number) =>
    new Promise<void>((resolve) => {
      if (started.length >= count) resolve();
      else waiting.push({ count, resolve });
    });

  const call = (n: number): Started<T> => {
    const found = started[n];
    if (found === undefined) throw new Error(`call ${n} has not started`);
    return found;
  };

  return {
    work,
    started,
    startedCount,
    call,
    inFlight: () => inFlight,
    mostInFlight: () => mostInFlight,
  };
};

describe('mapConcurrent', () => {
  it('gives the results in input order, whatever order the work finishes in', async () => {
    const items = ['a', 'b', 'c', 'd'];
    const work = controlledWork<string>();

    const mapped = mapConcurrent(items, 4, work.work);
    await work.startedCount(4);
    for (const n of [3, 1, 0, 2]) work.call(n).resolve(`${work.call(n).item}!`);

    await expect(mapped).resolves.toEqual(['a!', 'b!', 'c!', 'd!']);
  });

  it('never has more than the limit in flight, and starts the next item as soon as one finishes', async () => {
    const items = [0, 1, 2, 3, 4, 5, 6];
    const work = controlledWork<number>();

    const mapped = mapConcurrent(items, 3, work.work);
    await work.startedCount(3);
    const firstWave = work.started.length;
    work.call(1).resolve('1');
    await work.startedCount(4);
    const afterOne = work.started.length;
    work.call(0).resolve('0');
    work.call(3).resolve('3');
    await work.startedCount(6);
    const afterThree = work.started.length;
    for (const n of [2, 4, 5]) work.call(n).resolve(String(n));
    await work.startedCount(7);
    work.call(6).resolve('6');

    await expect(mapped).resolves.toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect([firstWave, afterOne, afterThree]).toEqual([3, 4, 6]);
    expect(work.mostInFlight()).toBe(3);
    expect(work.started.map(({ item, index }) => [item, index])).toEqual(items.map((item) => [item, item]));
  });

  it('resolves to an empty list for no items, without calling the work', async () => {
    const work = controlledWork<number>();

    const mapped = await mapConcurrent([], 5, work.work);

    expect(mapped).toEqual([]);
    expect(work.started).toEqual([]);
  });

  it('starts every item at once when the limit is above the number of items', async () => {
    const work = controlledWork<string>();

    const mapped = mapConcurrent(['x', 'y'], 10, work.work);
    await work.startedCount(2);
    const inFlight = work.inFlight();
    work.call(0).resolve('X');
    work.call(1).resolve('Y');

    await expect(mapped).resolves.toEqual(['X', 'Y']);
    expect(inFlight).toBe(2);
    expect(work.started).toHaveLength(2);
  });

  it('still works one at a time when the limit is below one', async () => {
    const work = controlledWork<string>();

    const mapped = mapConcurrent(['x', 'y'], 0, work.work);
    await work.startedCount(1);
    const inFlight = work.inFlight();
    work.call(0).resolve('X');
    await work.startedCount(2);
    work.call(1).resolve('Y');

    await expect(mapped).resolves.toEqual(['X', 'Y']);
    expect(inFlight).toBe(1);
    expect(work.mostInFlight()).toBe(1);
  });

  it('rejects with the error of the first work that fails', async () => {
    const work = controlledWork<number>();
    const failure = new Error('item 1 failed');

    const mapped = mapConcurrent([0, 1, 2], 3, work.work);
    await work.startedCount(3);
    work.call(1).reject(failure);

    await expect(mapped).rejects.toBe(failure);
  });
});
