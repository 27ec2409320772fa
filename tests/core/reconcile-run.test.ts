// The scheduled reconcile's steps, with the run ledger in memory (its DynamoDB form runs on moto
// in tests/aws/reconcile.test.ts): the cap holds whatever is delivered, and however often; one
// chain per run; a failed step carries on from the ledger.

import { describe, expect, it } from 'vitest';
import type { ListedServiceUser } from '../../src/clients/user-service.js';
import { readUserPolicy } from '../../src/config.js';
import { planSlice, type SlicePlan } from '../../src/core/reconcile.js';
import {
  continueRun,
  HAND_OFF_MS,
  PositionError,
  parsePosition,
  type ReconcilePosition,
  type RunDeps,
  STALE_RUN_MS,
  startRun,
  stepOf,
} from '../../src/core/reconcile-run.js';
import { memoryLedger } from '../helpers/memory-ledger.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const held = (sub: string): ListedServiceUser => ({
  cognitoSub: sub,
  email: null,
  fullName: null,
  status: 'ACTIVE',
  cognitoLastModified: null,
});

/**
 * A run over 16 slices (sub prefixes 0–f) of a pool that is empty: every user the service holds is
 * an orphan Cognito confirms gone. Each invocation does one slice, or all of them (`longInvocations`).
 */
const harness = ({
  maxDeletes = 2,
  orphans = [] as string[],
  longInvocations = false,
  failingSlices = new Set<string>(),
} = {}) => {
  const ledger = memoryLedger();
  const deleted: string[] = [];
  const positions: ReconcilePosition[] = [];
  const planned: string[] = [];
  let now = 1_800_000_000_000;
  const deps: RunDeps = {
    config: { userPoolId: POOL, maxDeletes },
    ledger,
    sliceDigits: async () => 1,
    plan: async (prefix, allowed) => {
      planned.push(prefix);
      return planSlice(
        prefix,
        {
          policy: readUserPolicy({}),
          listPool: async () => [],
          listService: async () => {
            if (failingSlices.has(prefix)) throw new Error(`the list of slice ${prefix} failed`);
            return orphans.filter((sub) => sub.startsWith(prefix)).map(held);
          },
          lookup: async () => undefined,
        },
        allowed,
      );
    },
    sendRepairs: async (plan: SlicePlan) => {
      deleted.push(...plan.removals.map(({ sub }) => sub));
    },
    handOff: async (position) => {
      positions.push(position);
    },
    remainingMs: () => (longInvocations ? 800_000 : HAND_OFF_MS - 1),
    now: () => now,
  };
  /** Delivers every position sent and not yet delivered, one invocation each, until the run ends. */
  const drain = async () => {
    for (let delivered = 0; delivered < positions.length; delivered++) {
      const position = positions[delivered] as ReconcilePosition;
      await stepOf(parsePosition(JSON.stringify(position), POOL), deps);
    }
  };
  return {
    deps,
    ledger,
    deleted,
    positions,
    planned,
    drain,
    tick: (ms: number) => {
      now += ms;
    },
  };
};

describe('the scheduled reconcile run', () => {
  it('starts from the schedule, one slice an invocation, handing its position on to the end', async () => {
    const run = harness({ orphans: ['0-gone'] });

    const step = await startRun('event-1', run.deps);
    await run.drain();

    expect(step).toMatchObject({ outcome: 'worked', runId: `${POOL}/event-1`, slicesDone: 1, nextSlice: 1 });
    expect(run.positions.map((position) => position.slice)).toEqual(
      Array.from({ length: 15 }, (_, n) => n + 1),
    );
    expect(run.positions[0]).toEqual({
      type: 'cognito-user-sync.reconcile',
      version: 2,
      userPoolId: POOL,
      runId: `${POOL}/event-1`,
      slice: 1,
    });
    expect(run.planned).toHaveLength(16);
    expect(run.deleted).toEqual(['0-gone']);
    expect(run.ledger.record(POOL)).toMatchObject({ status: 'completed', nextSlice: 16, deletesAsked: 1 });
  });

  it('does as many slices as the time allows in one invocation', async () => {
    const run = harness({ longInvocations: true });

    const step = await startRun('event-1', run.deps);

    expect(step).toMatchObject({ outcome: 'worked', slicesDone: 16, completed: true });
    expect(run.positions).toEqual([]);
  });

  it('asks for at most the cap in all, the deletions counted in the ledger before they are sent', async () => {
    const orphans = ['0-a', '0-b', '3-a', '7-a', 'c-a', 'f-a'];
    const run = harness({ maxDeletes: 2, orphans });

    await startRun('event-1', run.deps);
    await run.drain();

    expect(run.deleted).toEqual(['0-a', '0-b']);
    expect(run.ledger.record(POOL)?.counts).toMatchObject({ orphaned: 2, deletesCapped: 4, deleted: 2 });
    expect(run.ledger.writes.indexOf('reserveDeletes')).toBeLessThan(
      run.ledger.writes.indexOf('completeSlice'),
    );
  });

  it("a position saying deletesLeft 1000 (version 1) can't raise RECONCILE_MAX_DELETES 2: six orphans, two deletions", async () => {
    const orphans = ['0-a', '0-b', '3-a', '7-a', 'c-a', 'f-a'];
    const run = harness({ maxDeletes: 2, orphans });
    const lying = {
      type: 'cognito-user-sync.reconcile',
      version: 1,
      runId: `${POOL}-2026-12-01T00:00:00.000Z`,
      userPoolId: POOL,
      startedAt: '2026-12-01T00:00:00.000Z',
      sliceDigits: 1,
      nextSlice: 0,
      deletesLeft: 1000,
      counts: {},
    };

    await stepOf(parsePosition(JSON.stringify(lying), POOL), run.deps);
    await run.drain();

    expect(run.deleted).toHaveLength(2);
    expect(run.ledger.record(POOL)).toMatchObject({ maxDeletes: 2, deletesAsked: 2, status: 'completed' });
  });

  it("Lambda's retries of the scheduled event grant no new budget: the list failing mid-run, five orphans, a cap of two", async () => {
    const orphans = ['0-a', '1-a', '2-a', '3-a', '4-a'];
    const failing = new Set(['2']);
    const run = harness({ maxDeletes: 2, orphans, longInvocations: true, failingSlices: failing });

    // Lambda runs an asynchronous invocation that failed twice more, with the same event: the
    // first retry finds the run it began and hands it on from the slice it reached; the second
    // finds it handed on.
    await expect(startRun('event-1', run.deps)).rejects.toThrow('the list of slice 2 failed');
    await expect(startRun('event-1', run.deps)).resolves.toMatchObject({
      outcome: 'handed-on',
      nextSlice: 2,
    });
    await expect(startRun('event-1', run.deps)).resolves.toMatchObject({ reason: 'step-done-already' });
    // The position fails too while the list does (SQS would deliver it again); then the list is back.
    await expect(run.drain()).rejects.toThrow('the list of slice 2 failed');
    failing.clear();
    await run.drain();

    expect(run.deleted).toEqual(['0-a', '1-a']);
    expect(run.ledger.record(POOL)).toMatchObject({ status: 'completed', deletesAsked: 2 });
    // The slices done before the failure were not done again.
    expect(run.planned.filter((prefix) => prefix === '0')).toHaveLength(1);
  });

  it('one chain per run: a position delivered twice, at once or later, does its slice once', async () => {
    const run = harness();
    await startRun('event-1', run.deps);
    const [position] = run.positions;
    if (!position) throw new Error('no position was handed on');
    const body = JSON.stringify(position);

    // SQS delivers the same message twice, to two invocations at once.
    const [first, second] = await Promise.all([
      stepOf(parsePosition(body, POOL), run.deps),
      stepOf(parsePosition(body, POOL), run.deps),
    ]);
    // ... and once more, later.
    const third = await stepOf(parsePosition(body, POOL), run.deps);

    expect([first.outcome, second.outcome].sort()).toEqual(['ignored', 'worked']);
    expect(third).toMatchObject({ outcome: 'ignored', reason: 'step-done-already' });
    expect(run.planned).toEqual(['0', '1']);
    expect(run.positions.map((sent) => sent.slice)).toEqual([1, 2]);
  });

  it('a step that failed after recording its slice, before its hand-off, is handed on by its redelivery', async () => {
    const run = harness();
    const handOff = run.deps.handOff;
    run.deps.handOff = async () => {
      throw new Error('SQS is down');
    };
    await expect(startRun('event-1', run.deps)).rejects.toThrow('SQS is down');
    run.deps.handOff = handOff;

    const retried = await startRun('event-1', run.deps);
    await run.drain();

    expect(retried).toEqual({ outcome: 'handed-on', runId: `${POOL}/event-1`, nextSlice: 1 });
    expect(run.planned).toHaveLength(16);
    expect(run.ledger.record(POOL)?.status).toBe('completed');
  });

  it('starts no second run while one is in hand; takes over one that stopped', async () => {
    const run = harness();
    await startRun('monday', run.deps);

    run.tick(60_000);
    await expect(startRun('tuesday', run.deps)).resolves.toMatchObject({
      outcome: 'ignored',
      reason: 'another-run-in-hand',
    });

    // Monday's chain stopped (its position dead-lettered): after a while the schedule takes over.
    run.tick(STALE_RUN_MS);
    const wednesday = await startRun('wednesday', run.deps);
    expect(wednesday).toMatchObject({ outcome: 'worked', runId: `${POOL}/wednesday` });
    // Monday's position, come back, does nothing.
    const [monday] = run.positions;
    await expect(stepOf(monday as ReconcilePosition, run.deps)).resolves.toMatchObject({
      outcome: 'ignored',
      reason: 'not-the-current-run',
    });
  });

  it('ignores a position ahead of its run, or of a run that is not the current one', async () => {
    const run = harness();
    await startRun('event-1', run.deps);

    await expect(continueRun(`${POOL}/event-1`, 9, run.deps)).resolves.toMatchObject({
      reason: 'ahead-of-the-run',
    });
    await expect(continueRun(`${POOL}/forged`, 1, run.deps)).resolves.toMatchObject({
      reason: 'not-the-current-run',
    });
    expect(run.planned).toEqual(['0']);
  });

  it('one scheduled run, a cap of two: version 1 positions of other runs grant no budget of their own', async () => {
    const orphans = ['0-a', '0-b', '1-a', '1-b', '2-a', '2-b', '3-a', '3-b'];
    const run = harness({ maxDeletes: 2, orphans, longInvocations: true });

    await startRun('schedule-event-1', run.deps);
    // Old dead letters redriven, or forged: positions of 0.2.0 naming runs the ledger never had.
    for (const day of [1, 2, 3]) {
      const v1 = {
        type: 'cognito-user-sync.reconcile',
        version: 1,
        runId: `${POOL}-2026-12-0${day}T00:00:00.000Z`,
        userPoolId: POOL,
        startedAt: `2026-12-0${day}T00:00:00.000Z`,
        sliceDigits: 1,
        nextSlice: 0,
        deletesLeft: 2,
        counts: {},
      };
      await expect(stepOf(parsePosition(JSON.stringify(v1), POOL), run.deps)).resolves.toMatchObject({
        outcome: 'ignored',
        reason: 'version-1-position-of-another-run',
      });
    }

    expect(run.deleted).toHaveLength(2);
  });

  it('RECONCILE_MAX_DELETES lowered while a run goes on holds from its next slice: 0 stops its deletions', async () => {
    const orphans = ['0-a', '1-a', '2-a', '3-a'];
    const run = harness({ maxDeletes: 10, orphans });

    await startRun('schedule-event-1', run.deps);
    expect(run.deleted).toEqual(['0-a']);
    // On call sets the cap to 0 in an incident; the run's next invocations read it.
    run.deps.config.maxDeletes = 0;
    await run.drain();

    expect(run.deleted).toEqual(['0-a']);
    expect(run.ledger.record(POOL)).toMatchObject({ status: 'completed', deletesAsked: 1 });
  });

  it("a late retry of an earlier schedule's event, after the next run began, starts no run of its own", async () => {
    const run = harness({
      maxDeletes: 2,
      orphans: ['0-a', '1-a', '2-a', '3-a', '4-a'],
      longInvocations: true,
    });
    const firstEvent = 1_800_000_000_000 - 3_600_000;
    // The next schedule's run starts and finishes, with its cap of two.
    await startRun('schedule-event-2', run.deps, 1_800_000_000_000);
    expect(run.deleted).toHaveLength(2);
    run.tick(STALE_RUN_MS + 1);

    // Lambda's retry of the earlier event, whose first attempts failed before they began a run.
    await expect(startRun('schedule-event-1', run.deps, firstEvent)).resolves.toMatchObject({
      outcome: 'ignored',
      reason: 'older-than-the-current-run',
    });
    expect(run.deleted).toHaveLength(2);
    // The next schedule's event starts a run as it should.
    await expect(
      startRun('schedule-event-3', run.deps, 1_800_000_000_000 + STALE_RUN_MS + 1),
    ).resolves.toMatchObject({
      outcome: 'worked',
    });
  });

  it('a version 1 position coarser than the pool asks (0 digits: the whole pool) starts again as finely as it must', async () => {
    const run = harness({ maxDeletes: 2, orphans: ['0-a', 'f-a'], longInvocations: true });
    const v1 = {
      type: 'cognito-user-sync.reconcile',
      version: 1,
      runId: `${POOL}-2026-12-01T00:00:00.000Z`,
      userPoolId: POOL,
      sliceDigits: 0,
      nextSlice: 0,
      deletesLeft: 2,
    };

    await stepOf(parsePosition(JSON.stringify(v1), POOL), run.deps);

    // Sixteen slices, the pool's slicing, never one prefix-less list.
    expect(run.planned).toEqual([...'0123456789abcdef']);
    expect(run.ledger.record(POOL)).toMatchObject({ sliceDigits: 1, status: 'completed' });
    // Its duplicate, delivered again, is not read against the new slicing.
    await expect(stepOf(parsePosition(JSON.stringify(v1), POOL), run.deps)).resolves.toMatchObject({
      reason: 'version-1-position-of-a-resliced-run',
    });
  });

  it('a ledger write that fails before the deletions are counted sends none of them; the retry stays under the cap', async () => {
    const run = harness({
      maxDeletes: 2,
      orphans: ['0-a', '0-b', '0-c', '0-d', '0-e', '0-f'],
      longInvocations: true,
    });
    const reserve = run.ledger.reserveDeletes.bind(run.ledger);
    let failOnce = true;
    run.ledger.reserveDeletes = async (...args) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('ProvisionedThroughputExceededException');
      }
      return reserve(...args);
    };

    await expect(startRun('event-1', run.deps)).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(run.deleted).toEqual([]);
    await startRun('event-1', run.deps);
    await run.drain();

    expect(run.deleted).toEqual(['0-a', '0-b']);
  });

  it.each(['reconcile now', 'x'.repeat(190)])(
    'refuses to start a run named %j, which no position could carry on',
    async (id) => {
      const run = harness();

      await expect(startRun(id, run.deps)).rejects.toThrow(RangeError);
      expect(run.ledger.writes).toEqual([]);
    },
  );

  it('lets the lease go when a step fails, so the next delivery need not wait for it', async () => {
    const run = harness({ failingSlices: new Set(['0']) });

    await expect(startRun('event-1', run.deps)).rejects.toThrow();

    expect(run.ledger.record(POOL)?.lease).toBeUndefined();
    expect(run.ledger.writes.at(-1)).toBe('release');
  });
});

describe('parsePosition', () => {
  const position = {
    type: 'cognito-user-sync.reconcile',
    version: 2,
    userPoolId: POOL,
    runId: `${POOL}/e`,
    slice: 3,
  };
  const parse = (value: unknown) => () => parsePosition(JSON.stringify(value), POOL);

  it('reads a position of version 2', () => {
    expect(parse(position)()).toEqual(position);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['another pool', { ...position, userPoolId: 'eu-west-1_Other' }, /another pool/],
    ['a key too many', { ...position, deletesLeft: 1000 }, /exactly/],
    ['a negative slice', { ...position, slice: -1 }, /slice/],
    ['a slice past the finest slicing', { ...position, slice: 65_536 }, /slice/],
    ['a fractional slice', { ...position, slice: 1.5 }, /slice/],
    ['a run id of another shape', { ...position, runId: 'a b' }, /runId/],
    ['an unknown version', { ...position, version: 3 }, /version/],
    [
      'version 1 with more slice digits than there are',
      { ...position, version: 1, sliceDigits: 9, nextSlice: 0, deletesLeft: 1 },
      /sliceDigits/,
    ],
    [
      'version 1 past its last slice',
      { ...position, version: 1, sliceDigits: 1, nextSlice: 16, deletesLeft: 1 },
      /nextSlice/,
    ],
    [
      'version 1 with a negative budget',
      { ...position, version: 1, sliceDigits: 1, nextSlice: 0, deletesLeft: -5 },
      /deletesLeft/,
    ],
  ])('refuses %s', (_, value, message) => {
    const read = typeof value === 'string' ? () => parsePosition(value, POOL) : parse(value);
    expect(read).toThrow(PositionError);
    expect(read).toThrow(message);
  });
});
