import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { clearCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { failOpen } from '../../middlewares/fail-open.js';
import {
  credentialsErrorOf,
  credentialsOf,
  userServiceSecrets,
} from '../../middlewares/user-service-secrets.js';
import { apiKeyFromSecret, SecretUnavailableError } from '../../src/clients/secrets.js';
import { sign } from '../../src/webhooks/signature.js';
import { lambdaContext } from '../helpers/lambda-context.js';

const secrets = mockClient(SecretsManagerClient);
const CURRENT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PREVIOUS = 'whsec_bm90LXRoZS1jdXJyZW50LWtleS1hdC1hbGwtMTIzNDU2';

/** A bare chain whose handler hands back the credentials it was given. */
const chain = (env: Record<string, string>) =>
  middy()
    .use(userServiceSecrets({ env: () => env }))
    .handler((_event: unknown, context: Context) => credentialsOf(context));

/** Which of the given secrets a key is, by what it signs. */
const fingerprint = (key: Parameters<typeof sign>[0]['key']) =>
  sign({ id: 'msg_x', timestamp: 1, body: '', key });

describe('userServiceSecrets', () => {
  beforeEach(() => {
    clearCache();
    secrets.reset();
  });

  it('fetches the key once per container and refetches it on demand', async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'k-1' }).resolves({ SecretString: 'k-2' });
    const handler = chain({ USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key' });

    const first = await handler({}, lambdaContext());
    const second = await handler({}, lambdaContext());

    expect(first.apiKey).toBe('k-1');
    expect(second.apiKey).toBe('k-1');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    await expect(second.refresh?.()).resolves.toMatchObject({ apiKey: 'k-2' });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reads a JSON secret {"apiKey"}', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"apiKey":"k-json","note":"x"}' });

    await expect(chain({ USER_SERVICE_API_KEY_SECRET_ID: 'id' })({}, lambdaContext())).resolves.toMatchObject(
      {
        apiKey: 'k-json',
      },
    );
  });

  it('reads the signing secret, current and previous keys, beside the API key', async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: 'api-key' })
      .resolves({ SecretString: 'k-1' })
      .on(GetSecretValueCommand, { SecretId: 'signing' })
      .resolves({ SecretString: JSON.stringify({ current: CURRENT, previous: PREVIOUS }) });

    const credentials = await chain({
      USER_SERVICE_API_KEY_SECRET_ID: 'api-key',
      USER_SERVICE_SIGNING_SECRET_ID: 'signing',
    })({}, lambdaContext());

    expect(credentials.apiKey).toBe('k-1');
    const { parseSigningSecret } = await import('../../src/webhooks/signature.js');
    expect(credentials.signingKeys?.map(fingerprint)).toEqual(
      parseSigningSecret(`${CURRENT} ${PREVIOUS}`).map(fingerprint),
    );
  });

  it('uses the plain values from the environment when there are no secret ids, and cannot refetch them', async () => {
    const credentials = await chain({
      USER_SERVICE_API_KEY: 'local-key',
      USER_SERVICE_SIGNING_SECRET: CURRENT,
    })({}, lambdaContext());

    expect(credentials).toMatchObject({ apiKey: 'local-key' });
    expect(credentials.signingKeys).toHaveLength(1);
    expect(credentials.refresh).toBeUndefined();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it.each([
    [
      'Secrets Manager fails',
      () => secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException')),
      /USER_SERVICE_SIGNING_SECRET_ID could not be read/,
    ],
    [
      'the secret is no signing secret',
      () => secrets.on(GetSecretValueCommand).resolves({ SecretString: 'hunter2' }),
      /USER_SERVICE_SIGNING_SECRET_ID is unusable/,
    ],
  ])('fails with SecretUnavailableError naming the variable when %s', async (_, arrange, message) => {
    arrange();

    const failure = chain({ USER_SERVICE_SIGNING_SECRET_ID: 'signing' })({}, lambdaContext());

    await expect(failure).rejects.toThrow(message);
    await expect(failure).rejects.not.toThrow(/hunter2/);
  });

  it('rejects once, with nothing left unhandled, when a local value is bad and a fetch fails too', async () => {
    secrets
      .on(GetSecretValueCommand)
      .callsFake(
        () => new Promise((_, reject) => setTimeout(() => reject(new Error('AccessDeniedException')), 20)),
      );
    const handler = chain({
      USER_SERVICE_API_KEY_SECRET_ID: 'id',
      USER_SERVICE_SIGNING_SECRET: 'not-a-whsec',
    });

    await expect(handler({}, lambdaContext())).rejects.toThrow(/USER_SERVICE_SIGNING_SECRET is unusable/);
    // Vitest fails the run on an unhandled rejection; give the failing fetch time to settle.
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it('with failSoft, leaves the failure on the context for the handler', async () => {
    secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    const handler = middy()
      .use(userServiceSecrets({ env: () => ({ USER_SERVICE_API_KEY_SECRET_ID: 'id' }), failSoft: true }))
      .handler((_event: unknown, context: Context) => credentialsErrorOf(context));

    await expect(handler({}, lambdaContext())).resolves.toBeInstanceOf(SecretUnavailableError);
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
      .use(
        userServiceSecrets({ env: () => ({ USER_SERVICE_API_KEY_SECRET_ID: 'id' }), reserveMs: () => 100 }),
      )
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
    ['{"current":"k","previous":"old"}', 'k'],
  ])('reads %j as %j', (value, key) => {
    expect(apiKeyFromSecret(value, 'X')).toBe(key);
  });

  it.each(['', {}, { apiKey: 5 }, null, 42])('refuses %j without repeating it', (value) => {
    expect(() => apiKeyFromSecret(value, 'X')).toThrow(SecretUnavailableError);
  });
});
