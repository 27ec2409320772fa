import { describe, expect, it, vi } from 'vitest';
import {
  apiKeyFromSecret,
  credentialSources,
  credentialsFrom,
  loadCredentials,
  secretIdsOf,
} from '../../src/clients/credentials.js';
import { SecretUnavailableError } from '../../src/errors.js';
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
