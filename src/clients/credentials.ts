// The User Service credentials: the API key and the Standard Webhooks signing keys. One loader for
// every sender. The Lambda functions get the raw secrets from @middy/secrets-manager (cached for
// the container); the command line, and a refresh after a 401/403, fetch them with
// GetSecretValue; both parse them here, into the same Credentials.

import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Env } from '../config.js';
import { SecretUnavailableError, SigningError } from '../errors.js';
import { isRecord } from '../guards.js';
import { parseSigningSecret, type SigningKey } from '../webhooks/signature.js';

export interface Credentials {
  /** Sent as `x-api-key`; undefined when none is configured. */
  apiKey: string | undefined;
  /** Standard Webhooks keys, current first: each attempt carries one signature per key. */
  signingKeys?: readonly SigningKey[];
  /** Loads the credentials again, past every cache (a secret may have been rotated). */
  refresh?: (signal?: AbortSignal) => Promise<Credentials>;
}

const parseJson = (value: string): unknown => {
  try {
    return JSON.parse(value);
  } catch {
    return value; // a plain value that happens to start with a brace
  }
};

// What an HTTP header value may hold (fetch refuses the rest: NUL, CR, LF, anything above U+00FF).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]+$/;

/**
 * The key to send, from a secret holding it as a plain string, as JSON `{"apiKey": "…"}`, or
 * during a rotation as JSON `{"current": "…", "previous": "…"}` (the User Service may read the
 * same secret to accept both; we send the current one). Parsed already or not.
 */
export const apiKeyFromSecret = (value: unknown, variable: string): string => {
  const parsed = typeof value === 'string' && value.trimStart().startsWith('{') ? parseJson(value) : value;
  let key: unknown = parsed;
  if (isRecord(parsed)) key = parsed.apiKey ?? parsed.current;
  if (typeof key !== 'string' || key.trim() === '') {
    throw new SecretUnavailableError(
      variable,
      'is neither a plain string nor JSON {"apiKey": "…"} or {"current": "…", "previous": "…"}',
    );
  }
  const trimmed = key.trim();
  // Found here rather than as a "network error" on every request fetch refuses to send.
  if (!HEADER_VALUE.test(trimmed)) {
    throw new SecretUnavailableError(
      variable,
      'is unusable: the key holds a character an HTTP header cannot carry (a line break, a control character or one beyond Latin-1)',
    );
  }
  return trimmed;
};

/**
 * A signing secret: `whsec_…`, several space-separated, or JSON `{"current", "previous"}` (which
 * @middy/secrets-manager hands over already parsed).
 */
export const signingKeysFromSecret = (value: unknown, variable: string): SigningKey[] => {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  try {
    return parseSigningSecret(text);
  } catch (error) {
    // The SigningError's message says what is wrong without quoting the secret.
    if (error instanceof SigningError)
      throw new SecretUnavailableError(variable, `is unusable: ${error.message}`);
    throw error;
  }
};

const SPECS = {
  apiKey: {
    variable: 'USER_SERVICE_API_KEY_SECRET_ID',
    localVariable: 'USER_SERVICE_API_KEY',
    parse: apiKeyFromSecret,
  },
  signingKeys: {
    variable: 'USER_SERVICE_SIGNING_SECRET_ID',
    localVariable: 'USER_SERVICE_SIGNING_SECRET',
    parse: signingKeysFromSecret,
  },
} as const;

export type CredentialName = keyof typeof SPECS;
const NAMES = Object.keys(SPECS) as CredentialName[];

/** Where one credential comes from: a Secrets Manager secret, a plain local value, or nowhere. */
export type CredentialSource = { secretId: string } | { local: string } | undefined;
export type CredentialSources = Readonly<Record<CredentialName, CredentialSource>>;

/**
 * Reads where the credentials come from; cannot fail. A secret id wins over a local value
 * (`USER_SERVICE_API_KEY`, `USER_SERVICE_SIGNING_SECRET`: local development only).
 */
export const credentialSources = (env: Env): CredentialSources => {
  const sourceOf = (name: CredentialName): CredentialSource => {
    const secretId = env[SPECS[name].variable]?.trim();
    if (secretId) return { secretId };
    const local = env[SPECS[name].localVariable]?.trim();
    return local ? { local } : undefined;
  };
  return { apiKey: sourceOf('apiKey'), signingKeys: sourceOf('signingKeys') };
};

/** The credentials to fetch from Secrets Manager, by name: @middy/secrets-manager's `fetchData`. */
export const secretIdsOf = (sources: CredentialSources): Partial<Record<CredentialName, string>> =>
  Object.fromEntries(
    NAMES.flatMap((name) => {
      const source = sources[name];
      return source && 'secretId' in source ? [[name, source.secretId]] : [];
    }),
  );

// The last parse of each raw value: a warm invocation gets the same cached secret object or
// string from @middy/secrets-manager, and need not decode the signing keys again.
const parsed = new Map<string, { raw: unknown; value: unknown }>();
const parseOnce = (name: CredentialName, variable: string, raw: unknown): unknown => {
  const key = `${name}\u0000${variable}`;
  const last = parsed.get(key);
  if (last !== undefined && last.raw === raw) return last.value;
  const value = SPECS[name].parse(raw, variable);
  parsed.set(key, { raw, value });
  return value;
};

/**
 * The credentials, from what was fetched for the secrets (settled: a failed fetch is named by its
 * variable) and the local values as they are. Throws a SecretUnavailableError naming the variable.
 */
export const credentialsFrom = (
  sources: CredentialSources,
  fetched: Partial<Record<CredentialName, PromiseSettledResult<unknown>>>,
): Credentials => {
  const credential = (name: CredentialName): unknown => {
    const source = sources[name];
    const { variable, localVariable } = SPECS[name];
    if (source === undefined) return undefined;
    if ('local' in source) return parseOnce(name, localVariable, source.local);
    const result = fetched[name];
    if (result === undefined) throw new SecretUnavailableError(variable, 'was not fetched');
    if (result.status === 'rejected') {
      if (result.reason instanceof SecretUnavailableError) throw result.reason;
      throw new SecretUnavailableError(variable, 'could not be read', result.reason);
    }
    return parseOnce(name, variable, result.value);
  };
  const apiKey = credential('apiKey') as string | undefined;
  const signingKeys = credential('signingKeys') as SigningKey[] | undefined;
  return { apiKey, ...(signingKeys && { signingKeys }) };
};

/** Fetches one secret's value with GetSecretValue. */
export type SecretGetter = (secretId: string) => Promise<unknown>;

export const secretsManagerGetter =
  (client: () => SecretsManagerClient, options: { abortSignal?: () => AbortSignal } = {}): SecretGetter =>
  async (secretId) => {
    const { SecretString } = await client().send(
      new GetSecretValueCommand({ SecretId: secretId }),
      options.abortSignal ? { abortSignal: options.abortSignal() } : {},
    );
    return SecretString;
  };

/** Loads the credentials: every secret fetched with `getSecret`, the local values as they are. */
export const loadCredentials = async (
  sources: CredentialSources,
  getSecret: SecretGetter,
): Promise<Credentials> => {
  const ids = secretIdsOf(sources);
  const names = Object.keys(ids) as CredentialName[];
  const settled = await Promise.allSettled(names.map((name) => getSecret(ids[name] as string)));
  return credentialsFrom(sources, Object.fromEntries(names.map((name, index) => [name, settled[index]])));
};

/** Whether any credential comes from Secrets Manager (and so can be refreshed). */
export const hasSecrets = (sources: CredentialSources): boolean =>
  Object.keys(secretIdsOf(sources)).length > 0;
