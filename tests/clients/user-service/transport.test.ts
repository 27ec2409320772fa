// askedWaitMs reads the wait an answer asks for as ky reads it to wait: the installed ky, run on the
// same answers, must wait what askedWaitMs says (clamped as ky clamps), so an upgrade of ky that
// reads the headers otherwise fails here rather than send the client waiting when it would not.

import ky from 'ky';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { askedWaitMs } from '../../../src/clients/user-service/transport.js';

const NOW = Date.parse('2026-11-26T10:00:00Z');
/** What ky is told it may wait at most; a wait it cannot read it takes as this. */
const MAX_RETRY_AFTER = 10 * 3600_000;
/** ky's wait when the answer asks for none: its backoff. */
const BACKOFF = 1234;
/** ky never waits longer than setTimeout can (2^31 - 1 ms). */
const MAX_SAFE_TIMEOUT = 2_147_483_647;

/** The wait ky takes before its one retry of a 429 carrying `headers`. */
const kysWait = async (headers: Record<string, string>): Promise<number> => {
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
        calls++ === 0 ? new Response('{}', { status: 429, headers }) : new Response('{}', { status: 200 }),
      timeout: false,
      retry: {
        limit: 1,
        statusCodes: [429],
        afterStatusCodes: [429],
        maxRetryAfter: MAX_RETRY_AFTER,
        delay: () => BACKOFF,
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
    [{ 'retry-after': '1' }, 1000],
    [{ 'retry-after': '120' }, 120_000],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after': 'Thu, 26 Nov 2026 10:00:30 GMT' }, 30_000],
    [{ 'retry-after': 'Thu, 26 Nov 2026 09:59:30 GMT' }, -30_000], // in the past: no wait
    [{ 'ratelimit-reset': '2' }, 2000],
    [{ 'x-ratelimit-retry-after': '3' }, 3000],
    [{ 'x-ratelimit-reset': String(NOW / 1000 + 4) }, 4000], // a Unix time
    [{ 'x-rate-limit-reset': '5' }, 5000],
    [{ 'retry-after': String(NOW / 1000 + 5) }, 5000], // a Unix time, as ky reads it
    [{ 'retry-after': '1', 'ratelimit-reset': '9' }, 1000], // Retry-After first
    [{ 'retry-after': 'Infinity' }, Number.POSITIVE_INFINITY],
    [{ 'retry-after': 'soon' }, Number.NaN], // asked, in a form nobody reads
    [{ 'retry-after': '' }, undefined],
    [{}, undefined],
  ])('reads %j as %s ms, the wait ky takes', async (headers, expected) => {
    const asked = askedWaitMs(new Headers(headers), NOW);

    const waited = await kysWait(headers);

    expect(asked).toBe(expected);
    const kyWould =
      asked === undefined
        ? BACKOFF
        : Number.isNaN(asked)
          ? MAX_RETRY_AFTER
          : Math.min(asked, MAX_RETRY_AFTER, MAX_SAFE_TIMEOUT);
    expect(waited).toBe(kyWould);
  });
});
