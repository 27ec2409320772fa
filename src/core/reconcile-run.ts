// The scheduled reconcile, step by step: a run is started by the schedule and carried on by
// position messages, one invocation after another, its state in the run ledger
// (src/clients/run-ledger.ts). Whatever is delivered, and however often, it stays safe:
// - one run per pool at a time, and one invocation at a time on it (the ledger's lease): a position
//   delivered twice, or a scheduled event retried by Lambda, starts no second chain;
// - the deletion cap belongs to the run, in the ledger; deletions are counted there before they
//   are sent, so no retry, redelivery or crash grants a new budget, and nothing read from a queue
//   can raise it (a position carries no number but its slice, checked against the ledger);
// - a slice recorded done is never done again; a failed step is retried from the ledger.
// Plain functions; the ledger, the plan and the queues are passed in.

import type { RunLedger, RunRecord } from '../clients/run-ledger.js';
import { parseUserPoolId } from '../domain/user-pool-id.js';
import { isRecord } from '../guards.js';
import {
  countSlice,
  deletesLeft,
  emptyReconcileCounts,
  MAX_SLICE_DIGITS,
  type ReconcileCounts,
  type SlicePlan,
  sliceCount,
  slicePrefix,
} from './reconcile.js';

export const POSITION_TYPE = 'cognito-user-sync.reconcile';

/** Where a run goes on: the reconcile queue's message. Its only number is the slice. */
export interface ReconcilePosition {
  type: typeof POSITION_TYPE;
  version: 2;
  userPoolId: string;
  runId: string;
  slice: number;
}

/**
 * A position of version 1 (0.2.0), which carried the run's budget and counts: still accepted while
 * such messages may be in flight, its numbers bounded (the budget by RECONCILE_MAX_DELETES).
 */
interface PositionV1 {
  version: 1;
  userPoolId: string;
  runId: string;
  sliceDigits: number;
  nextSlice: number;
  deletesLeft: number;
}

export type ParsedPosition = ReconcilePosition | PositionV1;

/** Why a position message is refused; says what is wrong, never echoes it. */
export class PositionError extends Error {
  override name = 'PositionError';
}

/** A run id: the pool id, a slash, and what named its start (START_ID). */
const RUN_ID = /^[\w.:/-]{1,200}$/;

const wholeIn = (value: unknown, min: number, max: number): value is number =>
  Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/** Reads a position message strictly: every field checked, every number bounded. */
export const parsePosition = (body: string, userPoolId: string): ParsedPosition => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new PositionError('the position is not JSON');
  }
  if (!isRecord(value) || value.type !== POSITION_TYPE) throw new PositionError('not a reconcile position');
  if (typeof value.userPoolId !== 'string' || parseUserPoolId(value.userPoolId) === undefined)
    throw new PositionError('a position without a valid userPoolId');
  if (value.userPoolId !== userPoolId) throw new PositionError('a position of another pool');
  if (typeof value.runId !== 'string' || !RUN_ID.test(value.runId))
    throw new PositionError('a position without a valid runId');
  if (value.version === 2) {
    const keys = Object.keys(value).sort().join(',');
    if (keys !== 'runId,slice,type,userPoolId,version')
      throw new PositionError(
        'a position of version 2 has exactly type, version, userPoolId, runId and slice',
      );
    if (!wholeIn(value.slice, 0, sliceCount(MAX_SLICE_DIGITS) - 1))
      throw new PositionError('a position without a valid slice');
    return { type: POSITION_TYPE, version: 2, userPoolId, runId: value.runId, slice: value.slice };
  }
  if (value.version === 1) {
    const { sliceDigits, nextSlice, deletesLeft: left } = value;
    if (!wholeIn(sliceDigits, 0, MAX_SLICE_DIGITS))
      throw new PositionError('a position without valid sliceDigits');
    if (!wholeIn(nextSlice, 0, sliceCount(sliceDigits) - 1))
      throw new PositionError('a position without a valid nextSlice');
    if (!wholeIn(left, 0, Number.MAX_SAFE_INTEGER))
      throw new PositionError('a position without valid deletesLeft');
    return { version: 1, userPoolId, runId: value.runId, sliceDigits, nextSlice, deletesLeft: left };
  }
  throw new PositionError('a position of a version this one does not read');
};

/** A run not written for this long has stopped (its position dead-lettered): the schedule takes over. */
export const STALE_RUN_MS = 2 * 3600_000;
/** Time an invocation keeps free at its end: a slice started with less left is handed on. */
export const HAND_OFF_MS = 120_000;
/**
 * Time a slice keeps when it confirms deletion candidates (each lookup may cost a paced ListUsers):
 * enough to send its repairs and record it in the ledger before the invocation ends.
 */
export const CONFIRM_RESERVE_MS = 20_000;
/** How long a lease outlives its invocation's time limit. */
const LEASE_MARGIN_MS = 30_000;

export interface RunConfig {
  userPoolId: string;
  /** RECONCILE_MAX_DELETES: deletions a run may ask for, in all. */
  maxDeletes: number;
}

/** What happened to one slice, for metrics and logs. */
export interface SliceReport {
  runId: string;
  slice: number;
  slices: number;
  plan: SlicePlan;
}

export interface RunDeps {
  config: RunConfig;
  ledger: RunLedger;
  /** How finely to slice the pool (its estimated size). */
  sliceDigits: () => Promise<number>;
  /** Lists, compares and confirms one slice, at most `allowed` deletion candidates. */
  plan: (prefix: string, allowed: number) => Promise<SlicePlan>;
  /** Sends a slice's repairs to the user-changes workers. */
  sendRepairs: (plan: SlicePlan) => Promise<void>;
  /** Sends the position of the next invocation. */
  handOff: (position: ReconcilePosition) => Promise<void>;
  /** Milliseconds left of the invocation. */
  remainingMs: () => number;
  now?: () => number;
  newLease?: () => string;
  onSlice?: (report: SliceReport) => void;
}

/** What a step came to. */
export type StepOutcome =
  /** Slices compared and repairs sent; the run handed on, or completed. */
  | {
      outcome: 'worked';
      runId: string;
      slicesDone: number;
      nextSlice: number;
      completed: boolean;
      counts: ReconcileCounts;
    }
  /** An earlier step was done but its hand-off not sent (it failed after): sent now. */
  | { outcome: 'handed-on'; runId: string; nextSlice: number }
  /** Nothing to do: a duplicate, a finished or superseded run, another run in hand. */
  | { outcome: 'ignored'; runId: string; reason: string };

const positionOf = (run: RunRecord, slice: number): ReconcilePosition => ({
  type: POSITION_TYPE,
  version: 2,
  userPoolId: run.userPoolId,
  runId: run.runId,
  slice,
});

const isLive = (run: RunRecord, now: number) =>
  run.status === 'running' && now - run.updatedAt < STALE_RUN_MS;

/** Carries a run on from `slice`: the step of a position message (or of a start). */
export const continueRun = async (runId: string, slice: number, deps: RunDeps): Promise<StepOutcome> => {
  const now = deps.now ?? Date.now;
  const run = await deps.ledger.get(deps.config.userPoolId);
  if (run === undefined || run.runId !== runId)
    return { outcome: 'ignored', runId, reason: 'not-the-current-run' };
  if (run.status === 'completed') return { outcome: 'ignored', runId, reason: 'run-completed' };
  if (slice > run.nextSlice) return { outcome: 'ignored', runId, reason: 'ahead-of-the-run' };
  if (slice < run.nextSlice) {
    // A step done already (a redelivery, a retry). If its hand-off never went out and no live
    // invocation holds the run, send it now: the run must not stop there.
    const leaseFree = run.lease === undefined || (run.leaseUntil ?? 0) < now();
    if (run.handedOff || !leaseFree) return { outcome: 'ignored', runId, reason: 'step-done-already' };
    await deps.handOff(positionOf(run, run.nextSlice));
    await deps.ledger.markHandedOff(run);
    return { outcome: 'handed-on', runId, nextSlice: run.nextSlice };
  }
  const lease = deps.newLease?.() ?? crypto.randomUUID();
  const claimed = await deps.ledger.claim(
    run,
    slice,
    lease,
    now() + deps.remainingMs() + LEASE_MARGIN_MS,
    now(),
  );
  if (claimed === undefined) return { outcome: 'ignored', runId, reason: 'in-hand-elsewhere' };
  try {
    return await work(claimed, lease, deps);
  } catch (error) {
    // The next delivery (SQS) or retry (Lambda) of this step need not wait for the lease to run out.
    await deps.ledger.release(claimed, lease).catch(() => undefined);
    throw error;
  }
};

/** Compares slices while the time allows, counting deletions in the ledger before they are sent. */
const work = async (claimed: RunRecord, lease: string, deps: RunDeps): Promise<StepOutcome> => {
  const now = deps.now ?? Date.now;
  const slices = sliceCount(claimed.sliceDigits);
  let run = claimed;
  let slicesDone = 0;
  for (;;) {
    const slice = run.nextSlice;
    // The run's cap, or RECONCILE_MAX_DELETES if it was lowered since the run began (to 0 in an incident, say).
    const cap = Math.min(run.maxDeletes, deps.config.maxDeletes);
    const plan = await deps.plan(
      slicePrefix(run.sliceDigits, slice),
      deletesLeft({ max: cap, asked: run.deletesAsked }),
    );
    if (
      plan.removals.length > 0 &&
      !(await deps.ledger.reserveDeletes(run, lease, plan.removals.length, now()))
    ) {
      throw new Error('the run ledger refused the deletions: the lease was lost or the cap reached');
    }
    await deps.sendRepairs(plan);
    const counts = { ...emptyReconcileCounts(slices), ...run.counts } as ReconcileCounts;
    countSlice(counts, plan);
    counts.created += plan.drift.missing.length;
    counts.updated += plan.drift.different.length;
    counts.deleted += plan.removals.length;
    const completed = slice + 1 >= slices;
    const more = !completed && deps.remainingMs() > HAND_OFF_MS;
    run = await deps.ledger.completeSlice(
      run,
      lease,
      { counts: { ...counts }, completed, release: !more },
      now(),
    );
    slicesDone++;
    deps.onSlice?.({ runId: run.runId, slice, slices, plan });
    if (!more) break;
  }
  const counts = run.counts as unknown as ReconcileCounts;
  if (run.status !== 'completed') {
    await deps.handOff(positionOf(run, run.nextSlice));
    await deps.ledger.markHandedOff(run);
  }
  return {
    outcome: 'worked',
    runId: run.runId,
    slicesDone,
    nextSlice: run.nextSlice,
    completed: run.status === 'completed',
    counts,
  };
};

/** What may name a run's start: an EventBridge event id (a UUID), or an invocation's request id. */
export const START_ID = /^[\w.:-]{1,128}$/;

/**
 * A new run, unless one is in hand; `startId` names it (a retried start finds its own run).
 * `eventTime` (epoch ms), the schedule's event's time: a start older than the pool's current run
 * is ignored. Lambda retries a failed asynchronous event for up to six hours ("Lambda: Configuring
 * error handling for asynchronous invocation", MaximumEventAgeInSeconds), so a late retry of one
 * schedule's event can come after the next schedule's run began: it must not start another run,
 * with a budget of its own, for a schedule already served.
 */
export const startRun = async (startId: string, deps: RunDeps, eventTime?: number): Promise<StepOutcome> => {
  const now = deps.now ?? Date.now;
  if (!START_ID.test(startId)) throw new RangeError('a run is named by an id of letters, digits and . : _ -');
  const runId = `${deps.config.userPoolId}/${startId}`;
  const current = await deps.ledger.get(deps.config.userPoolId);
  // Lambda retried this start (an asynchronous invocation is tried three times): the run it
  // began goes on with its own budget, from where it is.
  if (current?.runId === runId) return continueRun(runId, 0, deps);
  if (current !== undefined && eventTime !== undefined && eventTime < Date.parse(current.startedAt)) {
    return { outcome: 'ignored', runId, reason: 'older-than-the-current-run' };
  }
  if (current !== undefined && isLive(current, now())) {
    return { outcome: 'ignored', runId, reason: 'another-run-in-hand' };
  }
  const sliceDigits = await deps.sliceDigits();
  const started = await deps.ledger.start(
    newRun(runId, sliceDigits, 0, deps.config.maxDeletes, now(), deps),
    current?.runId,
  );
  if (!started) return { outcome: 'ignored', runId, reason: 'another-run-in-hand' };
  return continueRun(runId, 0, deps);
};

const newRun = (
  runId: string,
  sliceDigits: number,
  nextSlice: number,
  maxDeletes: number,
  now: number,
  deps: RunDeps,
): RunRecord => ({
  userPoolId: deps.config.userPoolId,
  runId,
  status: 'running',
  startedAt: new Date(now).toISOString(),
  updatedAt: now,
  sliceDigits,
  nextSlice,
  maxDeletes,
  deletesAsked: 0,
  handedOff: false,
  counts: { ...emptyReconcileCounts(sliceCount(sliceDigits)) },
});

/**
 * The step of one position message. A version 1 position (0.2.0) becomes a run of the ledger only
 * while the pool has none: it can only be one an upgrade left in flight. Once the ledger holds a
 * run, a version 1 position of another run is ignored, whatever it says: a redrive of old dead
 * letters, or a forged message, must not start a run with a budget of its own.
 */
export const stepOf = async (position: ParsedPosition, deps: RunDeps): Promise<StepOutcome> => {
  if (position.version === 2) return continueRun(position.runId, position.slice, deps);
  const now = deps.now ?? Date.now;
  const current = await deps.ledger.get(deps.config.userPoolId);
  if (current !== undefined && current.runId !== position.runId) {
    return { outcome: 'ignored', runId: position.runId, reason: 'version-1-position-of-another-run' };
  }
  let slice = position.nextSlice;
  if (current === undefined) {
    // Its budget as it says, but never more than this deployment allows a run.
    const maxDeletes = Math.min(position.deletesLeft, deps.config.maxDeletes);
    // Its slicing, unless coarser than the pool's size asks (a version 1 position could say 0
    // digits: the whole pool in one slice): then the run starts again, as finely as it must.
    const wanted = await deps.sliceDigits();
    const sliceDigits = Math.max(position.sliceDigits, wanted);
    if (sliceDigits !== position.sliceDigits) slice = 0;
    const run = newRun(position.runId, sliceDigits, slice, maxDeletes, now(), deps);
    if (!(await deps.ledger.start(run, undefined))) {
      return { outcome: 'ignored', runId: position.runId, reason: 'another-run-in-hand' };
    }
  } else if (position.sliceDigits !== current.sliceDigits) {
    // A duplicate of the position that started this run again, more finely: its slice means nothing now.
    return { outcome: 'ignored', runId: position.runId, reason: 'version-1-position-of-a-resliced-run' };
  }
  return continueRun(position.runId, slice, deps);
};
