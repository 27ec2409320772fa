// The User Service API key, from Secrets Manager through @middy/secrets-manager: cached for the
// container's life, fetched within the invocation's deadline, refetched on demand (after a
// 401/403, the key may have been rotated). Without a secret id, a plain key from the
// environment is used (local development).

import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { MiddlewareObj, Request } from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import { clearCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import { API_KEY_SECRET_VARIABLE, apiKeyFromSecret, SecretUnavailableError } from '../src/clients/secrets.js';
import { findDeadline } from './fail-open.js';

/** What this middleware puts on the Lambda context. */
export interface UserServiceSecretsContext {
  /** The key to send as `x-api-key`; undefined when none is configured. */
  apiKey: string | undefined;
  /** Fetches the key again, bypassing the cache; undefined when the key is not a secret. */
  refreshApiKey: (() => Promise<string | undefined>) | undefined;
}

type SecretsRequest = Request<unknown, unknown, Error, Context & Partial<UserServiceSecretsContext>>;

export interface UserServiceSecretsOptions {
  /** Secrets Manager id or ARN of the API key, read at invocation time. */
  apiKeySecretId: () => string | undefined;
  /** The key to use when there is no secret id. */
  fallbackApiKey: () => string | undefined;
  /** Kept short: a Secrets Manager outage must not eat the sign-up's time budget. */
  awsClientOptions: SecretsManagerClientConfig;
  awsClientCapture: ((client: SecretsManagerClient) => SecretsManagerClient) | undefined;
  /** Time to leave on the invocation's deadline when the fetch is given up. */
  reserveMs: () => number;
}

const defaults: UserServiceSecretsOptions = {
  apiKeySecretId: () => process.env[API_KEY_SECRET_VARIABLE] || undefined,
  fallbackApiKey: () => process.env.USER_SERVICE_API_KEY || undefined,
  awsClientOptions: {
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
  },
  awsClientCapture: undefined,
  reserveMs: () => 0,
};

/** The key and its refetch, as the middleware left them on the context. */
export const credentialsOf = (
  context: Context,
): { apiKey: string | undefined; refresh?: () => Promise<string | undefined> } => {
  const { apiKey, refreshApiKey } = context as Context & Partial<UserServiceSecretsContext>;
  return {
    apiKey: typeof apiKey === 'string' ? apiKey : undefined,
    ...(refreshApiKey && { refresh: refreshApiKey }),
  };
};

export const userServiceSecrets = (
  opts: Partial<UserServiceSecretsOptions> = {},
): MiddlewareObj<unknown, unknown, Error, Context> => {
  const options = { ...defaults, ...opts };
  // One @middy/secrets-manager instance per secret id, made at the first invocation that needs
  // it: the id is configuration, read at invocation time, and a prefetch at import could fail
  // where fail-open cannot catch it.
  const createFetcher = (secretId: string, cacheKey: string) =>
    secretsManager({
      fetchData: { apiKey: secretId },
      setToContext: true,
      disablePrefetch: true,
      cacheKey,
      cacheExpiry: -1,
      awsClientOptions: options.awsClientOptions,
      awsClientCapture: options.awsClientCapture,
    });
  type Fetcher = ReturnType<typeof createFetcher>;
  let fetcher: { secretId: string; cacheKey: string; middleware: Fetcher } | undefined;

  const fetcherFor = (secretId: string) => {
    if (fetcher?.secretId !== secretId) {
      const cacheKey = `cognito-user-sync:${secretId}`;
      fetcher = { secretId, cacheKey, middleware: createFetcher(secretId, cacheKey) };
    }
    return fetcher;
  };

  const load = async (request: SecretsRequest, secretId: string): Promise<string> => {
    const { middleware } = fetcherFor(secretId);
    // With setToContext, @middy/secrets-manager puts the raw secret on context.apiKey.
    const fetching = Promise.resolve(
      middleware.before?.(request as Parameters<NonNullable<Fetcher['before']>>[0]),
    ).then(() => apiKeyFromSecret(request.context.apiKey));
    const deadline = findDeadline(request.context);
    try {
      return await (deadline ? deadline.race(fetching, 'Secrets Manager', options.reserveMs()) : fetching);
    } catch (error) {
      if (error instanceof SecretUnavailableError) throw error;
      throw new SecretUnavailableError(API_KEY_SECRET_VARIABLE, 'could not be read', error);
    }
  };

  const userServiceSecretsBefore = async (request: SecretsRequest): Promise<void> => {
    const secretId = options.apiKeySecretId();
    if (secretId === undefined) {
      request.context.apiKey = options.fallbackApiKey();
      request.context.refreshApiKey = undefined;
      return;
    }
    const { context } = request;
    context.refreshApiKey = async () => {
      clearCache([fetcherFor(secretId).cacheKey]);
      context.apiKey = await load(request, secretId);
      return context.apiKey;
    };
    context.apiKey = await load(request, secretId);
  };

  return { before: userServiceSecretsBefore };
};
