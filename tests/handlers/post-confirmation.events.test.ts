// Each sample event in events/ through the real chain, against the dev User Service: the right
// POST, or none.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { MetricName } from '../../src/metric-names.js';
import { resetHandlerState, sentMessages } from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';

const synced = (sub: string, email: string | null, fullName: string | null) => ({
  cognitoSub: sub,
  email,
  fullName,
  status: 'ACTIVE',
  role: 'USER',
  createdBy: sub,
  updatedBy: sub,
});

const samples = [
  {
    event: 'post-confirmation-signup',
    body: synced('3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13', 'ada.lovelace@example.com', 'Ada Lovelace'),
  },
  {
    event: 'post-confirmation-admin-confirm', // callerContext.clientId is null
    body: synced('8f0e2d4c-6b1a-4c3e-8d5f-7a9b1c3d5e7f', 'grace.hopper@example.com', 'Grace Hopper'),
  },
  {
    event: 'post-confirmation-federated', // first sign-in through Google: EXTERNAL_PROVIDER
    body: synced(
      'b71d3e95-2c4f-4a68-8e0d-5f3a9c1b7d24',
      'katherine.johnson@example.com',
      'Katherine Johnson',
    ),
  },
  {
    event: 'post-confirmation-phone-only', // no email: null; no name: preferred_username
    body: synced('e42c8a16-93b5-4d07-a1f8-6c2e0b9d4f35', null, 'margaret.h'),
  },
  {
    event: 'post-confirmation-given-family', // given_name + family_name
    body: synced('0d9f7b53-1e6a-4c28-b4d0-9a7e3f5c1b86', 'radia.perlman@example.com', 'Radia Perlman'),
  },
  { event: 'post-confirmation-forgot-password', body: undefined },
];

describe('post-confirmation handler on the sample events', () => {
  let service: DevUserService;

  beforeEach(async () => {
    resetHandlerState();
    service = await startDevUserService();
    setEnv({ USER_SERVICE_URL: service.url });
  });

  afterEach(() => service.close());

  it.each(samples)('$event: posts the expected body, or nothing', async ({ event: name, body }) => {
    const event = loadEvent(name);

    const { result, output } = await invokeHandler(event);

    expect(result).toEqual(loadEvent(name));
    const posts = service.requests.filter((request) => request.method === 'POST');
    if (body === undefined) {
      expect(posts).toEqual([]);
      expect(output.metric(MetricName.UserSyncSkipped)).toEqual([1]);
    } else {
      expect(posts).toHaveLength(1);
      expect(JSON.parse(posts[0]?.body ?? '')).toEqual(body);
      expect(posts[0]?.status).toBe(201);
      expect(posts[0]?.headers['idempotency-key']).toBe(idempotencyKey(POOL, body.cognitoSub));
      expect(output.metric(MetricName.UserSynced)).toEqual([1]);
    }
    expect(sentMessages()).toEqual([]);
  });

  it('writes no input/output lines at the default INFO level', async () => {
    const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(output.logs().map((line) => line.message)).not.toContain('Lambda input/output');
    expect(output.logs()).toContainEqual(expect.objectContaining({ level: 'INFO', outcome: 'created' }));
  });

  it('skips an unknown trigger source without calling the User Service', async () => {
    const event = { ...loadEvent('post-confirmation-signup'), triggerSource: 'PostConfirmation_Future' };

    const { result, output } = await invokeHandler(event);

    expect(result).toBe(event);
    expect(service.requests).toEqual([]);
    expect(output.metric(MetricName.UserSyncSkipped)).toEqual([1]);
  });

  it('gives the same idempotency-key on every attempt and every invocation for one user', async () => {
    const event = loadEvent('post-confirmation-signup');

    await invokeHandler(event); // 201
    const { output } = await invokeHandler(event); // Cognito's retry: 409
    const otherPool = await invokeHandler({ ...event, userPoolId: 'eu-west-1_Other0000' });

    const keys = service.requests.map((request) => request.headers['idempotency-key']);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(output.metric(MetricName.UserAlreadyExists)).toEqual([1]);
    expect(otherPool.output.metric(MetricName.UserAlreadyExists)).toEqual([1]);
  });
});

describe('post-confirmation handler and the user policy', () => {
  let service: DevUserService;

  beforeEach(async () => {
    resetHandlerState();
    service = await startDevUserService();
    setEnv({ USER_SERVICE_URL: service.url });
  });
  afterEach(() => service.close());

  it('skips a user whose status SYNC_USER_STATUSES leaves out (federated users kept out)', async () => {
    setEnv({ SYNC_USER_STATUSES: 'CONFIRMED,FORCE_CHANGE_PASSWORD' });

    const federated = await invokeHandler(loadEvent('post-confirmation-federated'));
    const confirmed = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(federated.output.metric(MetricName.UserSyncSkipped)).toEqual([1]);
    expect(federated.output.logs()).toContainEqual(
      expect.objectContaining({ outcome: 'skipped', reason: 'status-not-synced' }),
    );
    expect(confirmed.output.metric(MetricName.UserSynced)).toEqual([1]);
    expect(service.requests.map((request) => JSON.parse(request.body).cognitoSub)).toEqual([
      '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13',
    ]);
  });

  it('queues the user when SYNC_USER_STATUSES cannot be read, naming the variable', async () => {
    setEnv({ SYNC_USER_STATUSES: 'CONFIRMED,SLEEPING' });

    const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(service.requests).toEqual([]);
    expect(sentMessages().map(({ message }) => message.reason)).toEqual(['config-SYNC_USER_STATUSES']);
    expect(output.logs()).toContainEqual(
      expect.objectContaining({ level: 'ERROR', variable: 'SYNC_USER_STATUSES' }),
    );
  });
});
