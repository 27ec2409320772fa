// Configuration: each function's variables, read into one typed object once per container, at
// its first invocation (never at import: fail-open cannot catch an import error). An invalid value
// is a ConfigError naming the variable, raised inside the invocation, and never kept: it fails every
// invocation until it is fixed. One parser per kind of value (a URL, a number in a range, a token,
// statuses, a pool id, a table name), which the command line's flags use too.

import {
  COGNITO_USER_STATUSES,
  DEFAULT_SYNCED_STATUSES,
  type UserDefaults,
  type UserPolicy,
} from './domain/user-policy.js';
import { parseUserPoolId, USER_POOL_ID_MAX_LENGTH } from './domain/user-pool-id.js';
import { ConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

// ---------------------------------------------------------------------------------------------
// One parser per kind of value: a variable and a flag of the same kind are checked by the same
// code, in the same words. Each throws a ConfigError naming what it parses (a variable or a flag).
// Each is its own export, so that a zip bundles only the kinds its function reads.

/** Parses a value of one kind; `name` is the variable (or flag) it came from, for the error. */
export type Parser<T> = (name: string, raw: string) => T;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Loopback is where the dev User Service and the tests live; nothing else may use plain http. */
export const isLoopbackHost = (hostname: string): boolean =>
  LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);

/** An absolute https:// URL (plain http:// to loopback only), without credentials. */
export const parseUrl: Parser<URL> = (name, raw) => {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid absolute URL');
  }
  if (parsed.username || parsed.password) {
    throw new ConfigError(name, 'must not carry credentials: they belong in a secret');
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return parsed;
  if (parsed.protocol === 'http:') {
    throw new ConfigError(
      name,
      `must use https:// (plain http:// is allowed for loopback hosts only), got host ${parsed.host}`,
    );
  }
  throw new ConfigError(name, `must be an https:// URL, got ${parsed.protocol}`);
};

export interface NumberRange {
  min: number;
  /** Unbounded when left out. */
  max?: number;
  /** Whole numbers only (the default). */
  integer?: boolean;
  /** What the number counts, for the error: "milliseconds", "ListUsers requests a second". */
  unit?: string;
}

const range = ({ min, max }: NumberRange) =>
  max === undefined ? `, at least ${min}` : ` between ${min} and ${max}`;

const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * A queue's URL (SQS takes it as a string): `https://sqs.<region>.amazonaws.com/<account>/<queue>`
 * or a VPC endpoint's host, the path always the account's 12 digits and the queue's name (SQS
 * developer guide, "Amazon SQS queue and message identifiers": 1 to 80 letters, digits, - and _,
 * `.fifo` for a FIFO queue). A URL of another shape is named as the malformed queue URL it is,
 * before any call fails for a reason that hides it.
 */
export const parseQueueUrl: Parser<string> = (name, raw) => {
  const parsed = parseUrl(name, raw);
  if (!/^\/\d{12}\/[\w-]{1,80}(?:\.fifo)?$/.test(parsed.pathname) || parsed.search || parsed.hash) {
    throw new ConfigError(
      name,
      `is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got "${raw}"`,
    );
  }
  return parsed.href;
};

/** The User Service's collection URL: a URL, and no query string or fragment. */
export const parseCollectionUrl: Parser<URL> = (name, raw) => {
  const parsed = parseUrl(name, raw);
  if (parsed.search || parsed.hash) throw new ConfigError(name, 'must not have a query string or fragment');
  return parsed;
};

/** A number in a range, written in decimal digits (no sign, no exponent, no unit). */
export const numberIn =
  (bounds: NumberRange): Parser<number> =>
  (name, raw) => {
    const { min, max = Number.POSITIVE_INFINITY, integer = true, unit } = bounds;
    const value = Number(raw);
    if (!(integer ? /^\d+$/ : DECIMAL).test(raw) || value < min || value > max) {
      const kind = `${integer ? 'a whole number' : 'a number'}${unit ? ` of ${unit}` : ''}`;
      throw new ConfigError(name, `must be ${kind}${range(bounds)}, got "${raw}"`);
    }
    return value;
  };

/** A short label the User Service stores: a status, a role. */
export const parseToken: Parser<string> = (name, raw) => {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(raw)) {
    throw new ConfigError(name, `must be 1 to 64 letters, digits or _ . : -, got "${raw}"`);
  }
  return raw;
};

/** A comma-separated list of Cognito user statuses. */
export const parseStatuses: Parser<ReadonlySet<string>> = (name, raw) => {
  const statuses = raw
    .split(',')
    .map((status) => status.trim().toUpperCase())
    .filter(Boolean);
  const unknown = statuses.filter((status) => !(COGNITO_USER_STATUSES as readonly string[]).includes(status));
  if (statuses.length === 0 || unknown.length > 0) {
    throw new ConfigError(
      name,
      `must list Cognito user statuses, comma-separated, of ${COGNITO_USER_STATUSES.join(', ')}; got "${raw}"`,
    );
  }
  return new Set(statuses);
};

/** A user pool's id, read as src/domain/user-pool-id.ts reads every one. */
export const parsePoolId: Parser<string> = (name, raw) => {
  if (parseUserPoolId(raw) === undefined) {
    throw new ConfigError(
      name,
      `is not a user pool id (region_id, at most ${USER_POOL_ID_MAX_LENGTH} characters, e.g. eu-west-1_Qx7Lm2Rt9), got "${raw}"`,
    );
  }
  return raw;
};

/** A DynamoDB table's name (API reference, CreateTable: 3 to 255 of a-z, A-Z, 0-9, _ - .), or its ARN. */
export const parseTableName: Parser<string> = (name, raw) => {
  if (!/^(?:[\w.-]{3,255}|arn:[\w-]+:dynamodb:[\w-]+:\d{12}:table\/[\w.-]{3,255})$/.test(raw)) {
    throw new ConfigError(name, `is not a DynamoDB table name or ARN, got "${raw}"`);
  }
  return raw;
};

/** How many slices reconcile cuts the sub space into, as the hex digits of their prefixes. */
export const parseSlices: Parser<number> = (name, raw) => {
  const digits = SLICE_DIGITS[raw];
  if (digits === undefined) throw new ConfigError(name, `must be 1, 16, 256 or 4096, got "${raw}"`);
  return digits;
};

/** One of a few words. */
export const oneOf =
  <T extends string>(choices: readonly T[]): Parser<T> =>
  (name, raw) => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new ConfigError(name, `must be ${choices.join(' or ')}, got "${raw}"`);
    }
    return raw as T;
  };

const SLICE_DIGITS: Readonly<Record<string, number>> = { '1': 0, '16': 1, '256': 2, '4096': 3 };

// ---------------------------------------------------------------------------------------------
// Variables: each read with its kind's parser.

/** A variable's value, trimmed; undefined when unset or blank. */
const rawValue = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value ? value : undefined;
};

/** A variable parsed by its kind's parser; the fallback when it is unset (or blank). */
export function readVariable<T>(env: Env, name: string, parse: Parser<T>): T | undefined;
export function readVariable<T>(env: Env, name: string, parse: Parser<T>, fallback: T): T;
export function readVariable<T>(env: Env, name: string, parse: Parser<T>, fallback?: T): T | undefined {
  const raw = rawValue(env, name);
  return raw === undefined ? fallback : parse(name, raw);
}

/** A variable that must be set; `why` says what it is for. */
const required = <T>(env: Env, name: string, parse: Parser<T>, why: string): T => {
  const value = readVariable(env, name, parse);
  if (value === undefined) throw new ConfigError(name, `is not set: ${why}`);
  return value;
};

export const defaults = {
  syncDeadlineMs: 3500,
  userStatus: 'ACTIVE',
  userRole: 'USER',
  disabledUserStatus: 'DISABLED',
  listUsersRps: 5,
  maxDeletes: 10,
} as const;

/** Cognito waits 5 s for the trigger, cold start included. */
export const COGNITO_TRIGGER_TIMEOUT_MS = 5000;
/**
 * The post-confirmation handler's last guard (middy's timeoutEarlyInMillis) ends it this long
 * before Lambda's 5 s timeout; the deadline must fall before that guard.
 */
export const TIMEOUT_EARLY_MS = 1000;
export const MAX_SYNC_DEADLINE_MS = COGNITO_TRIGGER_TIMEOUT_MS - TIMEOUT_EARLY_MS - 200;

/** ListUsers requests a second: the quota is 30 per account and region, shared with everything else. */
export const LIST_USERS_RPS: NumberRange = {
  min: 0.2,
  max: 25,
  integer: false,
  unit: 'ListUsers requests a second',
};
/** Deletions one reconcile run may make. */
export const MAX_DELETES: NumberRange = { min: 0, max: 1000, unit: 'deletions' };

export interface UserServiceConfig {
  /** Full collection URL, e.g. https://users.internal.example.com/api/v1/users */
  url: URL;
  /**
   * Upper bound of one attempt; unset by default, so that an attempt may use all that is left of
   * the deadline: a User Service that is slow but healthy is synced on the first attempt instead
   * of being cut short, retried (doubling its load) and queued.
   */
  timeoutMs: number | undefined;
}

// The credentials (USER_SERVICE_API_KEY_SECRET_ID / USER_SERVICE_API_KEY and
// USER_SERVICE_SIGNING_SECRET_ID / USER_SERVICE_SIGNING_SECRET) are read where they are loaded:
// src/clients/credentials.ts.

export const readUserServiceConfig = (env: Env = process.env): UserServiceConfig => ({
  url: required(
    env,
    'USER_SERVICE_URL',
    parseCollectionUrl,
    'give the full collection URL, e.g. https://users.internal.example.com/api/v1/users',
  ),
  timeoutMs: readVariable(
    env,
    'USER_SERVICE_TIMEOUT_MS',
    numberIn({ min: 50, max: 30_000, unit: 'milliseconds' }),
  ),
});

export const readSyncDeadlineMs = (env: Env = process.env): number =>
  readVariable(
    env,
    'SYNC_DEADLINE_MS',
    numberIn({ min: 200, max: MAX_SYNC_DEADLINE_MS, unit: 'milliseconds' }),
    defaults.syncDeadlineMs,
  );

export const readUserDefaults = (env: Env = process.env): UserDefaults => ({
  status: readVariable(env, 'DEFAULT_USER_STATUS', parseToken, defaults.userStatus),
  role: readVariable(env, 'DEFAULT_USER_ROLE', parseToken, defaults.userRole),
});

const readSyncStatuses = (env: Env): ReadonlySet<string> =>
  readVariable(env, 'SYNC_USER_STATUSES', parseStatuses, new Set(DEFAULT_SYNCED_STATUSES));

const readDisabledStatus = (env: Env): string =>
  readVariable(env, 'DISABLED_USER_STATUS', parseToken, defaults.disabledUserStatus);

/** The user policy: SYNC_USER_STATUSES, DEFAULT_USER_STATUS, DEFAULT_USER_ROLE, DISABLED_USER_STATUS. */
export const readUserPolicy = (env: Env = process.env): UserPolicy => ({
  statuses: readSyncStatuses(env),
  userDefaults: readUserDefaults(env),
  disabledStatus: readDisabledStatus(env),
});

/** The pool the user-changes function and reconcile serve: USER_POOL_ID. */
export const readUserPoolId = (env: Env = process.env): string =>
  required(env, 'USER_POOL_ID', parsePoolId, 'the id of the user pool to keep in step');

/** The trigger's queues, each optional: without them a user that cannot be synced is dropped. */
export interface QueueConfig {
  retryQueueUrl: string | undefined;
  deadLetterQueueUrl: string | undefined;
}

export const readQueueConfig = (env: Env = process.env): QueueConfig => ({
  retryQueueUrl: readVariable(env, 'RETRY_QUEUE_URL', parseQueueUrl),
  deadLetterQueueUrl: readVariable(env, 'DEAD_LETTER_QUEUE_URL', parseQueueUrl),
});

/** A consumer's queue and its dead-letter queue: it defers on one and dead-letters to the other. */
export interface WorkerQueues {
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
}

const queuePair =
  (queue: string, deadLetter: string, consumer: string) =>
  (env: Env = process.env): WorkerQueues => ({
    retryQueueUrl: required(env, queue, parseQueueUrl, `the ${consumer} defers messages on it`),
    deadLetterQueueUrl: required(
      env,
      deadLetter,
      parseQueueUrl,
      `the ${consumer} dead-letters refused messages to it`,
    ),
  });

/** The retry worker's: RETRY_QUEUE_URL and DEAD_LETTER_QUEUE_URL. */
export const readWorkerQueues = /* @__PURE__ */ queuePair(
  'RETRY_QUEUE_URL',
  'DEAD_LETTER_QUEUE_URL',
  'retry worker',
);
/** The user-changes function's: CHANGES_QUEUE_URL and CHANGES_DEAD_LETTER_QUEUE_URL. */
export const readChangesQueues = /* @__PURE__ */ queuePair(
  'CHANGES_QUEUE_URL',
  'CHANGES_DEAD_LETTER_QUEUE_URL',
  'user-changes function',
);

// ---------------------------------------------------------------------------------------------
// A function's configuration, in parts: a part is one variable or a few that go together, valid
// or not on its own, so that a function can still use the valid ones (the trigger queues a user
// with a body when USER_SERVICE_URL is wrong; a consumer defers its batch on its queues).

/** How each part of a configuration is read. */
export type PartReaders<T> = { readonly [K in keyof T]-?: (env: Env) => T[K] };

/** A configuration as read: the whole when every part is valid; else the valid parts, and why each other is not. */
export interface ConfigReading<T> {
  whole: T | undefined;
  parts: Partial<T>;
  /** Each invalid part's ConfigError, in the order the parts are declared. */
  errors: Partial<Record<keyof T, unknown>>;
}

/** Reads every part; never throws. */
export const readParts = <T>(readers: PartReaders<T>, env: Env): ConfigReading<T> => {
  const parts: Partial<T> = {};
  const errors: Partial<Record<keyof T, unknown>> = {};
  let valid = true;
  for (const key of Object.keys(readers) as (keyof T)[]) {
    try {
      parts[key] = readers[key](env);
    } catch (error) {
      errors[key] = error;
      valid = false;
    }
  }
  return { whole: valid ? (parts as T) : undefined, parts, errors };
};

/** The first error of the parts named (of every part, by default), in their declared order. */
export const firstError = <T>(reading: ConfigReading<T>, keys?: readonly (keyof T)[]): unknown => {
  for (const [key, error] of Object.entries(reading.errors)) {
    if (keys === undefined || keys.includes(key as keyof T)) return error;
  }
  return undefined;
};

/** The whole configuration; else the first invalid part's error, thrown. */
export const wholeOf = <T>(reading: ConfigReading<T>): T => {
  if (reading.whole !== undefined) return reading.whole;
  throw firstError(reading);
};

/** One part; else its error, thrown. */
export const partOf = <T, K extends keyof T>(reading: ConfigReading<T>, key: K): T[K] => {
  if (key in reading.errors) throw reading.errors[key];
  return reading.parts[key] as T[K];
};

/**
 * A function's configuration, once per container: nothing is read when this is made; the first
 * invocation reads it, and once it is valid it is kept for the container's life (Lambda's
 * environment never changes). While a value is invalid it is read again at every invocation,
 * never kept: it fails each one, inside it, until it is fixed.
 */
export const configOnce = <T>(readers: PartReaders<T>, env: Env): (() => ConfigReading<T>) => {
  let kept: ConfigReading<T> | undefined;
  return () => {
    if (kept !== undefined) return kept;
    const reading = readParts(readers, env);
    if (reading.whole !== undefined) kept = reading;
    return reading;
  };
};

/** What a sync needs up front. */
export interface Config {
  userService: UserServiceConfig;
  /** Time from the start of an invocation by which the event is returned to Cognito. */
  syncDeadlineMs: number;
  userDefaults: UserDefaults;
}

/** The sync's configuration alone, read now; throws the first invalid variable's ConfigError. */
export const readConfig = (env: Env = process.env): Config => ({
  userService: readUserServiceConfig(env),
  syncDeadlineMs: readSyncDeadlineMs(env),
  userDefaults: readUserDefaults(env),
});

/** The post-confirmation trigger: a sync, the user policy, and the queues it queues a user on. */
export interface PostConfirmationConfig extends Config, UserPolicy {
  queues: QueueConfig;
}

export const POST_CONFIRMATION_CONFIG: PartReaders<PostConfirmationConfig> = {
  userService: readUserServiceConfig,
  syncDeadlineMs: readSyncDeadlineMs,
  userDefaults: readUserDefaults,
  statuses: readSyncStatuses,
  disabledStatus: readDisabledStatus,
  // Raised only when a user has to be queued: a typo there must not stop a sync.
  queues: readQueueConfig,
};

/** The retry worker: its queues, the User Service, and the defaults a message may lack. */
export interface RetryWorkerConfig {
  queues: WorkerQueues;
  userService: UserServiceConfig;
  userDefaults: UserDefaults;
}

export const RETRY_WORKER_CONFIG: PartReaders<RetryWorkerConfig> = {
  queues: readWorkerQueues,
  userService: readUserServiceConfig,
  userDefaults: readUserDefaults,
};

/** The user-changes function: its pool, the user policy, its queues, the User Service. */
export interface UserChangesConfig extends UserPolicy {
  userPoolId: string;
  queues: WorkerQueues;
  userService: UserServiceConfig;
}

export const USER_CHANGES_CONFIG: PartReaders<UserChangesConfig> = {
  userPoolId: readUserPoolId,
  statuses: readSyncStatuses,
  userDefaults: readUserDefaults,
  disabledStatus: readDisabledStatus,
  queues: readChangesQueues,
  userService: readUserServiceConfig,
};

/** The scheduled reconcile: its pool and policy, its own queue, the changes queue, its ledger, pace and cap. */
export interface ReconcileConfig extends UserPolicy {
  userPoolId: string;
  /** A run hands its position on through it. */
  reconcileQueueUrl: string;
  /** The run ledger: the DynamoDB table holding each pool's run, its budget and its lease. */
  tableName: string;
  /** The repairs go to the user-changes function through it. */
  changesQueueUrl: string;
  maxRps: number;
  maxDeletes: number;
  /** Hex digits of the slices' prefixes, when RECONCILE_SLICES fixes their number; else from the pool's size. */
  sliceDigits: number | undefined;
  userService: UserServiceConfig;
}

export const RECONCILE_CONFIG: PartReaders<ReconcileConfig> = {
  userPoolId: readUserPoolId,
  statuses: readSyncStatuses,
  userDefaults: readUserDefaults,
  disabledStatus: readDisabledStatus,
  reconcileQueueUrl: (env) =>
    required(env, 'RECONCILE_QUEUE_URL', parseQueueUrl, 'a run hands its position on through it'),
  tableName: (env) =>
    required(env, 'RECONCILE_TABLE_NAME', parseTableName, 'the run ledger, a DynamoDB table'),
  changesQueueUrl: (env) =>
    required(
      env,
      'CHANGES_QUEUE_URL',
      parseQueueUrl,
      'the repairs go to the user-changes function through it',
    ),
  maxRps: (env) => readVariable(env, 'RECONCILE_MAX_RPS', numberIn(LIST_USERS_RPS), defaults.listUsersRps),
  maxDeletes: (env) => readVariable(env, 'RECONCILE_MAX_DELETES', numberIn(MAX_DELETES), defaults.maxDeletes),
  sliceDigits: (env) => readVariable(env, 'RECONCILE_SLICES', parseSlices),
  userService: readUserServiceConfig,
};
