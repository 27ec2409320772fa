// The User Service credentials, from Secrets Manager through @middy/secrets-manager: the API key
// and, when configured, the Standard Webhooks signing secret. Cached for the container's life,
// fetched within the invocation's deadline, refetched on demand (after a 401/403: a secret may
// have been rotated). Without a secret id, plain values from the environment are used (local
// development).

import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { MiddlewareObj, Request } from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import { clearCache, getCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import { SECRETS, type SecretSpec, SecretUnavailableError } from '../src/clients/secrets.js';
import type { Credentials } from '../src/clients/user-service.js';
import type { SigningKey } from '../src/webhooks/signature.js';
import { findDeadline } from './fail-open.js';

/** What this middleware puts on the Lambda context. */
export interface UserServiceSecretsContext {
  /** The key to send as `x-api-key`; undefined when none is configured. */
  apiKey: string | undefined;
  /** The keys to sign requests with, current first; undefined when signing is off. */
  signingKeys: readonly SigningKey[] | undefined;
  /** Fetches the secrets again, bypassing the cache; undefined when no value is a secret. */
  refreshCredentials: (() => Promise<Credentials>) | undefined;
  /** With `failSoft`, why the credentials could not be had (they are then unset). */
  credentialsError: unknown;
}

type SecretsContext = Context & Partial<UserServiceSecretsContext>;
type SecretsRequest = Request<unknown, unknown, Error, SecretsContext>;

export interface UserServiceSecretsOptions {
  /** Read at invocation time: the secret ids and the local fallbacks. */
  env: () => Readonly<Record<string, string | undefined>>;
  /** Kept short: a Secrets Manager outage must not eat the sign-up's time budget. */
  awsClientOptions: SecretsManagerClientConfig;
  awsClientCapture: ((client: SecretsManagerClient) => SecretsManagerClient) | undefined;
  /** Time to leave on the invocation's deadline when the fetch is given up. */
  reserveMs: () => number;
  /** Fetch nothing for an event that will not be synced (a password reset, say). */
  shouldFetch: (event: unknown) => boolean;
  /**
   * Leave a failure on the context (`credentialsError`) instead of throwing it, for a handler
   * that has better to do than fail the invocation (the worker defers its batch).
   */
  failSoft: boolean;
}

const defaults: UserServiceSecretsOptions = {
  env: () => process.env,
  awsClientOptions: {
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
  },
  awsClientCapture: undefined,
  reserveMs: () => 0,
  shouldFetch: () => true,
  failSoft: false,
};

/** Why the credentials could not be had, when the middleware was told to fail soft. */
export const credentialsErrorOf = (context: Context): unknown => (context as SecretsContext).credentialsError;

/** The credentials as the middleware left them on the context. */
export const credentialsOf = (context: Context): Credentials => {
  const { apiKey, signingKeys, refreshCredentials } = context as SecretsContext;
  return {
    apiKey: typeof apiKey === 'string' ? apiKey : undefined,
    ...(signingKeys && { signingKeys }),
    ...(refreshCredentials && { refresh: refreshCredentials }),
  };
};

export const userServiceSecrets = (
  opts: Partial<UserServiceSecretsOptions> = {},
): MiddlewareObj<unknown, unknown, Error, Context> => {
  const options = { ...defaults, ...opts };

  // One @middy/secrets-manager instance per secret id, made at the first invocation that needs
  // it: the ids are configuration, read at invocation time, and a prefetch at import could fail
  // where fail-open cannot catch it.
  const createFetcher = (contextKey: string, secretId: string, cacheKey: string) =>
    secretsManager({
      fetchData: { [contextKey]: secretId },
      setToContext: true,
      disablePrefetch: true,
      cacheKey,
      cacheExpiry: -1,
      awsClientOptions: options.awsClientOptions,
      awsClientCapture: options.awsClientCapture,
    });
  type Fetcher = ReturnType<typeof createFetcher>;
  const fetchers = new Map<string, Fetcher>();
  const cacheKeyOf = (secretId: string) => `cognito-user-sync:${secretId}`;

  /** Fetches one secret (from the cache after the first time) and parses it onto the context. */
  const load = async <T>(request: SecretsRequest, spec: SecretSpec<T>, secretId: string): Promise<T> => {
    const key = `${spec.contextKey}:${secretId}`;
    let fetcher = fetchers.get(key);
    if (!fetcher) {
      fetcher = createFetcher(spec.contextKey, secretId, cacheKeyOf(secretId));
      fetchers.set(key, fetcher);
    }
    // With setToContext, @middy/secrets-manager puts the raw secret on the context under the key.
    const fetching = Promise.resolve(
      fetcher.before?.(request as Parameters<NonNullable<Fetcher['before']>>[0]),
    ).then(() =>
      spec.parse((request.context as unknown as Record<string, unknown>)[spec.contextKey], spec.variable),
    );
    const deadline = findDeadline(request.context);
    try {
      return await (deadline ? deadline.race(fetching, 'Secrets Manager', options.reserveMs()) : fetching);
    } catch (error) {
      if (error instanceof SecretUnavailableError) throw error;
      throw new SecretUnavailableError(spec.variable, 'could not be read', error);
    }
  };

  // What the last load gave, for the sources (secret ids, local values) it was loaded from: a
  // warm invocation takes it as is, without a round through the cache and a deadline race.
  let loaded: { sources: string; apiKey: unknown; signingKeys: unknown } | undefined;
  const sourcesOf = (env: Readonly<Record<string, string | undefined>>) =>
    [SECRETS.apiKey, SECRETS.signingKeys]
      .map((spec) => `${env[spec.variable] ?? ''}\u0000${env[spec.localVariable] ?? ''}`)
      .join('\u0000');

  const loadAll = async (request: SecretsRequest): Promise<Credentials> => {
    const env = options.env();
    const [apiKey, signingKeys] = await Promise.all(
      // async: a local value that fails to parse must reject here, not throw past Promise.all
      // and leave the other fetch's rejection unhandled.
      [SECRETS.apiKey, SECRETS.signingKeys].map(async (spec: SecretSpec<unknown>) => {
        const secretId = env[spec.variable]?.trim();
        if (secretId) return load(request, spec, secretId);
        const local = env[spec.localVariable]?.trim();
        return local ? spec.parse(local, spec.localVariable) : undefined;
      }),
    );
    loaded = { sources: sourcesOf(env), apiKey, signingKeys };
    return useLoaded(request, loaded);
  };

  const useLoaded = (request: SecretsRequest, { apiKey, signingKeys }: NonNullable<typeof loaded>) => {
    const { context } = request;
    context.apiKey = apiKey as string | undefined;
    context.signingKeys = signingKeys as readonly SigningKey[] | undefined;
    return credentialsOf(context);
  };

  const userServiceSecretsBefore = async (request: SecretsRequest): Promise<void> => {
    if (!options.shouldFetch(request.event)) return;
    const env = options.env();
    const secretIds = [SECRETS.apiKey, SECRETS.signingKeys]
      .map((spec) => env[spec.variable]?.trim())
      .filter((id): id is string => Boolean(id));
    request.context.refreshCredentials =
      secretIds.length === 0
        ? undefined
        : async () => {
            loaded = undefined;
            clearCache(secretIds.map(cacheKeyOf));
            return loadAll(request);
          };
    // Valid while @middy/secrets-manager still caches what it was made from.
    if (loaded?.sources === sourcesOf(env) && secretIds.every((id) => getCache(cacheKeyOf(id)).value)) {
      useLoaded(request, loaded);
      return;
    }
    try {
      await loadAll(request);
    } catch (error) {
      if (!options.failSoft) throw error;
      request.context.credentialsError = error;
    }
  };

  return { before: userServiceSecretsBefore };
};
