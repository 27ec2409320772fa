// The fail-open promise made durable: with the User Service down, every sign-up returns in time
// and lands on the real retry queue; when the service is back, the worker drains the queue and
// every user exists exactly once. The users are in a moto pool: the worker checks each with
// Cognito before it creates them.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { MetricName } from '../../src/metric-names.js';
import { invokeHandler, loadEvent } from '../helpers/handler.js';
import { refusedUrl } from '../helpers/scripted-server.js';
import { createPool, createQueues, drain, type Queues, queueDepth, useMoto } from './aws.js';

const SIGN_UPS = 24;
const DEADLINE_MS = 600;

describe('a User Service outage', () => {
  let queues: Queues;
  let service: DevUserService | undefined;
  let userPoolId: string;
  let subs: string[];

  const signUp = (n: number) => {
    const event = loadEvent('post-confirmation-signup');
    const sub = subs[n] ?? '';
    event.userPoolId = userPoolId;
    event.userName = `user${n}`;
    event.request = { userAttributes: { sub, email: `user${n}@example.com`, name: `User ${n}` } };
    return { event, sub };
  };

  beforeAll(async () => {
    useMoto();
    queues = await createQueues();
    ({ userPoolId, subs } = await createPool(
      Array.from({ length: SIGN_UPS }, (_, n) => ({
        username: `user${n}`,
        attributes: { email: `user${n}@example.com`, name: `User ${n}` },
      })),
    ));
    vi.stubEnv('RETRY_QUEUE_URL', queues.retryQueueUrl);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', queues.deadLetterQueueUrl);
    vi.stubEnv('SYNC_DEADLINE_MS', String(DEADLINE_MS));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await service?.close();
  });

  it(`queues all ${SIGN_UPS} sign-ups, each returned in time, then the worker syncs each exactly once`, async () => {
    vi.stubEnv('USER_SERVICE_URL', await refusedUrl());
    for (let n = 0; n < SIGN_UPS; n++) {
      const { event } = signUp(n);
      const { result, elapsedMs, output } = await invokeHandler(event);
      expect(result).toBe(event);
      expect(elapsedMs).toBeLessThan(DEADLINE_MS + 200);
      expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
    }
    expect(await queueDepth(queues.retryQueueUrl)).toEqual({ visible: SIGN_UPS, notVisible: 0, delayed: 0 });

    service = await startDevUserService();
    vi.stubEnv('USER_SERVICE_URL', service.url);
    await drain(queues.retryQueueUrl);

    const subs = Array.from({ length: SIGN_UPS }, (_, n) => signUp(n).sub);
    expect([...service.users.keys()].sort()).toEqual(subs.sort());
    const creates = service.requests.filter((request) => request.method === 'POST' && request.status === 201);
    expect(creates).toHaveLength(SIGN_UPS);
    expect(await queueDepth(queues.retryQueueUrl)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
    expect(await queueDepth(queues.deadLetterQueueUrl)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });
});
