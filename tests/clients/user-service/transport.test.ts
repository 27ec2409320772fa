// askedWaitMs reads the wait an answer asks for as ky reads it to wait: the installed ky, run on the
// same answers as the transport runs it, must wait what askedWaitMs says (clamped as ky clamps), so
// an upgrade of ky that reads the headers otherwise fails here rather than send the client waiting
// when it would not. Where askedWaitMs reads no wait and ky would read one (a rate-limit reset on a
// 503), the transport has ky take its backoff instead: that too is held to what ky does.

import ky from 'ky';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { askedWaitMs, WAIT_STATUSES } from '../../../src/clients/user-service/transport.js';

const NOW = Date.parse('2026-11-26T10:00:00Z');
/** What ky is told it may wait at most; a wait it cannot read it takes as this. */
const MAX_RETRY_AFTER = 10 * 3600_000;
/** ky's wait when the answer asks for none: its backoff. */
const BACKOFF = 1234;
/** ky never waits longer than setTimeout can (2^31 - 1 ms). */
const MAX_SAFE_TIMEOUT = 2_147_483_647;

/**
 * The wait ky takes before its one retry of an answer of `status` carrying `headers`, set up as the
 * transport sets it up; `forceBackoff`: shouldRetry says true, as the transport's does when it reads
 * no wait.
 */
const kysWait = async (
  status: number,
  headers: Record<string, string>,
  forceBackoff = false,
): Promise<number> => {
  const waits: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((handler: () => void, ms?: number) => {
    waits.push(ms ?? 0);
    return realSetTimeout(handler, 0);
  }) as typeof setTimeout);
  let calls = 0;
  try {
    await ky('http://user-service.invalid/api/v1/users', {
      fetch: async () =>
        calls++ === 0 ? new Response('{}', { status, headers }) : new Response('{}', { status: 200 }),
      timeout: false,
      retry: {
        limit: 1,
        statusCodes: [status],
        afterStatusCodes: [...WAIT_STATUSES],
        maxRetryAfter: MAX_RETRY_AFTER,
        delay: () => BACKOFF,
        ...(forceBackoff && { shouldRetry: () => true }),
      },
    });
  } finally {
    spy.mockRestore();
  }
  expect(calls).toBe(2);
  return waits.at(-1) ?? Number.NaN;
};

describe('askedWaitMs', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    [429, { 'retry-after': '1' }, 1000],
    [429, { 'retry-after': '120' }, 120_000],
    [429, { 'retry-after': '0' }, 0],
    [429, { 'retry-after': 'Thu, 26 Nov 2026 10:00:30 GMT' }, 30_000],
    [429, { 'retry-after': 'Thu, 26 Nov 2026 09:59:30 GMT' }, -30_000], // in the past: no wait
    [429, { 'ratelimit-reset': '2' }, 2000],
    [429, { 'x-ratelimit-retry-after': '3' }, 3000],
    [429, { 'x-ratelimit-reset': String(NOW / 1000 + 4) }, 4000], // a Unix time
    [429, { 'x-rate-limit-reset': '5' }, 5000],
    [429, { 'retry-after': String(NOW / 1000 + 5) }, 5000], // a Unix time, as ky reads it
    [429, { 'retry-after': '1', 'ratelimit-reset': '9' }, 1000], // Retry-After first
    [429, { 'retry-after': 'Infinity' }, Number.POSITIVE_INFINITY],
    [429, { 'retry-after': 'soon' }, Number.NaN], // asked, in a form nobody reads
    [429, { 'retry-after': '' }, undefined],
    [429, {}, undefined],
    [503, { 'retry-after': '120' }, 120_000],
    [503, { 'retry-after': 'Thu, 26 Nov 2026 10:00:30 GMT' }, 30_000],
    [503, { 'retry-after': '1', 'x-ratelimit-reset': String(NOW / 1000 + 3600) }, 1000],
    [503, { 'retry-after': 'soon' }, Number.NaN],
  ])('reads a %s with %j as %s ms, the wait ky takes', async (status, headers, expected) => {
    const asked = askedWaitMs(status, new Headers(headers), NOW);

    const waited = await kysWait(status, headers);

    expect(asked).toBe(expected);
    const kyWould =
      asked === undefined
        ? BACKOFF
        : Number.isNaN(asked)
          ? MAX_RETRY_AFTER
          : Math.min(asked, MAX_RETRY_AFTER, MAX_SAFE_TIMEOUT);
    expect(waited).toBe(kyWould);
  });

  it.each([
    // A window's reset time, sent with every answer by many gateways: no wait but on a 429.
    [503, { 'x-ratelimit-reset': String(NOW / 1000 + 3600) }],
    [503, { 'ratelimit-reset': '3600' }],
    [502, { 'x-ratelimit-reset': String(NOW / 1000 + 3600) }],
    [502, { 'retry-after': '120' }], // the service's word on a 429 or a 503 only
    [500, { 'retry-after': '120', 'ratelimit-reset': '60' }],
    [408, { 'retry-after': '120' }],
  ])('reads no wait of a %s with %j: ky, told to retry, takes its backoff', async (status, headers) => {
    expect(askedWaitMs(status, new Headers(headers), NOW)).toBeUndefined();

    expect(await kysWait(status, headers, true)).toBe(BACKOFF);
  });
});
