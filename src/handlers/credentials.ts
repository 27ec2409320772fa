// The User Service credentials stage every function's chain shares (wiring, not an entry point):
// @middy/secrets-manager fetches the secrets and caches them for the container; awaitSecrets
// waits for them within the function's bound, parses them onto `context.credentials`, and adds a
// refresh that reloads them past the cache after a 401/403 (a secret may have been rotated).

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { MiddlewareObj, Request } from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import { clearCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import { awaitSecrets } from '../../middlewares/await-secrets.js';
import type { AwsClientProfile } from '../clients/aws.js';
import {
  type CredentialSources,
  type Credentials,
  credentialsFrom,
  hasSecrets,
  loadCredentials,
  secretIdsOf,
  secretsManagerGetter,
} from '../clients/credentials.js';
import { lazy } from '../clients/lazy.js';
import { tracer } from '../observability.js';

export interface CredentialsStageOptions<TContext extends Context> {
  sources: CredentialSources;
  profile: AwsClientProfile;
  /** Bounds the wait for the secrets (the invocation's deadline, say). */
  within: (
    request: Request<unknown, unknown, Error, TContext>,
    pending: Promise<unknown>,
  ) => Promise<unknown>;
}

export const credentialsStage = <TContext extends Context & { credentials?: Credentials }>({
  sources,
  profile,
  within,
}: CredentialsStageOptions<TContext>): MiddlewareObj<unknown, unknown, Error, TContext>[] => {
  const fetchData = secretIdsOf(sources);
  // Named by the ids: two configurations never share a cache entry.
  const cacheKey = `cognito-user-sync:${Object.values(fetchData).join(',')}`;
  const capture = (client: SecretsManagerClient) => tracer.captureAWSv3Client(client);
  const refreshClient = lazy(() => capture(new SecretsManagerClient(profile)));

  const refresh = async (signal?: AbortSignal): Promise<Credentials> => {
    clearCache([cacheKey]); // so the container's next invocations fetch the new value too
    const getSecret = secretsManagerGetter(refreshClient, signal ? { abortSignal: () => signal } : {});
    return withRefresh(await loadCredentials(sources, getSecret));
  };
  const withRefresh = (credentials: Credentials): Credentials =>
    hasSecrets(sources) ? { ...credentials, refresh } : credentials;

  const awaitAndParse = awaitSecrets<Credentials, unknown, unknown, TContext>({
    keys: Object.keys(fetchData),
    cacheKey,
    within,
    contextKey: 'credentials',
    parse: (settled) => withRefresh(credentialsFrom(sources, settled)),
  });
  // No secret to fetch (local values, or none): no Secrets Manager client is even made.
  if (!hasSecrets(sources)) return [awaitAndParse];
  return [
    secretsManager({
      fetchData,
      cacheKey,
      cacheExpiry: -1,
      // Fetched at the first invocation, not at import: a failure there is one fail-open can catch.
      disablePrefetch: true,
      setToContext: false,
      awsClientOptions: profile,
      awsClientCapture: capture,
    }) as MiddlewareObj<unknown, unknown, Error, TContext>,
    awaitAndParse,
  ];
};
