import { describe, expect, it } from 'vitest';
import { readConfig, readQueueConfig, readUserPoolId } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const base = { USER_SERVICE_URL: 'https://users.internal.example.com/api/v1/users' };

const errorOf = (env: Record<string, string>): ConfigError => {
  try {
    readConfig(env);
    readQueueConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('readConfig', () => {
  it('reads a minimal environment with the documented defaults', () => {
    expect(readConfig(base)).toEqual({
      userService: {
        url: new URL(base.USER_SERVICE_URL),
        timeoutMs: undefined,
      },
      syncDeadlineMs: 3500,
      userDefaults: { status: 'ACTIVE', role: 'USER' },
    });
  });

  it('reads every variable', () => {
    const env = {
      ...base,
      USER_SERVICE_TIMEOUT_MS: '900',
      SYNC_DEADLINE_MS: '3000',
      RETRY_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      DEFAULT_USER_STATUS: 'PENDING',
      DEFAULT_USER_ROLE: 'MEMBER',
    };
    expect(readConfig(env)).toMatchObject({
      userService: { timeoutMs: 900 },
      syncDeadlineMs: 3000,
      userDefaults: { status: 'PENDING', role: 'MEMBER' },
    });
    expect(readQueueConfig(env)).toEqual({
      retryQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry',
      deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(readConfig({ ...base, SYNC_DEADLINE_MS: '' }).syncDeadlineMs).toBe(3500);
    expect(readQueueConfig({ RETRY_QUEUE_URL: ' ' }).retryQueueUrl).toBeUndefined();
  });

  it.each(['http://localhost:3000/api/v1/users', 'http://127.0.0.1:3000/api/v1/users', 'http://[::1]:80/u'])(
    'allows plain http to the loopback host %s',
    (url) => {
      expect(readConfig({ USER_SERVICE_URL: url }).userService.url.href).toBe(new URL(url).href);
    },
  );

  it.each([
    [{}, 'USER_SERVICE_URL', /is not set/],
    [{ USER_SERVICE_URL: 'users/api' }, 'USER_SERVICE_URL', /not a valid absolute URL/],
    [{ USER_SERVICE_URL: 'http://users.example.com/api' }, 'USER_SERVICE_URL', /https/],
    [{ USER_SERVICE_URL: 'ftp://users.example.com/api' }, 'USER_SERVICE_URL', /https/],
    [{ USER_SERVICE_URL: 'https://u:p@users.example.com/api' }, 'USER_SERVICE_URL', /credentials/],
    [{ ...base, USER_SERVICE_URL: `${base.USER_SERVICE_URL}?x=1` }, 'USER_SERVICE_URL', /query string/],
    [{ ...base, SYNC_DEADLINE_MS: '3.5s' }, 'SYNC_DEADLINE_MS', /whole number/],
    [{ ...base, SYNC_DEADLINE_MS: '3900' }, 'SYNC_DEADLINE_MS', /between 200 and 3800/],
    [{ ...base, USER_SERVICE_TIMEOUT_MS: '0' }, 'USER_SERVICE_TIMEOUT_MS', /between/],
    [{ ...base, RETRY_QUEUE_URL: 'retry-queue' }, 'RETRY_QUEUE_URL', /valid absolute URL/],
    [{ ...base, DEAD_LETTER_QUEUE_URL: 'http://sqs.example.com/q' }, 'DEAD_LETTER_QUEUE_URL', /https/],
    [{ ...base, DEFAULT_USER_ROLE: 'power user' }, 'DEFAULT_USER_ROLE', /letters, digits/],
  ])('rejects %j with an error naming %s', (env, variable, message) => {
    const error = errorOf(env as Record<string, string>);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^${variable} `));
    expect(error.message).toMatch(message);
  });

  it('never repeats credentials found in a URL', () => {
    expect(errorOf({ USER_SERVICE_URL: 'https://admin:hunter2@users.example.com' }).message).not.toContain(
      'hunter2',
    );
  });
});

describe('readUserPoolId', () => {
  it.each([
    'eu-west-1_Qx7Lm2Rt9',
    'eusc-de-east-1_AbC123',
    'us-gov-west-1_AbC123',
    'cn-north-1_AbC123',
    'us-iso-east-1_AbC123',
    'us-isob-east-1_AbC123',
  ])('reads USER_POOL_ID=%s, a pool of any partition', (value) => {
    expect(readUserPoolId({ USER_POOL_ID: value })).toBe(value);
  });

  it.each([
    ['unset', {}],
    ['not a pool id', { USER_POOL_ID: 'Qx7Lm2Rt9' }],
    ['longer than a pool id', { USER_POOL_ID: `eu-west-1_${'a'.repeat(46)}` }],
  ])('refuses USER_POOL_ID %s, naming the variable', (_, env) => {
    expect(() => readUserPoolId(env)).toThrow(ConfigError);
    expect(() => readUserPoolId(env)).toThrow(/USER_POOL_ID/);
  });
});
