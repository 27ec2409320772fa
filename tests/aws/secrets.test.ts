// The post-confirmation function reads its API key from a real Secrets Manager secret (moto),
// and follows a rotation: once the service refuses the old key, the next invocation refetches.

import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { MetricName } from '../../src/metric-names.js';
import { invokeHandler, loadEvent } from '../helpers/handler.js';
import { createQueues, useMoto } from './aws.js';

describe('post-confirmation with its key in Secrets Manager', () => {
  // The keys the service accepts; the test rotates them as a User Service team would.
  const accepted = ['key-before-rotation'];
  let service: DevUserService;
  let secretArn: string | undefined;

  beforeAll(async () => {
    useMoto();
    service = await startDevUserService({ apiKeys: accepted });
    ({ ARN: secretArn } = await new SecretsManagerClient({}).send(
      new CreateSecretCommand({
        Name: `user-service/api-key-${randomUUID()}`,
        SecretString: '{"apiKey":"key-before-rotation"}',
      }),
    ));
    const { retryQueueUrl } = await createQueues();
    vi.stubEnv('USER_SERVICE_URL', service.url);
    vi.stubEnv('USER_SERVICE_API_KEY_SECRET_ID', secretArn ?? '');
    vi.stubEnv('RETRY_QUEUE_URL', retryQueueUrl);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await service.close();
  });

  it('sends the key from the secret', async () => {
    const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(output.metric(MetricName.UserSynced)).toEqual([1]);
    expect(service.requests.at(-1)?.headers['x-api-key']).toBe('key-before-rotation');
  });

  it('after a rotation, refetches the secret on the 401 and succeeds', async () => {
    await new SecretsManagerClient({}).send(
      new PutSecretValueCommand({ SecretId: secretArn, SecretString: '{"apiKey":"key-after-rotation"}' }),
    );
    accepted.splice(0, accepted.length, 'key-after-rotation');
    const requestsBefore = service.requests.length;

    const { result, output } = await invokeHandler(loadEvent('post-confirmation-admin-confirm'));

    expect(result).toEqual(loadEvent('post-confirmation-admin-confirm'));
    expect(output.metric(MetricName.UserSynced)).toEqual([1]);
    expect(
      service.requests.slice(requestsBefore).map((request) => [request.headers['x-api-key'], request.status]),
    ).toEqual([
      ['key-before-rotation', 401],
      ['key-after-rotation', 201],
    ]);
  });
});
