// A launch day through the real chain (issue 22): one container (one chain, invoked sign-up after
// sign-up) against a loopback User Service that cannot take them. What is asserted is what the
// service receives and what is queued, never a time.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/handlers/post-confirmation.js';
import { MetricName } from '../../src/metric-names.js';
import { resetHandlerState, sentMessages } from '../helpers/aws-mocks.js';
import { loadEvent, setEnv } from '../helpers/handler.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { captureOutput } from '../helpers/output.js';
import {
  type Responder,
  reply,
  type ScriptedServer,
  startScriptedServer,
} from '../helpers/scripted-server.js';

/** A sign-up of its own for each invocation: a sub of its own. */
const signUp = (n: number) => {
  const event = loadEvent('post-confirmation-signup');
  const sub = `0000000${n}-7b2d-4e8a-9f61-2d4b8c0e7a13`;
  const attributes = (event.request as { userAttributes: Record<string, string> }).userAttributes;
  attributes.sub = sub;
  event.userName = sub;
  return event;
};

/** Invokes one container's chain on `count` sign-ups in turn: what each sent and how each ended. */
const signUps = async (handler: ReturnType<typeof createHandler>, server: ScriptedServer, count: number) => {
  const outcomes: { requests: number; metrics: MetricName[] }[] = [];
  for (let n = 0; n < count; n++) {
    const event = signUp(n);
    const before = server.requests.length;
    const output = captureOutput();
    try {
      const result = await handler(event, lambdaContext());
      expect(result).toBe(event); // sign-up is never blocked
    } finally {
      output.restore();
    }
    const metrics = [MetricName.UserSynced, MetricName.UserSyncQueued, MetricName.UserSyncDropped].filter(
      (name) => output.metric(name).length > 0,
    );
    outcomes.push({ requests: server.requests.length - before, metrics });
  }
  return outcomes;
};

describe('post-confirmation handler, a User Service that cannot take the sign-ups', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    resetHandlerState();
    setEnv({ SYNC_DEADLINE_MS: '1200', USER_SERVICE_API_KEY: 'launch-day-key' });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const serve = async (...script: Responder[]) => {
    server = await startScriptedServer(script);
    setEnv({ USER_SERVICE_URL: server.url });
    return server;
  };

  it('retries less once its budget is spent, then queues each user at once, without a request, while its breaker is open', async () => {
    const service = await serve(reply(503, { error: 'unavailable' }));
    const handler = createHandler();

    const outcomes = await signUps(handler, service, 5);

    // 3 attempts (the budget pays two retries), then one each, then none: the breaker opened
    // after 5 failed attempts in a row.
    expect(outcomes.map(({ requests }) => requests)).toEqual([3, 1, 1, 0, 0]);
    expect(outcomes.every(({ metrics }) => metrics.join() === MetricName.UserSyncQueued)).toBe(true);
    const messages = sentMessages().map(({ message }) => message);
    expect(messages.map(({ attempts, reason }) => [attempts, reason])).toEqual([
      [3, 'http-503'],
      [1, 'http-503'],
      [1, 'http-503'],
      [0, 'circuit-open'],
      [0, 'circuit-open'],
    ]);
    expect(new Set(messages.map(({ body }) => body.cognitoSub)).size).toBe(5);
  });

  it("takes the service's Retry-After for the whole container: the next sign-ups are queued without a request", async () => {
    // It takes one request, then has no room for two minutes.
    const service = await serve(reply(201), reply(429, { error: 'slow down' }, { 'retry-after': '120' }));
    const handler = createHandler();

    const outcomes = await signUps(handler, service, 4);

    expect(outcomes).toEqual([
      { requests: 1, metrics: [MetricName.UserSynced] },
      { requests: 1, metrics: [MetricName.UserSyncQueued] }, // the wait does not fit: queued
      { requests: 0, metrics: [MetricName.UserSyncQueued] },
      { requests: 0, metrics: [MetricName.UserSyncQueued] },
    ]);
    expect(sentMessages().map(({ message }) => message.reason)).toEqual([
      'http-429',
      'circuit-open',
      'circuit-open',
    ]);
  });

  it("keeps what one container learnt to that container: another one's first sign-up is tried", async () => {
    const service = await serve(reply(503, { error: 'unavailable' }));
    await signUps(createHandler(), service, 4);

    const [fresh] = await signUps(createHandler(), service, 1);

    expect(fresh?.requests).toBe(3);
  });
});
