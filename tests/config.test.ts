import { describe, expect, it, vi } from 'vitest';
import {
  configOnce,
  LIST_USERS_RPS,
  numberIn,
  oneOf,
  parsePoolId,
  parseQueueUrl,
  parseSlices,
  parseStatuses,
  parseTableName,
  partOf,
  RECONCILE_CONFIG,
  readChangesQueues,
  readConfig,
  readParts,
  readQueueConfig,
  readUserPoolId,
  readWorkerQueues,
  wholeOf,
} from '../src/config.js';
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

describe('the parsers, one per kind of value', () => {
  it.each([
    ['RECONCILE_MAX_RPS', '--max-rps'],
    ['SYNC_USER_STATUSES', '--status'],
  ])('checks a variable (%s) and a flag (%s) of one kind in the same words', (variable, flag) => {
    const parse = variable === 'RECONCILE_MAX_RPS' ? numberIn(LIST_USERS_RPS) : parseStatuses;
    const problem = (name: string) => {
      try {
        parse(name, 'lots');
      } catch (error) {
        return (error as ConfigError).message.slice(name.length);
      }
      throw new Error('expected a ConfigError');
    };

    expect(problem(flag)).toBe(problem(variable));
  });

  it.each([
    [numberIn({ min: 1, max: 64 }), '8', 8],
    [numberIn(LIST_USERS_RPS), '0.2', 0.2],
    [numberIn({ min: 0 }), '500', 500],
    [parseSlices, '256', 2],
    [parsePoolId, 'eu-west-1_Qx7Lm2Rt9', 'eu-west-1_Qx7Lm2Rt9'],
    [
      parseTableName,
      'arn:aws:dynamodb:eu-west-1:123456789012:table/runs',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/runs',
    ],
    [
      parseQueueUrl,
      'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
      'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
    ],
  ])('reads a good value (%#)', (parse, raw, value) => {
    expect((parse as (name: string, raw: string) => unknown)('X', raw)).toEqual(value);
  });

  it.each([
    [numberIn({ min: 1, max: 64 }), '1e1', /^--n must be a whole number between 1 and 64, got "1e1"$/],
    [numberIn({ min: 1, max: 64 }), '-3', /whole number between 1 and 64/],
    [numberIn({ min: 1 }), '0', /^--n must be a whole number, at least 1, got "0"$/],
    [numberIn(LIST_USERS_RPS), '30', /a number of ListUsers requests a second between 0.2 and 25/],
    [parseSlices, '8', /must be 1, 16, 256 or 4096, got "8"/],
    [parsePoolId, 'Qx7Lm2Rt9', /is not a user pool id/],
    [parseTableName, 'no', /is not a DynamoDB table name or ARN/],
    [oneOf(['table', 'json']), 'yaml', /must be table or json, got "yaml"/],
    [parseQueueUrl, 'https://sqs.eu-west-1.amazonaws.com/my-queue', /is not an SQS queue URL/],
    [parseQueueUrl, 'https://example.com/', /is not an SQS queue URL/],
    [parseQueueUrl, 'https://sqs.eu-west-1.amazonaws.com/123456789012/q?x=1', /is not an SQS queue URL/],
  ])('refuses a bad value, naming what it parses (%#)', (parse, raw, message) => {
    expect(() => (parse as (name: string, raw: string) => unknown)('--n', raw)).toThrow(message);
  });
});

describe('the queue pairs', () => {
  it.each([
    [readWorkerQueues, 'RETRY_QUEUE_URL', 'DEAD_LETTER_QUEUE_URL'],
    [readChangesQueues, 'CHANGES_QUEUE_URL', 'CHANGES_DEAD_LETTER_QUEUE_URL'],
  ])('reads both, and names the one missing or invalid (%#)', (read, queue, deadLetter) => {
    const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';

    expect(read({ [queue]: url, [deadLetter]: `${url}-dlq` })).toEqual({
      retryQueueUrl: url,
      deadLetterQueueUrl: `${url}-dlq`,
    });
    expect(() => read({ [queue]: url })).toThrow(new RegExp(`^${deadLetter} is not set`));
    expect(() => read({ [queue]: 'q', [deadLetter]: url })).toThrow(new RegExp(`^${queue} is not a valid`));
  });
});

describe('a function configuration', () => {
  const env = {
    USER_POOL_ID: 'eu-west-1_Qx7Lm2Rt9',
    RECONCILE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/reconcile',
    CHANGES_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/changes',
    RECONCILE_TABLE_NAME: 'runs',
    USER_SERVICE_URL: 'https://users.internal.example.com/api/v1/users',
  };

  it('is one typed object, with the documented defaults', () => {
    expect(wholeOf(readParts(RECONCILE_CONFIG, env))).toMatchObject({
      userPoolId: 'eu-west-1_Qx7Lm2Rt9',
      statuses: new Set(['CONFIRMED', 'EXTERNAL_PROVIDER', 'FORCE_CHANGE_PASSWORD', 'RESET_REQUIRED']),
      userDefaults: { status: 'ACTIVE', role: 'USER' },
      disabledStatus: 'DISABLED',
      tableName: 'runs',
      maxRps: 5,
      maxDeletes: 10,
      sliceDigits: undefined,
      userService: { url: new URL(env.USER_SERVICE_URL), timeoutMs: undefined },
    });
  });

  it('keeps the valid parts when one is not, and raises the first invalid one', () => {
    const reading = readParts(RECONCILE_CONFIG, { ...env, RECONCILE_MAX_RPS: '0', RECONCILE_SLICES: '3' });

    expect(reading.whole).toBeUndefined();
    expect(reading.parts.tableName).toBe('runs');
    expect(() => wholeOf(reading)).toThrow(/^RECONCILE_MAX_RPS must be a number/);
    expect(() => partOf(reading, 'sliceDigits')).toThrow(/^RECONCILE_SLICES /);
    expect(partOf(reading, 'userPoolId')).toBe('eu-west-1_Qx7Lm2Rt9');
  });

  it('is read once when valid, by configOnce, and nothing is read before it is asked for', () => {
    const get = vi.fn((name: string) => (env as Record<string, string>)[name]);
    const proxied = new Proxy({}, { get: (_, name) => get(String(name)) });

    const config = configOnce(RECONCILE_CONFIG, proxied);
    const readsBefore = get.mock.calls.length;
    const first = config();
    const readsOnce = get.mock.calls.length;
    const second = config();

    expect(readsBefore).toBe(0);
    expect(second).toBe(first);
    expect(get.mock.calls.length).toBe(readsOnce);
  });

  it('is read again at every call while a value is invalid, and kept once fixed', () => {
    const current: Record<string, string> = { ...env, USER_POOL_ID: 'nope' };
    const config = configOnce(RECONCILE_CONFIG, new Proxy({}, { get: (_, name) => current[String(name)] }));

    expect(() => wholeOf(config())).toThrow(/^USER_POOL_ID is not a user pool id/);
    expect(() => wholeOf(config())).toThrow(/^USER_POOL_ID is not a user pool id/);
    current.USER_POOL_ID = 'eu-west-1_Qx7Lm2Rt9';
    const fixed = config();
    current.USER_POOL_ID = 'nope';

    expect(wholeOf(fixed).userPoolId).toBe('eu-west-1_Qx7Lm2Rt9');
    expect(config()).toBe(fixed);
  });
});
