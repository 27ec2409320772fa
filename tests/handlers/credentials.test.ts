// The credentials stage every function shares, on a bare middy chain with the SDK mocked:
// @middy/secrets-manager fetches, awaitSecrets bounds the wait and parses, refresh reloads.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { clearCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AWS_CLIENT_PROFILES } from '../../src/clients/aws.js';
import { type Credentials, credentialSources } from '../../src/clients/credentials.js';
import { startDeadline } from '../../src/core/deadline.js';
import { SecretUnavailableError } from '../../src/errors.js';
import { credentialsStage } from '../../src/handlers/credentials.js';
import { lambdaContext } from '../helpers/lambda-context.js';

const secrets = mockClient(SecretsManagerClient);

type WithCredentials = Context & { credentials?: Credentials };

const chain = (env: Record<string, string>, within?: Parameters<typeof credentialsStage>[0]['within']) =>
  middy<unknown, Credentials | undefined, Error, WithCredentials>()
    .use(
      credentialsStage<WithCredentials>({
        sources: credentialSources(env),
        profile: AWS_CLIENT_PROFILES.trigger,
        within: within ?? ((_request, pending) => pending),
      }),
    )
    .handler((_event, context) => context.credentials);

describe('credentialsStage', () => {
  beforeEach(() => {
    clearCache();
    secrets.reset();
  });

  it('fetches the key once per container and refreshes it on demand, past the cache', async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'k-1' }).resolves({ SecretString: 'k-2' });
    const handler = chain({ USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key' });

    const first = await handler({}, lambdaContext());
    const second = await handler({}, lambdaContext());

    expect(first?.apiKey).toBe('k-1');
    expect(second?.apiKey).toBe('k-1');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    await expect(second?.refresh?.()).resolves.toMatchObject({ apiKey: 'k-2' });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    // The refresh cleared middy's cache: the next invocation fetches the rotated value too.
    await expect(handler({}, lambdaContext())).resolves.toMatchObject({ apiKey: 'k-2' });
  });

  it('uses the plain local values when there are no secret ids, and has nothing to refresh', async () => {
    const credentials = await chain({ USER_SERVICE_API_KEY: 'local-key' })({}, lambdaContext());

    expect(credentials).toEqual({ apiKey: 'local-key' });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('fails with a SecretUnavailableError naming the variable when Secrets Manager fails', async () => {
    secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));

    const failure = chain({ USER_SERVICE_SIGNING_SECRET_ID: 'signing' })({}, lambdaContext());

    await expect(failure).rejects.toThrow(SecretUnavailableError);
    await expect(failure).rejects.toThrow(/USER_SERVICE_SIGNING_SECRET_ID could not be read/);
  });

  it('rejects once, with nothing left unhandled, when a local value is bad and a fetch fails too', async () => {
    secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    const handler = chain({
      USER_SERVICE_API_KEY_SECRET_ID: 'id',
      USER_SERVICE_SIGNING_SECRET: 'not-a-whsec',
    });

    // Vitest fails the run on an unhandled rejection: every fetch is settled before parsing.
    await expect(handler({}, lambdaContext())).rejects.toThrow(
      /USER_SERVICE_API_KEY_SECRET_ID could not be read/,
    );
  });

  it('gives up at its bound, and the next invocation fetches again', async () => {
    secrets
      .on(GetSecretValueCommand)
      .callsFakeOnce(() => new Promise(() => undefined))
      .resolves({ SecretString: 'k' });
    const handler = chain({ USER_SERVICE_API_KEY_SECRET_ID: 'id' }, (_request, pending) =>
      startDeadline(0).race(pending, 'Secrets Manager'),
    );

    const failure = handler({}, lambdaContext());

    await expect(failure).rejects.toThrow(SecretUnavailableError);
    await expect(failure.catch((error: Error) => error.cause)).resolves.toMatchObject({
      name: 'DeadlineExceededError',
    });
    const next = await chain({ USER_SERVICE_API_KEY_SECRET_ID: 'id' })({}, lambdaContext());
    expect(next?.apiKey).toBe('k');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
