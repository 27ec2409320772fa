// Our own deadline against the container's breaker, through the client and a loopback service: a
// call with too little time left is not sent at all, and an attempt our deadline cuts short says
// nothing of the service, so it never opens the breaker. A service that leaves an attempt without
// an answer for longer than a second is another matter: that is the service, and it counts.

import { afterEach, describe, expect, it } from 'vitest';
import {
  CIRCUIT_BREAKER,
  createOverloadGuard,
  createUserServiceClient,
  type OverloadGuard,
} from '../../../src/clients/user-service.js';
import { startDeadline } from '../../../src/core/deadline.js';
import { toUserRecord } from '../../../src/domain/user-record.js';
import {
  after,
  reply,
  type ScriptedServer,
  silence,
  startScriptedServer,
} from '../../helpers/scripted-server.js';

const body = toUserRecord('s-1', { email: 'a@example.com' }, { status: 'ACTIVE', role: 'USER' });
/** A healthy service, answering every call in `ms`. */
const answersIn = (ms: number) => after(ms, reply(201));

describe('the User Service transport, our own deadline', () => {
  let server: ScriptedServer | undefined;
  afterEach(() => server?.close());

  /** A call of the container's client within `budgetMs`. */
  const callWithin = (guard: OverloadGuard, budgetMs: number) =>
    createUserServiceClient({
      url: new URL(server?.url ?? ''),
      baseBackoffMs: 1,
      overload: guard,
    }).createUser(body, {
      idempotencyKey: 'k',
      credentials: { apiKey: undefined },
      deadline: startDeadline(budgetMs),
    });

  it('sends nothing with less time left than an attempt needs: a deadline, the breaker untouched', async () => {
    server = await startScriptedServer([answersIn(50)]);
    const guard = createOverloadGuard();

    const results = [];
    for (let call = 0; call < CIRCUIT_BREAKER.failureThreshold; call++)
      results.push(await callWithin(guard, 3));
    const next = await callWithin(guard, 2000);

    expect(results.map(({ reason, attempts }) => [reason, attempts])).toEqual(
      Array(CIRCUIT_BREAKER.failureThreshold).fill(['deadline', 0]),
    );
    expect(guard.breaker.state()).toBe('closed');
    expect(next).toMatchObject({ outcome: 'created', attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('does not count an attempt our deadline cut short against the service', async () => {
    // Healthy, answering in 400 ms; each call has 150 ms (what a slow lookup before it left).
    server = await startScriptedServer([answersIn(400)]);
    const guard = createOverloadGuard();

    const results = [];
    for (let call = 0; call < CIRCUIT_BREAKER.failureThreshold; call++)
      results.push(await callWithin(guard, 150));

    expect(results.map(({ reason }) => reason)).toEqual(
      Array(CIRCUIT_BREAKER.failureThreshold).fill('deadline'),
    );
    expect(server.requests).toHaveLength(CIRCUIT_BREAKER.failureThreshold);
    expect(guard.breaker.state()).toBe('closed');
    expect(await callWithin(guard, 2000)).toMatchObject({ outcome: 'created' });
  });

  it('leaves a half-open probe cut by our deadline to the next call, which probes', async () => {
    let now = 1_000_000;
    const guard = createOverloadGuard({}, () => now);
    for (let failure = 0; failure < CIRCUIT_BREAKER.failureThreshold; failure++) guard.breaker.failed();
    now += CIRCUIT_BREAKER.openMs;
    server = await startScriptedServer([answersIn(400), reply(201)]);

    const cut = await callWithin(guard, 150);
    const probe = await callWithin(guard, 2000);

    expect(cut).toMatchObject({ reason: 'deadline', attempts: 1 });
    expect(probe).toMatchObject({ outcome: 'created', attempts: 1 });
    expect(guard.breaker.state()).toBe('closed');
  });

  it.each([
    ['a second', 1200],
    ['the 400 ms a sign-up at SYNC_DEADLINE_MS 500 has', 400],
  ])('counts a service that leaves attempts unanswered for %s: the breaker opens', async (_, budgetMs) => {
    server = await startScriptedServer([silence]);
    const guard = createOverloadGuard();

    const results = await Promise.all(
      Array.from({ length: CIRCUIT_BREAKER.failureThreshold }, () => callWithin(guard, budgetMs)),
    );

    expect(results.map(({ reason }) => reason)).toEqual(
      Array(CIRCUIT_BREAKER.failureThreshold).fill('deadline'),
    );
    expect(guard.breaker.state()).toBe('open');
    expect(await callWithin(guard, 2000)).toMatchObject({ reason: 'circuit-open', attempts: 0 });
  });
});
