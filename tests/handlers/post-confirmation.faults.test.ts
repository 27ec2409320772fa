// The fault matrix: every way the User Service can answer (or not), over a real loopback HTTP
// server, through the real middy chain. Whatever happens, Cognito gets its event back within
// the deadline, the right outcome metric is emitted, and a user that was not synced is queued
// exactly once with the exact body that was (or would have been) sent.

import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { MetricName } from '../../src/metric-names.js';
import { RETRY_QUEUE_URL, resetHandlerState, secretsMock, sentMessages } from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';
import {
  after,
  type ReceivedRequest,
  type Responder,
  refusedUrl,
  reply,
  reset,
  type ScriptedServer,
  silence,
  startScriptedServer,
} from '../helpers/scripted-server.js';

const DEADLINE_MS = 1200;
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';

/** Where the 302 case points: a second server that must never be called. */
let redirectTarget: ScriptedServer | undefined;

interface FaultCase {
  name: string;
  script: Responder[];
  metric: MetricName;
  /** Overrides for this case: a longer deadline, a secret id… */
  env?: Record<string, string>;
  setup?: () => void;
  /** Extra checks on what the server received. */
  check?: (requests: ReceivedRequest[], elapsedMs: number) => void;
  /** Queued with this reason (a non-success case). */
  reason?: string | RegExp;
}

const refetchedKey: Responder = (request, response, n) => {
  const status = request.headers['x-api-key'] === 'rotated-key' ? 201 : 401;
  reply(status, status === 201 ? { ok: true } : { error: 'unauthorized' })(request, response, n);
};

const cases: FaultCase[] = [
  { name: '201 Created', script: [reply(201, { id: 'u-1' })], metric: MetricName.UserSynced },
  { name: '200 OK', script: [reply(200, { id: 'u-1' })], metric: MetricName.UserSynced },
  {
    name: '409 naming this cognitoSub',
    script: [reply(409, { error: 'already_exists', cognitoSub: SUB })],
    metric: MetricName.UserAlreadyExists,
  },
  {
    name: '409 for another field (an email clash)',
    script: [reply(409, { error: 'conflict', field: 'email' })],
    metric: MetricName.UserSyncQueued,
    reason: 'http-409',
    check: (requests) => expect(requests).toHaveLength(1),
  },
  {
    name: '400 Bad Request',
    script: [reply(400, { error: 'bad request' })],
    metric: MetricName.UserSyncQueued,
    reason: 'http-400',
    check: (requests) => expect(requests).toHaveLength(1),
  },
  {
    name: '422 Unprocessable Entity',
    script: [reply(422, { error: 'email invalid' })],
    metric: MetricName.UserSyncQueued,
    reason: 'http-422',
    check: (requests) => expect(requests).toHaveLength(1),
  },
  {
    name: '404 Not Found',
    script: [reply(404, { error: 'no route' })],
    metric: MetricName.UserSyncQueued,
    reason: 'http-404',
    check: (requests) => expect(requests).toHaveLength(1),
  },
  {
    name: '401 then 201 after the secret is fetched again',
    env: { USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key' },
    setup: () => {
      secretsMock
        .on(GetSecretValueCommand)
        .resolvesOnce({ SecretString: 'old-key' })
        .resolves({ SecretString: 'rotated-key' });
    },
    script: [refetchedKey],
    metric: MetricName.UserSynced,
    check: (requests) => {
      expect(requests.map((request) => request.headers['x-api-key'])).toEqual(['old-key', 'rotated-key']);
      expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    },
  },
  {
    name: '403 Forbidden, still after the secret is fetched again',
    env: { USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key' },
    setup: () => {
      secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"apiKey":"same-key"}' });
    },
    script: [reply(403, { error: 'forbidden' })],
    metric: MetricName.UserSyncQueued,
    reason: 'http-403',
    check: (requests) => {
      expect(requests).toHaveLength(2); // once, then once more with the refetched key
      expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    },
  },
  {
    name: '429 with Retry-After: 1, then 201',
    env: { SYNC_DEADLINE_MS: '2500' },
    script: [reply(429, { error: 'slow down' }, { 'retry-after': '1' }), reply(201)],
    metric: MetricName.UserSynced,
    check: (requests, elapsedMs) => {
      expect(requests).toHaveLength(2);
      expect(elapsedMs).toBeGreaterThanOrEqual(950); // it waited as asked
    },
  },
  {
    name: '429 with Retry-After: 120',
    script: [reply(429, { error: 'slow down' }, { 'retry-after': '120' })],
    metric: MetricName.UserSyncQueued,
    reason: 'http-429',
    check: (requests, elapsedMs) => {
      expect(requests).toHaveLength(1); // a wait that does not fit the budget is not started
      expect(elapsedMs).toBeLessThan(500);
    },
  },
  ...[500, 502, 503, 504].map(
    (status): FaultCase => ({
      name: `${status} on every attempt`,
      script: [reply(status, { error: 'upstream' })],
      metric: MetricName.UserSyncQueued,
      reason: `http-${status}`,
      check: (requests) => expect(requests.length).toBeGreaterThan(1), // retried with backoff
    }),
  ),
  {
    name: 'a server that never answers',
    script: [silence],
    metric: MetricName.UserSyncQueued,
    reason: /^(deadline|timeout)$/,
  },
  {
    name: 'a server that answers after 2 s',
    script: [after(2000, reply(201))],
    metric: MetricName.UserSyncQueued,
    reason: /^(deadline|timeout)$/,
  },
  {
    name: 'connection refused',
    script: [],
    metric: MetricName.UserSyncQueued,
    reason: 'network-ECONNREFUSED',
  },
  {
    name: 'connection reset',
    script: [reset],
    metric: MetricName.UserSyncQueued,
    reason: /^network/,
    check: (requests) => expect(requests.length).toBeGreaterThan(1),
  },
  {
    name: 'a 302 redirect (never followed)',
    script: [
      (request, response, n) => reply(302, '', { location: redirectTarget?.url ?? '' })(request, response, n),
    ],
    metric: MetricName.UserSyncQueued,
    reason: 'redirect-302',
    check: (requests) => expect(requests).toHaveLength(1),
  },
  {
    // Not the contract's "created": a proxy, a misrouted path. Queued, for the worker to try again.
    name: '201 with a malformed body',
    script: [reply(201, '{"id": "u-1", oops')],
    metric: MetricName.UserSyncQueued,
    reason: 'http-201-unexpected',
    check: (requests) => expect(requests).toHaveLength(1),
  },
];

describe('post-confirmation handler, fault matrix', () => {
  let server: ScriptedServer | undefined;

  beforeEach(async () => {
    resetHandlerState();
    setEnv({ SYNC_DEADLINE_MS: String(DEADLINE_MS) });
    redirectTarget = await startScriptedServer([reply(201)]);
  });

  afterEach(async () => {
    await server?.close();
    await redirectTarget?.close();
    server = undefined;
  });

  it.each(cases)('$name: returns the event in time, emits $metric', async (fault) => {
    // Prepare
    if (fault.script.length > 0) {
      server = await startScriptedServer(fault.script);
      setEnv({ USER_SERVICE_URL: server.url });
    } else {
      setEnv({ USER_SERVICE_URL: await refusedUrl() });
    }
    setEnv(fault.env ?? {});
    fault.setup?.();
    const event = loadEvent('post-confirmation-signup');
    const original = structuredClone(event);
    const deadlineMs = Number(fault.env?.SYNC_DEADLINE_MS ?? DEADLINE_MS);

    // Act
    const { result, elapsedMs, output } = await invokeHandler(event);

    // Assess
    expect(result).toBe(event);
    expect(result).toEqual(original);
    expect(elapsedMs).toBeLessThan(deadlineMs + 200);
    expect(output.metric(fault.metric)).toEqual([1]);

    const requests = server?.requests ?? [];
    // One key for one user, on every attempt and in the queue message.
    const key = idempotencyKey('eu-west-1_Qx7Lm2Rt9', SUB);
    for (const request of requests) expect(request.headers['idempotency-key']).toBe(key);
    const messages = sentMessages();
    if (fault.reason === undefined) {
      expect(messages).toEqual([]);
    } else {
      expect(messages).toHaveLength(1);
      const [{ queueUrl, message }] = messages as [(typeof messages)[number]];
      expect(queueUrl).toBe(RETRY_QUEUE_URL);
      if (requests[0]) {
        // Byte for byte what went over the wire.
        expect(JSON.stringify(message.body)).toBe(requests[0].body);
        expect(message.attempts).toBe(requests.length);
      } else {
        const { userAttributes } = event.request as { userAttributes: Record<string, string> };
        expect(message.body).toEqual(toUserRecord(SUB, userAttributes, { status: 'ACTIVE', role: 'USER' }));
        expect(message.attempts).toBeGreaterThan(0);
      }
      expect(message).toMatchObject({
        idempotencyKey: key,
        userPoolId: 'eu-west-1_Qx7Lm2Rt9',
        triggerSource: 'PostConfirmation_ConfirmSignUp',
        reason: fault.reason instanceof RegExp ? expect.stringMatching(fault.reason) : fault.reason,
        firstFailedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    }
    expect(redirectTarget?.requests).toEqual([]);
    fault.check?.(requests, elapsedMs);
  });
});
