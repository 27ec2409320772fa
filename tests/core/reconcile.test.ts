import { describe, expect, it } from 'vitest';
import type { PoolUser } from '../../src/clients/cognito-users.js';
import type { ListedServiceUser } from '../../src/clients/user-service.js';
import { readUserPolicy } from '../../src/config.js';
import {
  compareSlice,
  countSlice,
  emptyReconcileCounts,
  reconcileSlice,
  sliceDigitsFor,
  slicePrefixes,
} from '../../src/core/reconcile.js';

const policy = readUserPolicy({});
const poolUser = (sub: string, overrides: Partial<PoolUser> = {}): PoolUser => ({
  username: sub,
  sub,
  status: 'CONFIRMED',
  enabled: true,
  attributes: { sub, email: `${sub}@example.com`, name: `Name ${sub}` },
  lastModified: '2026-11-26T10:00:00.000Z',
  ...overrides,
});
/** The service's view of a pool user, as the trigger would have created it. */
const held = (sub: string, overrides: Partial<ListedServiceUser> = {}): ListedServiceUser => ({
  cognitoSub: sub,
  email: `${sub}@example.com`,
  fullName: `Name ${sub}`,
  status: 'ACTIVE',
  cognitoLastModified: null,
  ...overrides,
});

describe('compareSlice', () => {
  it('finds users in step, missing, different (by field) and orphan candidates', () => {
    const drift = compareSlice(
      policy,
      [poolUser('a'), poolUser('b'), poolUser('c'), poolUser('d', { enabled: false }), poolUser('e')],
      [
        held('a'),
        held('c', { email: 'old@example.com' }),
        held('d'),
        held('e', { fullName: 'Old Name', email: null }),
        held('z'),
      ],
    );

    expect(drift.checked).toBe(5);
    expect(drift.inStep).toBe(1);
    expect(drift.missing.map((user) => user.sub)).toEqual(['b']);
    expect(drift.different.map(({ user, fields }) => [user.sub, fields])).toEqual([
      ['c', ['email']],
      ['d', ['status']],
      ['e', ['email', 'fullName']],
    ]);
    expect(drift.orphanCandidates).toEqual(['z']);
  });

  it('applies the user policy: an unconfirmed user is neither missing nor, while in the pool, an orphan', () => {
    const drift = compareSlice(
      policy,
      [poolUser('u', { status: 'UNCONFIRMED' }), poolUser('v', { status: 'UNCONFIRMED' })],
      [held('v')],
    );

    expect(drift).toEqual({ checked: 0, inStep: 0, missing: [], different: [], orphanCandidates: [] });
  });

  it('compares with the mapping the trigger uses: given and family names, no email', () => {
    const drift = compareSlice(
      policy,
      [poolUser('g', { attributes: { sub: 'g', given_name: 'Grace', family_name: 'Hopper' } })],
      [held('g', { email: null, fullName: 'Grace Hopper' })],
    );

    expect(drift.inStep).toBe(1);
  });

  it('counts an invited user (FORCE_CHANGE_PASSWORD) as a user, and a configured policy as configured', () => {
    const invited = [poolUser('i', { status: 'FORCE_CHANGE_PASSWORD' })];

    expect(compareSlice(policy, invited, []).missing).toHaveLength(1);
    expect(
      compareSlice(readUserPolicy({ SYNC_USER_STATUSES: 'CONFIRMED' }), invited, []).missing,
    ).toHaveLength(0);
  });

  it('handles empty slices on either side', () => {
    expect(compareSlice(policy, [], [])).toEqual({
      checked: 0,
      inStep: 0,
      missing: [],
      different: [],
      orphanCandidates: [],
    });
    expect(compareSlice(policy, [], [held('x')]).orphanCandidates).toEqual(['x']);
  });
});

describe('slices', () => {
  it('cuts the sub space by hex prefix', () => {
    expect(slicePrefixes(0)).toEqual(['']);
    expect(slicePrefixes(1)).toHaveLength(16);
    expect(slicePrefixes(2)).toHaveLength(256);
    expect(slicePrefixes(2).slice(0, 3)).toEqual(['00', '01', '02']);
    expect(new Set(slicePrefixes(3)).size).toBe(4096);
  });

  it.each([
    [undefined, 0],
    [900, 0],
    [10_000, 0],
    [100_000, 1],
    [1_000_000, 2],
    [40_000_000, 3],
    [5_000_000_000, 4],
  ])('a pool of about %s users: %s hex digits a slice', (users, digits) => {
    expect(sliceDigitsFor(users)).toBe(digits);
  });
});

describe('reconcileSlice', () => {
  it('lists both sides of the slice, and calls an orphan only what Cognito confirms gone', async () => {
    const asked: string[] = [];

    const result = await reconcileSlice('a', {
      policy,
      listPool: async (prefix) => [poolUser(`${prefix}1`)],
      listService: async (prefix) => [held(`${prefix}1`), held(`${prefix}-gone`), held(`${prefix}-late`)],
      // ListUsers is eventually consistent: a user it did not list may still be there.
      stillInPool: async (sub) => {
        asked.push(sub);
        return sub === 'a-late';
      },
    });

    expect(result.orphaned).toEqual(['a-gone']);
    expect(asked).toEqual(['a-gone', 'a-late']);
    const counts = emptyReconcileCounts(16);
    countSlice(counts, result);
    expect(counts).toMatchObject({ slicesDone: 1, checked: 1, inStep: 1, orphaned: 1, missing: 0 });
  });
});
