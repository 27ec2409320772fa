// The User Service as the long commands write to it (backfill's creations, reconcile's repairs):
// one client made from the configuration, the credentials loaded once, and each write with its
// idempotency key, a deadline of its own and a few retries. A write that fails comes back as a
// result with its reason, for the report's list of failures.

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import {
  type Credentials,
  credentialSources,
  loadCredentials,
  secretsManagerGetter,
} from '../clients/credentials.js';
import { createUserServiceClient, type TimeBudget, type UserServiceClient } from '../clients/user-service.js';
import { type Env, readUserServiceConfig } from '../config.js';
import { startDeadline } from '../core/deadline.js';
import type { UserPatch, UserRecord } from '../domain/contract.js';

/** One write's time with the User Service, retries included. */
const WRITE_BUDGET_MS = 30_000;
const WRITE_RETRIES = 4;

type Result<M extends 'createUser' | 'patchUser' | 'deleteUser'> = Awaited<ReturnType<UserServiceClient[M]>>;

export interface Writes {
  /** The client itself, for what is not a write (reconcile lists the service's users). */
  client: UserServiceClient;
  credentials: Credentials;
  /** USER_SERVICE_URL. */
  url: URL;
  create(body: UserRecord, idempotencyKey: string): Promise<Result<'createUser'>>;
  patch(cognitoSub: string, patch: UserPatch, idempotencyKey: string): Promise<Result<'patchUser'>>;
  /** `signal` cuts it short (smoke's clean-up, cut short by a second signal). */
  remove(cognitoSub: string, idempotencyKey: string, signal?: AbortSignal): Promise<Result<'deleteUser'>>;
}

/** A call's time: `ms`, cut short when `signal` aborts (the run is stopped) — at once, not at the end. */
export const budgetOf = (ms: number, signal?: AbortSignal): TimeBudget => {
  const deadline = startDeadline(ms);
  if (!signal) return deadline;
  return {
    remaining: (reserveMs) => (signal.aborted ? 0 : deadline.remaining(reserveMs)),
    withSignal: (what, work, reserveMs) =>
      deadline.withSignal(what, (own) => work(AbortSignal.any([own, signal])), reserveMs),
  };
};

/**
 * Reads USER_SERVICE_URL and the credentials (a secret's fetch included) and opens the client. The
 * secrets are read in `region` when given (a deployment's, whose functions hold them), else in the
 * environment's.
 */
export const openWrites = async (
  env: Env = process.env,
  { region }: { region?: string } = {},
): Promise<Writes> => {
  const config = readUserServiceConfig(env);
  const credentials = await loadCredentials(
    credentialSources(env),
    secretsManagerGetter(
      () => new SecretsManagerClient({ ...AWS_CLIENT_PROFILES.cli, ...(region && { region }) }),
    ),
  );
  const client = createUserServiceClient({ ...config, baseBackoffMs: 200, maxBackoffMs: 5000 });
  const options = (idempotencyKey: string, signal?: AbortSignal) => ({
    idempotencyKey,
    credentials,
    retryLimit: WRITE_RETRIES,
    deadline: budgetOf(WRITE_BUDGET_MS, signal),
  });
  return {
    client,
    credentials,
    url: config.url,
    create: (body, key) => client.createUser(body, options(key)),
    patch: (sub, patch, key) => client.patchUser(sub, patch, options(key)),
    remove: (sub, key, signal) => client.deleteUser(sub, options(key, signal)),
  };
};
