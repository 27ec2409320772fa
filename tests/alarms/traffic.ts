// Simulated days of a deployment's life, as the datapoints CloudWatch would hold: sign-ups and
// Cognito user changes at a day's and a night's rate, each run through the outcomes the real
// handlers reported (recorder.ts) for the User Service's state at that moment, on a simulated clock.
// A queued sign-up comes back to the retry worker 30 s later (the retry queue's DelaySeconds), a
// deferred message after the visibility timeout the handler asked for; a change is received at
// once (the changes queue has no delay). The AWS metrics our functions do not emit (SQS, Lambda,
// EventBridge) are added by the scenarios that need them (scenarios.ts).

import { namesOf } from '../iac/helpers/spec.js';
import { emfDatapoints } from './emf.js';
import type { Datapoint } from './evaluator.js';
import { RECORDED_RECEIVES, type Recorded, type Recording, type Shape } from './recorder.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** Day 0 of every simulation: a Monday, 00:00 UTC. */
export const EPOCH = Date.UTC(2026, 0, 5);

/** Seconds between sign-ups, and between changes: busy from 07:00 to 23:00 UTC, quiet otherwise. */
export const TRAFFIC = {
  signUps: { day: 60, night: 900 },
  changes: { day: 120, night: 1800 },
} as const;
/** Every this-many-th sign-up fails once (a slow answer, a blip) and is synced by its first retry. */
export const TRANSIENT_EVERY = 50;
/** SQS moves a message to the dead-letter queue after this many receives (MaxReceiveCount). */
const MAX_RECEIVES = 12;
/** The retry queue's DelaySeconds. */
const RETRY_DELAY_MS = 30 * SECOND;

export interface Traffic {
  from: number;
  to: number;
  /** The User Service at a moment. */
  serviceAt?: (t: number) => Shape;
  /** Sign-ups that fail once, then are synced by their first retry. */
  failsOnce?: (t: number, n: number) => boolean;
  /** Whether the trail logs Cognito's calls (else no change event exists). */
  trailLogs?: (t: number) => boolean;
  /** Whether the rule can deliver to the changes queue (else each delivery fails for good). */
  ruleDelivers?: (t: number) => boolean;
}

const isDay = (t: number) => {
  const hour = new Date(t).getUTCHours();
  return hour >= 7 && hour < 23;
};

/** Times on a day/night grid: every `day` seconds by day, every `night` seconds by night, from `offset`. */
export const schedule = (
  from: number,
  to: number,
  { day, night }: { day: number; night: number },
  offset = 0,
) => {
  const times: number[] = [];
  for (let t = from + offset * SECOND; t < to; ) {
    times.push(t);
    t += (isDay(t) ? day : night) * SECOND;
  }
  return times;
};

/** A min-heap of timed work, so retries scheduled for later interleave with new traffic. */
class Agenda<T> {
  private readonly items: { at: number; item: T }[] = [];
  push(at: number, item: T) {
    this.items.push({ at, item });
    let index = this.items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((this.items[parent] as { at: number }).at <= at) break;
      [this.items[parent], this.items[index]] = [this.items[index] as never, this.items[parent] as never];
      index = parent;
    }
  }
  pop(): { at: number; item: T } | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last) {
      this.items[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (
          left < this.items.length &&
          (this.items[left] as { at: number }).at < (this.items[smallest] as { at: number }).at
        )
          smallest = left;
        if (
          right < this.items.length &&
          (this.items[right] as { at: number }).at < (this.items[smallest] as { at: number }).at
        )
          smallest = right;
        if (smallest === index) break;
        [this.items[smallest], this.items[index]] = [
          this.items[index] as never,
          this.items[smallest] as never,
        ];
        index = smallest;
      }
    }
    return top;
  }
}

type Work =
  | { kind: 'sign-up'; failsOnce: boolean }
  | { kind: 'retry'; receive: number; failedOnce: boolean }
  | { kind: 'change'; receive: number };

/** Sign-ups and changes from `from` to `to`, as datapoints of the deployment named `prefix`. */
export const simulateTraffic = (
  prefix: string,
  recordings: Record<Shape, Recording>,
  {
    from,
    to,
    serviceAt = () => 'healthy',
    failsOnce = () => false,
    trailLogs = () => true,
    ruleDelivers = () => true,
  }: Traffic,
): Datapoint[] => {
  const names = namesOf(prefix);
  const points: Datapoint[] = [];
  const emit = (recorded: Recorded, at: number) => {
    for (const blob of recorded.emf) points.push(...emfDatapoints(blob, at, { service: prefix }));
  };
  const receive = (list: Recorded[], count: number) =>
    list[Math.min(count, RECORDED_RECEIVES) - 1] as Recorded;
  const agenda = new Agenda<Work>();
  for (const [n, t] of schedule(from, to, TRAFFIC.signUps).entries()) {
    agenda.push(t, { kind: 'sign-up', failsOnce: failsOnce(t, n) });
  }
  for (const t of schedule(from, to, TRAFFIC.changes, 30)) {
    if (!trailLogs(t)) continue;
    if (!ruleDelivers(t)) {
      points.push({
        namespace: 'AWS/Events',
        name: 'FailedInvocations',
        dimensions: { RuleName: names.userChangesRule },
        timestamp: t,
        value: 1,
      });
      continue;
    }
    points.push({
      namespace: 'AWS/SQS',
      name: 'NumberOfMessagesSent',
      dimensions: { QueueName: names.changesQueue },
      timestamp: t,
      value: 1,
    });
    agenda.push(t, { kind: 'change', receive: 1 });
  }
  for (let next = agenda.pop(); next !== undefined && next.at < to; next = agenda.pop()) {
    const { at, item } = next;
    const shape = serviceAt(at);
    if (item.kind === 'sign-up') {
      const outcome = item.failsOnce ? '5xx' : shape;
      emit(recordings[outcome].trigger, at);
      if (outcome !== 'healthy')
        agenda.push(at + RETRY_DELAY_MS, { kind: 'retry', receive: 1, failedOnce: item.failsOnce });
    } else {
      const recorded = receive(
        item.kind === 'retry' ? recordings[shape].worker : recordings[shape].changes,
        item.receive,
      );
      emit(recorded, at);
      if (shape !== 'healthy' && item.receive < MAX_RECEIVES) {
        agenda.push(at + (recorded.visibilitySeconds ?? 0) * SECOND, { ...item, receive: item.receive + 1 });
      }
    }
  }
  return points;
};
