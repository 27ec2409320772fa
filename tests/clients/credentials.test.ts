import { describe, expect, it, vi } from 'vitest';
import {
  apiKeyFromSecret,
  credentialSources,
  credentialsFrom,
  loadCredentials,
  secretIdsOf,
} from '../../src/clients/credentials.js';
import { describeError, SecretUnavailableError } from '../../src/errors.js';
import { parseSigningSecret, sign } from '../../src/webhooks/signature.js';

const CURRENT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PREVIOUS = 'whsec_bm90LXRoZS1jdXJyZW50LWtleS1hdC1hbGwtMTIzNDU2';

/** Which key it is, by what it signs. */
const fingerprint = (key: Parameters<typeof sign>[0]['key']) =>
  sign({ id: 'msg_x', timestamp: 1, body: '', key });

describe('credentialSources', () => {
  it('prefers a secret id to a local value, and ignores empty variables', () => {
    expect(
      credentialSources({
        USER_SERVICE_API_KEY_SECRET_ID: ' user-service/api-key ',
        USER_SERVICE_API_KEY: 'local',
        USER_SERVICE_SIGNING_SECRET_ID: '',
        USER_SERVICE_SIGNING_SECRET: CURRENT,
      }),
    ).toEqual({ apiKey: { secretId: 'user-service/api-key' }, signingKeys: { local: CURRENT } });
    expect(credentialSources({})).toEqual({ apiKey: undefined, signingKeys: undefined });
  });

  it('names the secrets to fetch, for @middy/secrets-manager', () => {
    const sources = credentialSources({
      USER_SERVICE_API_KEY_SECRET_ID: 'a',
      USER_SERVICE_SIGNING_SECRET: CURRENT,
    });

    expect(secretIdsOf(sources)).toEqual({ apiKey: 'a' });
  });
});

describe('credentialsFrom', () => {
  const sources = credentialSources({
    USER_SERVICE_API_KEY_SECRET_ID: 'api-key',
    USER_SERVICE_SIGNING_SECRET_ID: 'signing',
  });

  it('parses what was fetched: the key, and the signing keys current first', () => {
    const credentials = credentialsFrom(sources, {
      apiKey: { status: 'fulfilled', value: { apiKey: 'k-json' } },
      signingKeys: { status: 'fulfilled', value: { current: CURRENT, previous: PREVIOUS } },
    });

    expect(credentials.apiKey).toBe('k-json');
    expect(credentials.signingKeys?.map(fingerprint)).toEqual(
      parseSigningSecret(`${CURRENT} ${PREVIOUS}`).map(fingerprint),
    );
  });

  it('names the variable of a secret that could not be fetched, keeping the cause', () => {
    const act = () =>
      credentialsFrom(sources, {
        apiKey: { status: 'fulfilled', value: 'k' },
        signingKeys: { status: 'rejected', reason: new Error('AccessDeniedException') },
      });

    expect(act).toThrow(SecretUnavailableError);
    expect(act).toThrow(/USER_SERVICE_SIGNING_SECRET_ID could not be read/);
  });

  /** An error as the AWS SDK raises it for an answer of AWS's: its name, AWS's words, `$metadata`. */
  const awsError = (name: string, message: string) =>
    Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });

  it.each([
    [
      'access denied',
      awsError(
        'AccessDeniedException',
        'User: arn:aws:sts::123456789012:assumed-role/ops/ada.lovelace@example.com is not authorized to perform: secretsmanager:GetSecretValue',
      ),
      '(AccessDeniedException)',
    ],
    [
      'no such secret (another region)',
      awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
      '(ResourceNotFoundException)',
    ],
    [
      'expired credentials',
      awsError('ExpiredTokenException', 'The security token included in the request is expired'),
      '(ExpiredTokenException)',
    ],
    [
      'no credentials',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      '(CredentialsProviderError)',
    ],
    ['no region', new Error('Region is missing'), '(no AWS region: Region is missing)'],
    [
      'no connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }),
      '(ECONNREFUSED)',
    ],
  ])(
    "says why a secret could not be read, by the error's name or code and never its words: %s",
    (_, reason, why) => {
      let error: unknown;
      try {
        credentialsFrom(sources, {
          apiKey: { status: 'rejected', reason },
          signingKeys: { status: 'fulfilled', value: CURRENT },
        });
      } catch (thrown) {
        error = thrown;
      }

      expect(error).toBeInstanceOf(SecretUnavailableError);
      expect((error as Error).message).toBe(
        `The secret named by USER_SERVICE_API_KEY_SECRET_ID could not be read ${why}`,
      );
      expect((error as Error).cause).toBe(reason);
      // What a function's log line says of it: the same, and nothing of AWS's own words (an ARN, a name).
      const logged = describeError(error);
      expect(logged).toMatchObject({ errorMessage: (error as Error).message, causeName: reason.name });
      expect(JSON.stringify(logged)).not.toContain('ada.lovelace');
      expect(JSON.stringify(logged)).not.toContain('123456789012');
    },
  );

  it('names the variable of a secret that cannot be used, without quoting it', () => {
    const act = () =>
      credentialsFrom(sources, {
        apiKey: { status: 'fulfilled', value: 'k' },
        signingKeys: { status: 'fulfilled', value: 'hunter2' },
      });

    expect(act).toThrow(/USER_SERVICE_SIGNING_SECRET_ID is unusable/);
    expect(act).not.toThrow(/hunter2/);
  });

  it('uses local values as they are, and names their variable when they are bad', () => {
    expect(credentialsFrom(credentialSources({ USER_SERVICE_API_KEY: 'local-key' }), {})).toEqual({
      apiKey: 'local-key',
    });
    expect(() =>
      credentialsFrom(credentialSources({ USER_SERVICE_SIGNING_SECRET: 'not-a-whsec' }), {}),
    ).toThrow(/USER_SERVICE_SIGNING_SECRET is unusable/);
  });
});

describe('loadCredentials', () => {
  it('fetches each secret once with the getter it is given', async () => {
    const getSecret = vi.fn(async (id: string) => (id === 'api-key' ? 'k' : CURRENT));

    const credentials = await loadCredentials(
      credentialSources({
        USER_SERVICE_API_KEY_SECRET_ID: 'api-key',
        USER_SERVICE_SIGNING_SECRET_ID: 'signing',
      }),
      getSecret,
    );

    expect(credentials.apiKey).toBe('k');
    expect(credentials.signingKeys).toHaveLength(1);
    expect(getSecret.mock.calls).toEqual([['api-key'], ['signing']]);
  });

  it('fetches nothing when nothing is a secret', async () => {
    const getSecret = vi.fn();

    await expect(loadCredentials(credentialSources({}), getSecret)).resolves.toEqual({ apiKey: undefined });
    expect(getSecret).not.toHaveBeenCalled();
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
