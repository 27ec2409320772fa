// Which answers ask the client to wait, through the client against a loopback service: a
// Retry-After on a 429 or a 503 is the service's word, for the call (when it fits) and for the
// container (its guard holds every call that long); the rate-limit reset headers count on a 429
// only. On any other answer they are the window's reset time, sent with every response by many
// gateways, not a wait: the call takes its backoff, and the container is not held.

import { afterEach, describe, expect, it } from 'vitest';
import { createOverloadGuard, createUserServiceClient } from '../../../src/clients/user-service.js';
import { startDeadline } from '../../../src/core/deadline.js';
import { toUserRecord } from '../../../src/domain/user-record.js';
import { reply, type ScriptedServer, startScriptedServer } from '../../helpers/scripted-server.js';

const body = toUserRecord('s-1', { email: 'a@example.com' }, { status: 'ACTIVE', role: 'USER' });
/** A reset time an hour away, as GitHub's X-RateLimit-Reset sends it: a Unix time. */
const anHourAway = () => String(Math.round(Date.now() / 1000) + 3600);

describe('the User Service transport, a wait asked for', () => {
  let server: ScriptedServer | undefined;
  afterEach(() => server?.close());

  /** One call with a container's guard, within 3 s; the answers scripted one by one. */
  const callWithin = async (first: ReturnType<typeof reply>) => {
    server = await startScriptedServer([first, reply(201)]);
    const guard = createOverloadGuard();
    const started = performance.now();
    const result = await createUserServiceClient({
      url: new URL(server.url),
      baseBackoffMs: 1,
      overload: guard,
    }).createUser(body, {
      idempotencyKey: 'k',
      credentials: { apiKey: undefined },
      deadline: startDeadline(3000),
    });
    return { result, guard, elapsedMs: performance.now() - started };
  };

  it.each([
    [
      'a 502 with X-RateLimit-Reset an hour away',
      () => reply(502, {}, { 'x-ratelimit-reset': anHourAway() }),
    ],
    ['a 502 with RateLimit-Reset: 3600', () => reply(502, {}, { 'ratelimit-reset': '3600' })],
    [
      'a 503 with X-RateLimit-Reset an hour away',
      () => reply(503, {}, { 'x-ratelimit-reset': anHourAway() }),
    ],
    ['a 500 with Retry-After: 120', () => reply(500, {}, { 'retry-after': '120' })],
  ])('%s asks no wait: retried after its backoff, the container not held', async (_, answer) => {
    const { result, guard, elapsedMs } = await callWithin(answer());

    expect(result).toMatchObject({ outcome: 'created', attempts: 2 });
    expect(elapsedMs).toBeLessThan(1000);
    expect(guard.breaker.openForMs()).toBe(0);
    expect(guard.breaker.state()).toBe('closed');
  });

  it.each([
    ['a 503 with Retry-After: 120', () => reply(503, {}, { 'retry-after': '120' })],
    ['a 429 with Retry-After: 120', () => reply(429, {}, { 'retry-after': '120' })],
    ['a 429 with RateLimit-Reset: 120', () => reply(429, {}, { 'ratelimit-reset': '120' })],
    [
      'a 429 with X-RateLimit-Reset two minutes away',
      () => reply(429, {}, { 'x-ratelimit-reset': String(Math.round(Date.now() / 1000) + 120) }),
    ],
  ])(
    "%s is the service's word: not waited past the deadline, the container held that long",
    async (_, answer) => {
      const { result, guard, elapsedMs } = await callWithin(answer());

      expect(result).toMatchObject({ failure: 'transient', attempts: 1 });
      expect(elapsedMs).toBeLessThan(1000);
      expect(guard.breaker.openForMs()).toBeGreaterThan(110_000);
    },
  );

  it('a 503 with a Retry-After that fits is waited, then the call tried again', async () => {
    const { result, elapsedMs } = await callWithin(reply(503, {}, { 'retry-after': '1' }));

    expect(result).toMatchObject({ outcome: 'created', attempts: 2 });
    expect(elapsedMs).toBeGreaterThanOrEqual(950);
  });
});
