// The invocation is resolved once, at the front of the chain: `decide` runs exactly once per
// invocation whatever happens after (synced, queued, a secret that fails, a configuration error,
// an event to skip), and the secrets stage, the core and fail-open's recovery all read its result.

import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { decide } from '../../src/domain/cognito-event.js';
import { MetricName } from '../../src/metric-names.js';
import { resetHandlerState, secretsMock, sentMessages } from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';

vi.mock('../../src/domain/cognito-event.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/domain/cognito-event.js')>();
  return { ...actual, decide: vi.fn(actual.decide) };
});

describe('post-confirmation: one invocation, resolved once', () => {
  let service: DevUserService;

  beforeEach(async () => {
    resetHandlerState();
    service = await startDevUserService();
    setEnv({ USER_SERVICE_URL: service.url, SYNC_DEADLINE_MS: '1000' });
    vi.mocked(decide).mockClear();
  });
  afterEach(() => service.close());

  it.each<[string, () => void, string, MetricName]>([
    ['a sign-up that syncs', () => undefined, 'post-confirmation-signup', MetricName.UserSynced],
    [
      'a sign-up the User Service refuses (queued)',
      () => setEnv({ DEFAULT_USER_STATUS: 'ACTIVE', USER_SERVICE_URL: `${service.url}/nowhere` }),
      'post-confirmation-signup',
      MetricName.UserSyncQueued,
    ],
    [
      'a sign-up whose secret cannot be read (fail-open queues it)',
      () => {
        setEnv({ USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key' });
        secretsMock.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
      },
      'post-confirmation-signup',
      MetricName.UserSyncQueued,
    ],
    [
      'a sign-up with an invalid configuration (fail-open queues it)',
      () => setEnv({ USER_SERVICE_TIMEOUT_MS: 'soon' }),
      'post-confirmation-signup',
      MetricName.UserSyncQueued,
    ],
    [
      'a password reset (skipped)',
      () => undefined,
      'post-confirmation-forgot-password',
      MetricName.UserSyncSkipped,
    ],
  ])('%s', async (_, arrange, eventName, metric) => {
    arrange();
    const event = loadEvent(eventName);

    const { result, output } = await invokeHandler(event);

    expect(result).toBe(event);
    expect(output.metric(metric)).toEqual([1]);
    expect(decide).toHaveBeenCalledOnce();
    expect(decide).toHaveBeenCalledWith(event);
  });

  it('queues the body it resolved: the one the User Service would have got', async () => {
    setEnv({ USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key', DEFAULT_USER_ROLE: 'MEMBER' });
    secretsMock.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));

    await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(sentMessages().map(({ message }) => message.body)).toEqual([
      expect.objectContaining({ cognitoSub: '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13', role: 'MEMBER' }),
    ]);
    expect(decide).toHaveBeenCalledOnce();
  });
});
