// The run ledger in memory, with the conditions the DynamoDB one writes under (src/clients/
// run-ledger.ts): for the unit tier's tests of the scheduled run. The AWS tier runs the real
// ledger on moto's DynamoDB.

import type { RunLedger, RunRecord } from '../../src/clients/run-ledger.js';
import { LeaseLostError } from '../../src/clients/run-ledger.js';

export interface MemoryLedger extends RunLedger {
  /** The pool's record as stored (a copy). */
  record(userPoolId: string): RunRecord | undefined;
  /** Every write, by name, in order. */
  writes: string[];
}

export const memoryLedger = (): MemoryLedger => {
  const items = new Map<string, RunRecord>();
  const writes: string[] = [];
  const copy = (run: RunRecord | undefined) => (run ? structuredClone(run) : undefined);
  const holds = (run: RunRecord, lease: string) => {
    const stored = items.get(run.userPoolId);
    return stored?.runId === run.runId && stored.lease === lease && stored.nextSlice === run.nextSlice;
  };
  return {
    writes,
    record: (userPoolId) => copy(items.get(userPoolId)),
    async get(userPoolId) {
      return copy(items.get(userPoolId));
    },
    async start(run, replacing) {
      writes.push('start');
      const stored = items.get(run.userPoolId);
      if (replacing === undefined ? stored !== undefined : stored?.runId !== replacing) return false;
      items.set(run.userPoolId, structuredClone(run));
      return true;
    },
    async claim(run, slice, lease, leaseUntil, now) {
      writes.push('claim');
      const stored = items.get(run.userPoolId);
      if (
        stored?.runId !== run.runId ||
        stored.nextSlice !== slice ||
        stored.status !== 'running' ||
        (stored.lease !== undefined && (stored.leaseUntil ?? 0) >= now)
      ) {
        return undefined;
      }
      Object.assign(stored, { lease, leaseUntil, updatedAt: now });
      return copy(stored);
    },
    async reserveDeletes(run, lease, deletes, now) {
      writes.push('reserveDeletes');
      const stored = items.get(run.userPoolId);
      if (!stored || !holds(run, lease) || stored.deletesAsked > run.maxDeletes - deletes) return false;
      stored.deletesAsked += deletes;
      stored.updatedAt = now;
      return true;
    },
    async completeSlice(run, lease, { counts, completed, release }, now) {
      writes.push('completeSlice');
      const stored = items.get(run.userPoolId);
      if (!stored || !holds(run, lease)) throw new LeaseLostError('another invocation took the run over');
      Object.assign(stored, {
        nextSlice: stored.nextSlice + 1,
        counts: { ...counts },
        handedOff: false,
        status: completed ? 'completed' : 'running',
        updatedAt: now,
      });
      if (release || completed) {
        stored.lease = undefined;
        stored.leaseUntil = undefined;
      }
      return copy(stored) as RunRecord;
    },
    async release(run, lease) {
      writes.push('release');
      const stored = items.get(run.userPoolId);
      if (stored?.runId === run.runId && stored.lease === lease) {
        stored.lease = undefined;
        stored.leaseUntil = undefined;
      }
    },
    async markHandedOff(run) {
      writes.push('markHandedOff');
      const stored = items.get(run.userPoolId);
      if (stored?.runId !== run.runId || stored.nextSlice !== run.nextSlice || stored.handedOff) return false;
      stored.handedOff = true;
      return true;
    },
  };
};
