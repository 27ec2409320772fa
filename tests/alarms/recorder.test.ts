// The outcomes the alarm-evaluation tests replay are what the real handlers report: a sign-up
// queued, a retry deferred and a user change deferred in every shape of outage, each deferral
// with its backoff; synced, succeeded and updated when the User Service is healthy.

import { beforeAll, describe, expect, it } from 'vitest';
import { emfCounts, emfDatapoints } from './emf.js';
import { OUTAGE_SHAPES, RECORDED_RECEIVES, type Recording, recordOutcomes, type Shape } from './recorder.js';

const counts = (recorded: { emf: Record<string, unknown>[] }) =>
  recorded.emf.map(emfCounts).reduce<Record<string, number>>((sum, next) => {
    for (const [name, value] of Object.entries(next)) sum[name] = (sum[name] ?? 0) + value;
    return sum;
  }, {});

describe('recordOutcomes', () => {
  let recordings: Record<Shape, Recording>;
  beforeAll(async () => {
    recordings = await recordOutcomes(['healthy', ...OUTAGE_SHAPES]);
  }, 120_000);

  it('records a healthy User Service as synced, retried successfully and updated', () => {
    const { trigger, worker, changes } = recordings.healthy;

    expect(counts(trigger)).toMatchObject({ UserSynced: 1 });
    expect(counts(worker[0] as Recording['worker'][number])).toMatchObject({ RetrySucceeded: 1 });
    expect(counts(changes[0] as Recording['changes'][number])).toMatchObject({ UserChangeUpdated: 1 });
  });

  it.each(OUTAGE_SHAPES)(
    'records the %s outage as queued, then deferred on the backoff schedule',
    (shape) => {
      const { trigger, worker, changes } = recordings[shape];

      expect(counts(trigger)).toMatchObject({ UserSyncQueued: 1 });
      expect(worker).toHaveLength(RECORDED_RECEIVES);
      for (const [receive, recorded] of [...worker.entries(), ...changes.entries()]) {
        const deferred = recorded === worker[receive] ? 'RetryDeferred' : 'UserChangeDeferred';
        expect(counts(recorded), `${deferred} at receive ${receive + 1}`).toMatchObject({ [deferred]: 1 });
      }
      // 1, 2, 5, 10 … minutes, each up to 10 % longer (src/core/backoff.ts).
      const steps = worker.map((recorded) => recorded.visibilitySeconds ?? 0);
      expect(steps.slice(0, 4).map((seconds, index) => seconds >= ([60, 120, 300, 600][index] ?? 0))).toEqual(
        [true, true, true, true],
      );
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
    },
  );

  it('publishes each outcome under the service, and the service and function, dimension sets', () => {
    const [blob] = recordings['5xx'].trigger.emf;
    const points = emfDatapoints(blob as Record<string, unknown>, 0, { service: 'sync-a' }).filter(
      (point) => point.name === 'UserSyncQueued',
    );

    expect(points.map((point) => point.dimensions)).toEqual([
      { service: 'sync-a' },
      { service: 'sync-a', function: 'post-confirmation' },
    ]);
  });
});
