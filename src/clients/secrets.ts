// The User Service credentials as secrets hold them: the API key and the signing secret, read the
// same way by the Lambda functions (via @middy/secrets-manager) and by the command line.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseSigningSecret, SigningError, type SigningKey } from '../webhooks/signature.js';
import type { Credentials } from './user-service.js';

export class SecretUnavailableError extends Error {
  override name = 'SecretUnavailableError';
  readonly variable: string;

  constructor(variable: string, problem: string, cause?: unknown) {
    super(`The secret named by ${variable} ${problem}`, {
      cause: cause ?? { package: 'cognito-user-sync', data: { variable } },
    });
    this.variable = variable;
  }
}

const parseJson = (value: string): unknown => {
  try {
    return JSON.parse(value);
  } catch {
    return value; // a plain value that happens to start with a brace
  }
};

/**
 * The key to send, from a secret holding it as a plain string, as JSON `{"apiKey": "…"}`, or
 * during a rotation as JSON `{"current": "…", "previous": "…"}` (the User Service may read the
 * same secret to accept both; we send the current one). Parsed already or not.
 */
export const apiKeyFromSecret = (value: unknown, variable: string): string => {
  const parsed = typeof value === 'string' && value.trimStart().startsWith('{') ? parseJson(value) : value;
  if (typeof parsed === 'string' && parsed.trim() !== '') return parsed.trim();
  if (typeof parsed === 'object' && parsed !== null) {
    const { apiKey, current } = parsed as { apiKey?: unknown; current?: unknown };
    const key = apiKey ?? current;
    if (typeof key === 'string' && key.trim() !== '') return key.trim();
  }
  throw new SecretUnavailableError(
    variable,
    'is neither a plain string nor JSON {"apiKey": "…"} or {"current": "…", "previous": "…"}',
  );
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

export interface SecretSpec<T> {
  /** The variable naming the Secrets Manager secret. */
  variable: string;
  /** The variable holding the value itself, for local runs. */
  localVariable: string;
  /** Where the middleware puts it on the Lambda context. */
  contextKey: 'apiKey' | 'signingKeys';
  parse: (value: unknown, variable: string) => T;
}

export const SECRETS = {
  apiKey: {
    variable: 'USER_SERVICE_API_KEY_SECRET_ID',
    localVariable: 'USER_SERVICE_API_KEY',
    contextKey: 'apiKey',
    parse: (value, variable) => apiKeyFromSecret(value, variable),
  } satisfies SecretSpec<string>,
  signingKeys: {
    variable: 'USER_SERVICE_SIGNING_SECRET_ID',
    localVariable: 'USER_SERVICE_SIGNING_SECRET',
    contextKey: 'signingKeys',
    parse: (value, variable) => signingKeysFromSecret(value, variable),
  } satisfies SecretSpec<SigningKey[]>,
};

/** For the command line: each secret named by its id, else its local value, else none. */
export const resolveCredentials = async (
  env: Readonly<Record<string, string | undefined>> = process.env,
  client: () => SecretsManagerClient = () => new SecretsManagerClient({}),
): Promise<Credentials> => {
  const resolve = async <T>(spec: SecretSpec<T>): Promise<T | undefined> => {
    const secretId = env[spec.variable]?.trim();
    if (!secretId) {
      const local = env[spec.localVariable]?.trim();
      return local ? spec.parse(local, spec.localVariable) : undefined;
    }
    try {
      const { SecretString } = await client().send(new GetSecretValueCommand({ SecretId: secretId }));
      return spec.parse(SecretString, spec.variable);
    } catch (error) {
      if (error instanceof SecretUnavailableError) throw error;
      throw new SecretUnavailableError(spec.variable, 'could not be read', error);
    }
  };
  const [apiKey, signingKeys] = await Promise.all([resolve(SECRETS.apiKey), resolve(SECRETS.signingKeys)]);
  return { apiKey, ...(signingKeys && { signingKeys }) };
};
