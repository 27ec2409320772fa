import { describe, expect, it } from 'vitest';
import { ListLoopError, listGuard } from '../../src/clients/list-guard.js';

/** What `act` threw, for a closer look than toThrow gives. */
const thrownBy = (act: () => void): unknown => {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('listGuard', () => {
  it('lets a list that ends go through, counting its pages', () => {
    const guard = listGuard({ what: 'ListUsers', maxPages: 3 });

    guard.page('t1', ['ada', 'bob']);
    guard.page('t2', ['cy']);
    guard.page(undefined, []);

    expect(guard.pages).toBe(3);
  });

  it('lets an ordered list that goes forward go through', () => {
    const guard = listGuard({ what: 'the list', maxPages: 10, ordered: true });

    guard.page('c1', ['00', '0a']);
    guard.page('c2', []);
    guard.page('c3', ['1f', 'ff']);
    guard.page(undefined, ['ffa']);

    expect(guard.pages).toBe(4);
  });

  it('calls a next cursor that repeats one seen before a loop, naming the pages and not the cursor', () => {
    const cursor = `eyJ${'x'.repeat(500)}SECRET-TAIL`;
    const guard = listGuard({ what: 'ListUsers', maxPages: 100 });
    guard.page(cursor, ['ada']);
    guard.page('other', ['bob']);

    const error = thrownBy(() => guard.page(cursor, ['cy']));

    expect(error).toBeInstanceOf(ListLoopError);
    expect(error).toHaveProperty('name', 'ListLoopError');
    const { message } = error as Error;
    expect(message).toContain('ListUsers');
    expect(message).toMatch(/page 3/);
    expect(message).toMatch(/page 1/);
    expect(message).toMatch(/repeat/);
    expect(message).not.toContain('SECRET-TAIL');
    expect(message.length).toBeLessThan(300);
  });

  it('calls a page that gives back the cursor it was fetched with a loop', () => {
    const guard = listGuard({ what: 'ListUsers', maxPages: 100 });
    guard.page('same', ['ada']);

    expect(() => guard.page('same', ['bob'])).toThrow(ListLoopError);
  });

  it('calls more pages than maxPages a loop, before the loop fetches one more', () => {
    const guard = listGuard({ what: 'ListUsers', maxPages: 3 });
    guard.page('t1', ['a']);
    guard.page('t2', ['b']);

    expect(() => guard.page('t3', ['c'])).toThrow(/more than 3 pages/);
    expect(() => guard.page('t3', ['c'])).toThrow(ListLoopError);
  });

  it('lets the last of maxPages pages through', () => {
    const guard = listGuard({ what: 'ListUsers', maxPages: 2 });
    guard.page('t1', ['a']);
    guard.page(undefined, ['b']);

    expect(guard.pages).toBe(2);
  });

  it('without `ordered`, calls a page identical to the one before a loop, whatever its cursor', () => {
    const guard = listGuard({ what: 'ListUsers', maxPages: 100 });
    guard.page('t1', ['ada', 'bob']);

    expect(() => guard.page('t2', ['ada', 'bob'])).toThrow(/page 2 .*repeats page 1/);
  });

  it('without `ordered`, calls a page that comes back after others a loop (A, B, A under fresh cursors)', () => {
    const guard = listGuard({ what: 'ListUsers', maxPages: 1_000_000 });
    guard.page('t1', ['ada', 'bob']);
    guard.page('t2', ['cy', 'dee']);

    expect(() => guard.page('t3', ['ada', 'bob'])).toThrow(/page 3 .*repeats page 1/);
  });

  it('without `ordered`, lets empty pages and pages out of order through', () => {
    const guard = listGuard({ what: 'ListUsers', maxPages: 100 });
    guard.page('t1', []);
    guard.page('t2', []);
    guard.page('t3', ['bob', 'ada']);
    guard.page('t4', ['ada']);
    guard.page(undefined, ['bob', 'ada', 'cy']);

    expect(guard.pages).toBe(5);
  });

  it('with `ordered`, calls a page whose keys do not go up a loop', () => {
    const guard = listGuard({ what: 'the list of slice 3f', maxPages: 100, ordered: true });

    expect(() => guard.page('c1', ['3f1', '3f0'])).toThrow(/the list of slice 3f.*page 1.*not in order/);
    expect(() => listGuard({ what: 'x', maxPages: 9, ordered: true }).page('c1', ['a', 'a'])).toThrow(
      ListLoopError,
    );
  });

  it('with `ordered`, calls a page that does not start after the last page a loop (a page repeated)', () => {
    const guard = listGuard({ what: 'the list', maxPages: 100, ordered: true });
    guard.page('c1', ['a', 'b']);
    guard.page('c2', []);

    expect(() => guard.page('c3', ['b', 'c'])).toThrow(/page 3 .*does not go past page 1/);
  });

  it('refuses a maxPages below 1', () => {
    expect(() => listGuard({ what: 'ListUsers', maxPages: 0 })).toThrow(RangeError);
  });
});
