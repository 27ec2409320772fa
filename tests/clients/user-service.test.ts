import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CIRCUIT_BREAKER,
  createOverloadGuard,
  createUserServiceClient,
  MAX_DETAIL_BYTES,
  type OverloadGuard,
  USER_AGENT,
} from '../../src/clients/user-service.js';
import { startDeadline } from '../../src/core/deadline.js';
import { ListedUserSchema, type UserPatch } from '../../src/domain/contract.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { verifyUserSyncRequest } from '../../src/verify.js';
import { VERSION } from '../../src/version.js';
import { parseSigningSecret } from '../../src/webhooks/signature.js';
import {
  type ReceivedRequest,
  type Responder,
  reply,
  type ScriptedServer,
  startScriptedServer,
} from '../helpers/scripted-server.js';

const body = toUserRecord('s-1', { email: 'a@example.com' }, { status: 'ACTIVE', role: 'USER' });

describe('createUserServiceClient', () => {
  let server: ScriptedServer | undefined;
  afterEach(() => server?.close());

  it('sends the contract headers and the body as JSON', async () => {
    server = await startScriptedServer([reply(201)]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000 });

    const result = await client.createUser(body, {
      idempotencyKey: 'key-1',
      credentials: { apiKey: 'k-1' },
      deadline: startDeadline(2000),
    });

    expect(result).toMatchObject({ outcome: 'created', httpStatus: 201, attempts: 1 });
    const [request] = server.requests;
    expect(request?.json).toEqual(body);
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'key-1',
      'x-api-key': 'k-1',
      'user-agent': USER_AGENT,
    });
    expect(USER_AGENT).toBe(`cognito-user-sync/${VERSION}`);
  });

  it('sends no x-api-key when there is no key', async () => {
    server = await startScriptedServer([reply(201)]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000 });

    await client.createUser(body, {
      idempotencyKey: 'k',
      credentials: { apiKey: undefined },
      deadline: startDeadline(2000),
    });

    expect(server.requests[0]?.headers['x-api-key']).toBeUndefined();
  });

  it('signs every attempt: the same webhook-id, a fresh timestamp, one signature per key', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-26T10:00:00Z') });
    server = await startScriptedServer([
      (request, response, n) => {
        vi.setSystemTime(Date.now() + 3000); // the retry goes three seconds later
        reply(503)(request, response, n);
      },
      reply(201),
    ]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000, baseBackoffMs: 1 });
    const secrets = [
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'whsec_cHJldmlvdXMta2V5LW9mLWEtcm90YXRpb24tMjAyNg==',
    ];

    try {
      await client.createUser(body, {
        idempotencyKey: 'f3c1e2d4-0000-5000-8000-000000000001',
        credentials: { apiKey: undefined, signingKeys: parseSigningSecret(secrets.join(' ')) },
        deadline: startDeadline(10_000),
      });
    } finally {
      vi.useRealTimers();
    }

    const [first, second] = server.requests;
    expect(first?.headers['webhook-id']).toBe('msg_f3c1e2d4-0000-5000-8000-000000000001');
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(Number(second?.headers['webhook-timestamp']) - Number(first?.headers['webhook-timestamp'])).toBe(
      3,
    );
    for (const request of [first, second]) {
      expect(String(request?.headers['webhook-signature']).split(' ')).toHaveLength(2);
      for (const secret of secrets) {
        expect(
          verifyUserSyncRequest({
            headers: request?.headers ?? {},
            body: request?.body ?? '',
            secrets: secret,
            now: Number(request?.headers['webhook-timestamp']) * 1000,
          }),
        ).toMatchObject({ ok: true });
      }
    }
  });

  it('sends the same bytes, with their Content-Length, on every attempt: after a 503 and after a timeout', async () => {
    server = await startScriptedServer([reply(503), () => undefined, reply(201)]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 500, baseBackoffMs: 1 });
    const accented = toUserRecord(
      's-2',
      { email: 'zoë@example.com', name: 'Zoë Ørsted' },
      {
        status: 'ACTIVE',
        role: 'USER',
      },
    );

    const result = await client.createUser(accented, {
      idempotencyKey: 'k',
      credentials: { apiKey: undefined },
      deadline: startDeadline(5000),
    });

    expect(result).toMatchObject({ outcome: 'created', attempts: 3 });
    const sent = JSON.stringify(accented);
    expect(server.requests).toHaveLength(3);
    for (const request of server.requests) {
      expect(request.method).toBe('POST');
      expect(request.body).toBe(sent);
      expect(request.headers['content-length']).toBe(String(Buffer.byteLength(sent)));
      expect(request.headers['transfer-encoding']).toBeUndefined();
      expect(request.headers['content-type']).toBe('application/json');
    }
  });

  it('sends a GET without a body', async () => {
    server = await startScriptedServer([reply(200, { users: [], nextCursor: null })]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000 });

    const result = await client.listUsers({
      limit: 10,
      credentials: { apiKey: undefined },
      deadline: startDeadline(2000),
    });

    expect(result.page).toEqual({ users: [], nextCursor: null });
    const [request] = server.requests;
    expect(request?.method).toBe('GET');
    expect(request?.body).toBe('');
    expect(request?.headers['content-length']).toBeUndefined();
    expect(request?.headers['transfer-encoding']).toBeUndefined();
  });

  describe('listUsers and a page', () => {
    const list = async (answer: Responder) => {
      server = await startScriptedServer([answer]);
      const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000, baseBackoffMs: 1 });
      return client.listUsers({
        limit: 10,
        credentials: { apiKey: undefined },
        deadline: startDeadline(2000),
      });
    };

    it('reads a user whose nulls are left out and who shows keys the list does not have', async () => {
      const result = await list(
        reply(200, { users: [{ cognitoSub: 's-1', status: 'ACTIVE', role: 'USER' }] }),
      );

      // Every field of a listed user but these two may be null.
      const nulls = Object.keys(ListedUserSchema.entries).filter(
        (key) => key !== 'cognitoSub' && key !== 'status',
      );
      expect(nulls).toEqual(expect.arrayContaining(['email', 'fullName', 'cognitoLastModified']));
      expect(result.page).toEqual({
        users: [
          { ...Object.fromEntries(nulls.map((key) => [key, null])), cognitoSub: 's-1', status: 'ACTIVE' },
        ],
        nextCursor: null,
      });
    });

    it.each([
      ['a user without a cognitoSub', { users: [{ status: 'ACTIVE' }], nextCursor: null }],
      ['a user whose status is null', { users: [{ cognitoSub: 's-1', status: null }], nextCursor: null }],
      [
        'an email that is a number',
        { users: [{ cognitoSub: 's-1', status: 'A', email: 7 }], nextCursor: null },
      ],
      ['no users', { nextCursor: null }],
      ['a cursor that is a number', { users: [], nextCursor: 2 }],
      ['an array', [{ users: [] }]],
    ])('is no page with %s: transient, tried again later', async (_, body) => {
      const result = await list(reply(200, body));

      expect(result).toMatchObject({ failure: 'transient', reason: 'http-200-unexpected' });
      expect(result.page).toBeUndefined();
    });
  });

  it('lets go of the deadline once a call is done: its signal never aborts later', async () => {
    server = await startScriptedServer([reply(201), reply(422, { error: 'invalid' })]);
    const client = createUserServiceClient({ url: new URL(server.url) });
    const clock = startDeadline(400);
    const signals: AbortSignal[] = [];
    const deadline: typeof clock = {
      ...clock,
      withSignal: (what, work, reserveMs) =>
        clock.withSignal(
          what,
          (signal) => {
            signals.push(signal);
            return work(signal);
          },
          reserveMs,
        ),
    };
    const options = { idempotencyKey: 'k', credentials: { apiKey: undefined }, deadline };

    expect(await client.createUser(body, options)).toMatchObject({ outcome: 'created' });
    expect(await client.createUser(body, options)).toMatchObject({ failure: 'rejected' });
    await new Promise((resolve) => setTimeout(resolve, 500)); // past the deadline

    expect(signals.map((signal) => signal.aborted)).toEqual([false, false]);
  });

  /** Answers with the start of a body that never ends; says when the connection closes. */
  const neverEndingBody = (status: number) => {
    let closed: () => void = () => undefined;
    const closes = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const responder: Responder = (_request, response) => {
      response.socket?.on('close', closed);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.write('{"cognitoSub":');
    };
    const closedWithin = (ms: number) =>
      Promise.race([closes.then(() => true), new Promise((resolve) => setTimeout(resolve, ms, false))]);
    return { responder, closedWithin };
  };

  it('lets go of the body of an answer it does not read: an unexpected 2xx', async () => {
    const answer = neverEndingBody(202);
    server = await startScriptedServer([answer.responder]);
    const client = createUserServiceClient({ url: new URL(server.url) });

    const result = await client.createUser(body, {
      idempotencyKey: 'k',
      credentials: { apiKey: undefined },
      deadline: startDeadline(10_000),
    });

    expect(result).toMatchObject({ failure: 'transient', reason: 'http-202-unexpected' });
    expect(await answer.closedWithin(1000)).toBe(true);
  });

  it('lets go of the body of an answer it does not read: an error it retries', async () => {
    const answer = neverEndingBody(503);
    server = await startScriptedServer([answer.responder, reply(201)]);
    const client = createUserServiceClient({ url: new URL(server.url), baseBackoffMs: 1 });

    const result = await client.createUser(body, {
      idempotencyKey: 'k',
      credentials: { apiKey: undefined },
      deadline: startDeadline(10_000),
    });

    expect(result).toMatchObject({ outcome: 'created', attempts: 2 });
    expect(await answer.closedWithin(1000)).toBe(true);
  });

  it('after a 401, retries once with the refreshed credentials: their key, their signing keys', async () => {
    server = await startScriptedServer([reply(401), reply(201)]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000, baseBackoffMs: 1 });
    const [oldSecret, newSecret] = [
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'whsec_cHJldmlvdXMta2V5LW9mLWEtcm90YXRpb24tMjAyNg==',
    ];
    const refresh = vi.fn(async () => ({ apiKey: 'k-2', signingKeys: parseSigningSecret(newSecret) }));

    const result = await client.createUser(body, {
      idempotencyKey: 'k',
      credentials: { apiKey: 'k-1', signingKeys: parseSigningSecret(oldSecret), refresh },
      deadline: startDeadline(5000),
    });

    expect(result).toMatchObject({ outcome: 'created', attempts: 2 });
    expect(refresh).toHaveBeenCalledTimes(1);
    const verified = (request: ReceivedRequest | undefined, secrets: string) =>
      verifyUserSyncRequest({
        headers: request?.headers ?? {},
        body: request?.body ?? '',
        secrets,
        now: Number(request?.headers['webhook-timestamp']) * 1000,
      }).ok;
    const [first, second] = server.requests;
    expect(first?.headers['x-api-key']).toBe('k-1');
    expect(second?.headers['x-api-key']).toBe('k-2');
    expect([verified(first, oldSecret), verified(first, newSecret)]).toEqual([true, false]);
    expect([verified(second, oldSecret), verified(second, newSecret)]).toEqual([false, true]);
  });

  it('after a 401, a refresh that brings no key and no signing keys retries without either', async () => {
    server = await startScriptedServer([reply(401), reply(201)]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000, baseBackoffMs: 1 });

    await client.createUser(body, {
      idempotencyKey: 'k',
      credentials: {
        apiKey: 'k-1',
        signingKeys: parseSigningSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),
        refresh: async () => ({ apiKey: undefined }),
      },
      deadline: startDeadline(5000),
    });

    expect(server.requests.map((request) => request.headers['x-api-key'])).toEqual(['k-1', undefined]);
    expect(server.requests.map((request) => request.headers['webhook-signature'] !== undefined)).toEqual([
      true,
      false,
    ]);
  });

  it('keeps no credential of an error answer that echoes them, the refreshed key included', async () => {
    const echo: Responder = (request, response) => {
      response.writeHead(422, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'invalid', headers: request.headers }));
    };
    server = await startScriptedServer([reply(401), echo]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000, baseBackoffMs: 1 });
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    const result = await client.createUser(body, {
      idempotencyKey: 'k',
      credentials: {
        apiKey: 'first-key-0123456789',
        refresh: async () => ({ apiKey: 'second-key-0123456789', signingKeys: parseSigningSecret(secret) }),
      },
      deadline: startDeadline(5000),
    });

    expect(result).toMatchObject({ failure: 'rejected', reason: 'http-422' });
    const signature = String(server.requests[1]?.headers['webhook-signature']);
    expect(result.detail).toContain('[redacted]');
    expect(result.detail).not.toContain('second-key-0123456789');
    expect(result.detail).not.toContain(signature.slice(signature.indexOf(',') + 1));
  });

  describe('patchUser and a 412', () => {
    const patch: UserPatch = {
      email: 'a@example.com',
      fullName: null,
      status: 'DISABLED',
      updatedBy: 's-1',
      cognitoLastModified: '2026-11-26T10:00:00.000Z',
    };
    const patchWith = (script: Responder[]) => async () => {
      server = await startScriptedServer(script);
      const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000, baseBackoffMs: 1 });
      return client.patchUser('s-1', patch, {
        idempotencyKey: 'k',
        credentials: { apiKey: 'patch-key-0123456789' },
        deadline: startDeadline(2000),
      });
    };

    it("is stale with the contract's body: a newer state is stored", async () => {
      const result = await patchWith([
        reply(412, { error: 'stale_write', cognitoLastModified: '2026-11-26T11:00:00.000Z' }),
      ])();

      expect(result).toMatchObject({ outcome: 'stale', httpStatus: 412, attempts: 1 });
      expect(result.failure).toBeUndefined();
    });

    it.each([
      ['a bare 412', reply(412, ''), ''],
      ['a JSON 412 with another error', reply(412, { error: 'precondition_failed' }), 'precondition_failed'],
      ['the JSON string "stale_write"', reply(412, '"stale_write"'), 'stale_write'],
      [
        "a gateway's HTML page",
        reply(412, '<html><body>412 Precondition Failed</body></html>', { 'content-type': 'text/html' }),
        'Precondition Failed',
      ],
    ])('is a refusal (rejected, http-412) for %s, sent once', async (_, responder, detail) => {
      const result = await patchWith([responder, reply(200, { cognitoSub: 's-1' })])();

      expect(result).toMatchObject({ failure: 'rejected', reason: 'http-412', httpStatus: 412, attempts: 1 });
      expect(result.outcome).toBeUndefined();
      if (detail) expect(result.detail).toContain(detail);
      else expect(result.detail).toBeUndefined();
      expect(server?.requests).toHaveLength(1);
    });

    it('keeps no credential of a 412 that echoes them', async () => {
      const echo: Responder = (request, response) => {
        response.writeHead(412, { 'content-type': 'text/plain' });
        response.end(`precondition failed for key ${String(request.headers['x-api-key'])}`);
      };

      const result = await patchWith([echo])();

      expect(result).toMatchObject({ failure: 'rejected', reason: 'http-412' });
      expect(result.detail).toContain('[redacted]');
      expect(result.detail).not.toContain('patch-key-0123456789');
    });
  });

  it('reads no more than MAX_DETAIL_BYTES of an error body', async () => {
    const huge = createServer((request, response) => {
      request.resume();
      response.writeHead(422, { 'content-type': 'text/plain' });
      response.end('x'.repeat(4 * 1024 * 1024));
    });
    await new Promise<void>((resolve) => huge.listen(0, '127.0.0.1', resolve));
    const { port } = huge.address() as AddressInfo;
    try {
      const client = createUserServiceClient({ url: new URL(`http://127.0.0.1:${port}/u`), timeoutMs: 1000 });

      const result = await client.createUser(body, {
        idempotencyKey: 'k',
        credentials: { apiKey: undefined },
        deadline: startDeadline(2000),
      });

      expect(result.failure).toBe('rejected');
      expect(result.detail).toHaveLength(MAX_DETAIL_BYTES);
    } finally {
      huge.closeAllConnections();
      huge.close();
    }
  });

  describe('a wait the User Service asks for', () => {
    const createWithin = async (script: Responder[], budgetMs: number) => {
      server = await startScriptedServer(script);
      const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000, baseBackoffMs: 1 });
      const started = performance.now();
      const result = await client.createUser(body, {
        idempotencyKey: 'k',
        credentials: { apiKey: undefined },
        deadline: startDeadline(budgetMs),
      });
      return { result, elapsedMs: performance.now() - started };
    };

    it('is waited when it fits the budget, then the call is tried again', async () => {
      const { result, elapsedMs } = await createWithin(
        [reply(429, { error: 'slow down' }, { 'retry-after': '1' }), reply(201)],
        2500,
      );

      expect(result).toMatchObject({ outcome: 'created', attempts: 2 });
      expect(elapsedMs).toBeGreaterThanOrEqual(950);
    });

    it.each([
      ['Retry-After: 120', { 'retry-after': '120' }],
      ['Retry-After: Infinity', { 'retry-after': 'Infinity' }],
      ['an HTTP date an hour away', { 'retry-after': new Date(Date.now() + 3600_000).toUTCString() }],
      ['RateLimit-Reset: 120', { 'ratelimit-reset': '120' }],
      [
        'X-RateLimit-Reset: a Unix time a minute away',
        { 'x-ratelimit-reset': String(Date.now() / 1000 + 60) },
      ],
    ])('is not started when it does not fit (%s): the answer is the result, at once', async (_, headers) => {
      const { result, elapsedMs } = await createWithin(
        [reply(429, { error: 'slow down' }, headers), reply(201)],
        2000,
      );

      expect(result).toMatchObject({ failure: 'transient', reason: 'http-429', attempts: 1 });
      expect(elapsedMs).toBeLessThan(500);
    });

    it('in a form nobody reads is not taken for the whole budget: the backoff instead', async () => {
      const { result, elapsedMs } = await createWithin(
        [reply(503, { error: 'busy' }, { 'retry-after': 'soon' }), reply(201)],
        3000,
      );

      expect(result).toMatchObject({ outcome: 'created', attempts: 2 });
      expect(elapsedMs).toBeLessThan(1000);
    });
  });

  it('gives up at the deadline less the reserve', async () => {
    server = await startScriptedServer([() => undefined]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 5000 });
    const started = performance.now();

    const result = await client.createUser(body, {
      idempotencyKey: 'k',
      credentials: { apiKey: undefined },
      deadline: startDeadline(600),
      reserveMs: 200,
    });

    expect(result).toMatchObject({ failure: 'transient', reason: 'deadline' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(performance.now() - started).toBeLessThan(550);
  });
});

describe("createUserServiceClient with a container's overload guard", () => {
  let server: ScriptedServer | undefined;
  afterEach(() => server?.close());

  /** A client of `server` as a container makes one per invocation, all with the container's one guard. */
  const callsWith = (guard: OverloadGuard) => async () =>
    createUserServiceClient({
      url: new URL(server?.url ?? ''),
      baseBackoffMs: 1,
      overload: guard,
    }).createUser(body, {
      idempotencyKey: 'k',
      credentials: { apiKey: undefined },
      deadline: startDeadline(2000),
    });

  it('retries no more once the budget is spent, then tries nothing once the breaker opens', async () => {
    server = await startScriptedServer([reply(503, { error: 'down' })]);
    const call = callsWith(createOverloadGuard());

    const results = [await call(), await call(), await call(), await call()];

    expect(results.map((result) => result.attempts)).toEqual([3, 1, 1, 0]);
    expect(results.map((result) => result.reason)).toEqual([
      'http-503',
      'http-503',
      'http-503',
      'circuit-open',
    ]);
    expect(server.requests).toHaveLength(CIRCUIT_BREAKER.failureThreshold);
  });

  it('half-opens after the cool-down: one call probes, and its answer closes the breaker', async () => {
    let now = 1_000_000;
    const guard = createOverloadGuard({}, () => now);
    server = await startScriptedServer([
      ...Array(CIRCUIT_BREAKER.failureThreshold).fill(reply(503)),
      reply(201),
    ]);
    const call = callsWith(guard);
    while (guard.breaker.state() === 'closed') await call();
    expect(await call()).toMatchObject({ reason: 'circuit-open', attempts: 0 });

    now += CIRCUIT_BREAKER.openMs;
    const probe = await call();
    const next = await call();

    expect(probe).toMatchObject({ outcome: 'created', attempts: 1 });
    expect(next).toMatchObject({ outcome: 'created', attempts: 1 });
    expect(guard.breaker.state()).toBe('closed');
  });

  it("honours a Retry-After that does not fit the call on the container's next calls: they are not tried", async () => {
    server = await startScriptedServer([
      reply(429, { error: 'slow down' }, { 'retry-after': '120' }),
      reply(201),
    ]);
    const guard = createOverloadGuard();
    const call = callsWith(guard);

    const told = await call();
    const next = await call();

    expect(told).toMatchObject({ failure: 'transient', reason: 'http-429', attempts: 1 });
    expect(next).toMatchObject({ failure: 'transient', reason: 'circuit-open', attempts: 0 });
    expect(server.requests).toHaveLength(1);
    expect(guard.breaker.openForMs()).toBeGreaterThan(110_000);
  });

  it('retries no 429 without a Retry-After: the container pauses as for Retry-After: 1', async () => {
    server = await startScriptedServer([reply(429, { error: 'slow down' }), reply(201)]);
    const call = callsWith(createOverloadGuard());

    const throttled = await call();
    const next = await call();

    expect(throttled).toMatchObject({ failure: 'transient', reason: 'http-429', attempts: 1 });
    expect(next).toMatchObject({ reason: 'circuit-open', attempts: 0 });
    expect(server.requests).toHaveLength(1);
  });

  it('spends nothing on an answer that is not retried, and earns a token back for it', async () => {
    server = await startScriptedServer([reply(422, { error: 'invalid' })]);
    const guard = createOverloadGuard();
    guard.budget.spend('failure');
    const call = callsWith(guard);

    const result = await call();

    expect(result).toMatchObject({ failure: 'rejected', reason: 'http-422', attempts: 1 });
    expect(guard.budget.tokens).toBe(6);
    expect(guard.breaker.state()).toBe('closed');
  });
});
