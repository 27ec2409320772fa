import { describe, expect, it } from 'vitest';
import type { ListedServiceUser } from '../../src/clients/user-service.js';
import { readUserPolicy } from '../../src/config.js';
import {
  compareSlice,
  countSlice,
  deletesLeft,
  emptyReconcileCounts,
  planSlice,
  type SliceDeps,
  sliceCount,
  sliceDigitsFor,
  slicePrefix,
  slicePrefixes,
} from '../../src/core/reconcile.js';
import type { PoolUser } from '../../src/domain/pool-user.js';

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
    expect(drift.excludedCandidates).toEqual([]);
  });

  it('applies the user policy: an unconfirmed user is neither missing nor an orphan, but held by the service is drift of its own', () => {
    const drift = compareSlice(
      policy,
      [poolUser('u', { status: 'UNCONFIRMED' }), poolUser('v', { status: 'UNCONFIRMED' })],
      [held('v')],
    );

    expect(drift).toEqual({
      checked: 0,
      inStep: 0,
      missing: [],
      different: [],
      orphanCandidates: [],
      excludedCandidates: ['v'],
    });
  });

  it('counts ten unconfirmed sign-ups the service holds, and users of a status taken out of the policy, as excluded', () => {
    const unconfirmed = Array.from({ length: 10 }, (_, n) => `u${n}`);
    const narrowed = readUserPolicy({ SYNC_USER_STATUSES: 'CONFIRMED' });

    const drift = compareSlice(
      narrowed,
      [
        ...unconfirmed.map((sub) => poolUser(sub, { status: 'UNCONFIRMED' })),
        poolUser('fed', { status: 'EXTERNAL_PROVIDER' }),
        poolUser('ok'),
      ],
      [...unconfirmed.map((sub) => held(sub)), held('fed'), held('ok')],
    );

    expect(drift.excludedCandidates).toEqual([...unconfirmed, 'fed']);
    expect(drift.inStep).toBe(1);
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
      excludedCandidates: [],
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

  it('names a slice by its index without listing the others', () => {
    expect(slicePrefix(0, 0)).toBe('');
    expect(slicePrefix(2, 10)).toBe('0a');
    expect(slicePrefix(3, 4095)).toBe('fff');
    expect(slicePrefixes(2).every((prefix, index) => slicePrefix(2, index) === prefix)).toBe(true);
    expect(sliceCount(3)).toBe(4096);
  });

  it('never gives one slice for a pool of unknown size: the finest slicing instead', () => {
    expect(sliceDigitsFor(undefined)).toBe(3);
    expect(sliceDigitsFor(Number.NaN)).toBe(3);
  });

  it.each([
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

describe('planSlice', () => {
  /** A slice's sources: the pool lists `pool`, the service holds `service`, Cognito holds `cognito` now. */
  const deps = (pool: PoolUser[], service: ListedServiceUser[], cognito: PoolUser[] = pool) => {
    const lookups: string[] = [];
    const sliceDeps: SliceDeps = {
      policy,
      listPool: async () => pool,
      listService: async () => service,
      lookup: async (sub) => {
        lookups.push(sub);
        return cognito.find((user) => user.sub === sub);
      },
    };
    return { sliceDeps, lookups };
  };

  it('calls an orphan only what Cognito confirms gone (ListUsers is eventually consistent)', async () => {
    const late = poolUser('a-late');
    const { sliceDeps, lookups } = deps(
      [poolUser('a1')],
      [held('a1'), held('a-gone'), held('a-late')],
      [late],
    );

    const plan = await planSlice('a', sliceDeps, 10);

    expect(plan.removals).toEqual([{ sub: 'a-gone', kind: 'orphaned' }]);
    expect(lookups).toEqual(['a-gone', 'a-late']);
    expect(plan.capped).toEqual([]);
    const counts = emptyReconcileCounts(16);
    countSlice(counts, plan);
    expect(counts).toMatchObject({
      slicesDone: 1,
      checked: 1,
      inStep: 1,
      orphaned: 1,
      missing: 0,
      excluded: 0,
    });
  });

  it('removes a user Cognito holds with a status the policy leaves out; keeps one that became a user', async () => {
    const pool = [poolUser('u1', { status: 'UNCONFIRMED' }), poolUser('u2', { status: 'UNCONFIRMED' })];
    // u2 confirmed its sign-up after the listing: a user now.
    const { sliceDeps } = deps(pool, [held('u1'), held('u2')], [pool[0] as PoolUser, poolUser('u2')]);

    const plan = await planSlice('u', sliceDeps, 10);

    expect(plan.removals).toEqual([{ sub: 'u1', kind: 'excluded' }]);
    const counts = emptyReconcileCounts(1);
    countSlice(counts, plan);
    expect(counts).toMatchObject({ excluded: 1, orphaned: 0 });
  });

  it('confirms no more candidates than the cap allows: thousands of orphans cost two lookups', async () => {
    const orphans = Array.from({ length: 5000 }, (_, n) => held(`o${String(n).padStart(4, '0')}`));
    const { sliceDeps, lookups } = deps([], orphans, []);

    const plan = await planSlice('o', sliceDeps, 2);

    expect(lookups).toEqual(['o0000', 'o0001']);
    expect(plan.removals).toHaveLength(2);
    expect(plan.capped).toHaveLength(4998);
    const counts = emptyReconcileCounts(1);
    countSlice(counts, plan);
    expect(counts).toMatchObject({ orphaned: 2, deletesCapped: 4998 });
  });

  it('stops confirming when the invocation runs out of time: the rest is capped, for the next run', async () => {
    const { sliceDeps, lookups } = deps([], [held('a'), held('b'), held('c'), held('d')], []);

    const plan = await planSlice('', sliceDeps, 10, () => lookups.length >= 2);

    expect(lookups).toEqual(['a', 'b']);
    expect(plan).toMatchObject({ removals: [{ sub: 'a' }, { sub: 'b' }], capped: ['c', 'd'] });
  });

  it('with nothing left of the cap, looks nothing up', async () => {
    const { sliceDeps, lookups } = deps([], [held('x'), held('y')], []);

    const plan = await planSlice('', sliceDeps, deletesLeft({ max: 3, asked: 3 }));

    expect(lookups).toEqual([]);
    expect(plan).toMatchObject({ removals: [], capped: ['x', 'y'] });
  });
});
