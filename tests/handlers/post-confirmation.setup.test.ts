// The handler's own setup failing: the API key secret (missing, failing, slow) and the
// configuration (missing or unsafe USER_SERVICE_URL). Each is caught by fail-open: the event
// goes back in time, the error is logged naming what to fix, and the user is queued.

import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { MetricName } from '../../src/metric-names.js';
import { resetHandlerState, secretsMock, sentMessages } from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';

const DEADLINE_MS = 1000;

describe('post-confirmation handler setup', () => {
  let service: DevUserService;

  beforeEach(async () => {
    resetHandlerState();
    service = await startDevUserService({ apiKeys: ['key-from-secret'] });
    setEnv({
      USER_SERVICE_URL: service.url,
      SYNC_DEADLINE_MS: String(DEADLINE_MS),
      USER_SERVICE_API_KEY_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:user-service-key',
    });
  });

  afterEach(() => service.close());

  it.each([
    ['a plain string', 'key-from-secret'],
    ['JSON {"apiKey"}', '{"apiKey":"key-from-secret"}'],
  ])('sends the API key from a secret holding %s, fetched once per container', async (_, SecretString) => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString });
    const event = loadEvent('post-confirmation-signup');

    const first = await invokeHandler(event);
    await invokeHandler(loadEvent('post-confirmation-admin-confirm'));

    expect(first.output.metric(MetricName.UserSynced)).toEqual([1]);
    expect(service.requests.map((request) => request.headers['x-api-key'])).toEqual([
      'key-from-secret',
      'key-from-secret',
    ]);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(secretsMock.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId).toBe(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:user-service-key',
    );
  });

  it.each([
    ['failing', () => secretsMock.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'))],
    ['slow', () => secretsMock.on(GetSecretValueCommand).callsFake(() => new Promise(() => undefined))],
    [
      'holding no apiKey',
      () => secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"key":1}' }),
    ],
  ])('Secrets Manager %s: returns the event in time and queues the user', async (_, arrange) => {
    arrange();
    const event = loadEvent('post-confirmation-signup');

    const { result, elapsedMs, output } = await invokeHandler(event);

    expect(result).toBe(event);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + 200);
    expect(service.requests).toEqual([]);
    expect(sentMessages().map(({ message }) => message.reason)).toEqual(['secret-unavailable']);
    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
    expect(output.logs()).toContainEqual(
      expect.objectContaining({ level: 'ERROR', variable: 'USER_SERVICE_API_KEY_SECRET_ID' }),
    );
  });

  it('fetches no secret for a password reset, so a Secrets Manager outage cannot slow it down', async () => {
    secretsMock.on(GetSecretValueCommand).callsFake(() => new Promise(() => undefined));

    const { elapsedMs, output } = await invokeHandler(loadEvent('post-confirmation-forgot-password'));

    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(output.metric(MetricName.UserSyncSkipped)).toEqual([1]);
    expect(elapsedMs).toBeLessThan(100);
  });

  it.each([
    ['missing', undefined, /USER_SERVICE_URL is not set/],
    ['not a URL', 'users.internal', /USER_SERVICE_URL is not a valid absolute URL/],
    ['plain http to a remote host', 'http://users.example.com/api/v1/users', /must use https:\/\//],
  ])('USER_SERVICE_URL %s: logs what to fix, returns the event, queues the user', async (_, url, message) => {
    setEnv({ USER_SERVICE_URL: url, USER_SERVICE_API_KEY_SECRET_ID: undefined });
    const event = loadEvent('post-confirmation-signup');

    const { result, elapsedMs, output } = await invokeHandler(event);

    expect(result).toBe(event);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + 200);
    expect(output.logs()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        errorName: 'ConfigError',
        variable: 'USER_SERVICE_URL',
        errorMessage: expect.stringMatching(message),
      }),
    );
    const [sent] = sentMessages();
    expect(sent?.message).toMatchObject({
      reason: 'config-USER_SERVICE_URL',
      body: { cognitoSub: '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13', email: 'ada.lovelace@example.com' },
    });
    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
  });

  it('syncs despite a malformed queue URL, which only matters once a user has to be queued', async () => {
    setEnv({
      USER_SERVICE_API_KEY_SECRET_ID: undefined,
      USER_SERVICE_API_KEY: 'key-from-secret',
      DEAD_LETTER_QUEUE_URL: 'sqs.eu-west-1.amazonaws.com/123456789012/dlq',
    });

    const synced = await invokeHandler(loadEvent('post-confirmation-signup'));
    await service.close();
    const failed = await invokeHandler(loadEvent('post-confirmation-admin-confirm'));

    expect(synced.output.metric(MetricName.UserSynced)).toEqual([1]);
    expect(failed.output.metric(MetricName.UserSyncDropped)).toEqual([1]);
    expect(failed.output.logs()).toContainEqual(
      expect.objectContaining({ outcome: 'dropped', queueFailure: 'config-DEAD_LETTER_QUEUE_URL' }),
    );
  });

  it('sends a rejected payload straight to the dead-letter queue when one is configured', async () => {
    setEnv({
      USER_SERVICE_API_KEY_SECRET_ID: undefined,
      USER_SERVICE_API_KEY: 'key-from-secret',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cognito-user-sync-dlq',
      DEFAULT_USER_ROLE: 'MEMBER',
    });
    const event = loadEvent('post-confirmation-signup');
    (event.request as { userAttributes: Record<string, string> }).userAttributes.email = 'not-an-email';

    const { output } = await invokeHandler(event);

    expect(sentMessages()).toEqual([
      {
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cognito-user-sync-dlq',
        message: expect.objectContaining({
          reason: 'http-422',
          body: expect.objectContaining({ email: 'not-an-email', role: 'MEMBER' }),
          // What the service said is kept for whoever looks at the dead letter.
          detail: expect.stringContaining('email must be null or an email address'),
        }),
      },
    ]);
    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
  });
});
