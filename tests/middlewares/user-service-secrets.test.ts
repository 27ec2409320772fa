import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { clearCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { failOpen } from '../../middlewares/fail-open.js';
import { credentialsOf, userServiceSecrets } from '../../middlewares/user-service-secrets.js';
import { apiKeyFromSecret, SecretUnavailableError } from '../../src/clients/secrets.js';
import { lambdaContext } from '../helpers/lambda-context.js';

const secrets = mockClient(SecretsManagerClient);

/** A bare chain whose handler hands back the credentials it was given. */
const chain = (options: Parameters<typeof userServiceSecrets>[0]) =>
  middy()
    .use(userServiceSecrets(options))
    .handler(async (_event: unknown, context: Context) => {
      const credentials = credentialsOf(context);
      return { apiKey: credentials.apiKey, refreshed: await credentials.refresh?.() };
    });

describe('userServiceSecrets', () => {
  beforeEach(() => {
    clearCache();
    secrets.reset();
  });

  it('fetches the key once per container and refetches it on demand', async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'k-1' }).resolves({ SecretString: 'k-2' });
    const handler = middy()
      .use(userServiceSecrets({ apiKeySecretId: () => 'user-service/api-key' }))
      .handler((_event: unknown, context: Context) => credentialsOf(context));

    const first = await handler({}, lambdaContext());
    const second = await handler({}, lambdaContext());

    expect(first.apiKey).toBe('k-1');
    expect(second.apiKey).toBe('k-1');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    await expect(second.refresh?.()).resolves.toBe('k-2');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reads a JSON secret {"apiKey"}', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"apiKey":"k-json","note":"x"}' });

    await expect(chain({ apiKeySecretId: () => 'id' })({}, lambdaContext())).resolves.toEqual({
      apiKey: 'k-json',
      refreshed: 'k-json',
    });
  });

  it('uses the plain key from the environment when there is no secret id, and cannot refetch it', async () => {
    const handler = chain({ apiKeySecretId: () => undefined, fallbackApiKey: () => 'local-key' });

    await expect(handler({}, lambdaContext())).resolves.toEqual({
      apiKey: 'local-key',
      refreshed: undefined,
    });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('fails with SecretUnavailableError naming the variable when Secrets Manager fails', async () => {
    secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));

    await expect(chain({ apiKeySecretId: () => 'id' })({}, lambdaContext())).rejects.toThrow(
      /USER_SERVICE_API_KEY_SECRET_ID could not be read/,
    );
  });

  it('gives up on a slow Secrets Manager at the invocation deadline', async () => {
    secrets.on(GetSecretValueCommand).callsFake(() => new Promise(() => undefined));
    let caught: unknown;
    const handler = middy()
      .use(
        failOpen({
          budgetMs: 300,
          recover: (_request, error) => {
            caught = error;
          },
          logError: () => undefined,
        }),
      )
      .use(userServiceSecrets({ apiKeySecretId: () => 'id', reserveMs: () => 100 }))
      .handler(() => 'never');
    const started = performance.now();

    await handler({}, lambdaContext());

    expect(performance.now() - started).toBeLessThan(300);
    expect(caught).toBeInstanceOf(SecretUnavailableError);
    expect((caught as Error).cause).toMatchObject({ name: 'DeadlineExceededError' });
  });
});

describe('apiKeyFromSecret', () => {
  it.each([
    ['k', 'k'],
    [' k ', 'k'],
    [{ apiKey: 'k' }, 'k'],
    ['{"apiKey":"k"}', 'k'],
  ])('reads %j as %j', (value, key) => {
    expect(apiKeyFromSecret(value)).toBe(key);
  });

  it.each(['', {}, { apiKey: 5 }, null, 42])('refuses %j without repeating it', (value) => {
    expect(() => apiKeyFromSecret(value)).toThrow(SecretUnavailableError);
  });
});
