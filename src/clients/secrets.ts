// The User Service API key as a secret holds it, read the same way by the Lambda functions (via
// @middy/secrets-manager) and by the command line (directly).

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const API_KEY_SECRET_VARIABLE = 'USER_SERVICE_API_KEY_SECRET_ID';

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

/** A secret holds the key as a plain string or as JSON `{"apiKey": "…"}` (already parsed or not). */
export const apiKeyFromSecret = (value: unknown): string => {
  let parsed = value;
  if (typeof value === 'string' && value.trimStart().startsWith('{')) {
    try {
      parsed = JSON.parse(value);
    } catch {
      // a plain key that happens to start with a brace
    }
  }
  if (typeof parsed === 'string' && parsed.trim() !== '') return parsed.trim();
  if (typeof parsed === 'object' && parsed !== null) {
    const { apiKey } = parsed as { apiKey?: unknown };
    if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim();
  }
  throw new SecretUnavailableError(
    API_KEY_SECRET_VARIABLE,
    'is neither a plain string nor JSON {"apiKey": "…"}',
  );
};

/** For the command line: the key named by the secret id, or the plain key, or none. */
export const resolveApiKey = async (
  { apiKeySecretId, apiKey }: { apiKeySecretId: string | undefined; apiKey: string | undefined },
  client: () => SecretsManagerClient = () => new SecretsManagerClient({}),
): Promise<string | undefined> => {
  if (apiKeySecretId === undefined) return apiKey;
  try {
    const { SecretString } = await client().send(new GetSecretValueCommand({ SecretId: apiKeySecretId }));
    return apiKeyFromSecret(SecretString);
  } catch (error) {
    if (error instanceof SecretUnavailableError) throw error;
    throw new SecretUnavailableError(API_KEY_SECRET_VARIABLE, 'could not be read', error);
  }
};
