// Configuration, read from the environment into one typed object at invocation time.
// Every reader throws a ConfigError naming the variable, so fail-open can catch it; nothing
// here runs at import.

import {
  COGNITO_USER_STATUSES,
  DEFAULT_SYNCED_STATUSES,
  type UserDefaults,
  type UserPolicy,
} from './domain/user-policy.js';
import { parseUserPoolId } from './domain/user-pool-id.js';
import { ConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

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

export interface QueueConfig {
  retryQueueUrl: string | undefined;
  deadLetterQueueUrl: string | undefined;
}

/** What a sync needs up front; the queues are read apart, only when a user has to be queued. */
export interface Config {
  userService: UserServiceConfig;
  /** Time from the start of an invocation by which the event is returned to Cognito. */
  syncDeadlineMs: number;
  userDefaults: UserDefaults;
}

export const defaults = {
  syncDeadlineMs: 3500,
  userStatus: 'ACTIVE',
  userRole: 'USER',
  disabledUserStatus: 'DISABLED',
} as const;

/** Cognito waits 5 s for the trigger, cold start included. */
export const COGNITO_TRIGGER_TIMEOUT_MS = 5000;

const CONFIG_VARIABLES = [
  'USER_SERVICE_URL',
  'USER_SERVICE_TIMEOUT_MS',
  'SYNC_DEADLINE_MS',
  'DEFAULT_USER_STATUS',
  'DEFAULT_USER_ROLE',
] as const;

// The environment is read at every invocation; it is parsed and checked again only when one of
// its values changed (in Lambda: never). A bad value is not remembered, so it fails every time.
let lastConfig: { values: string; config: Config } | undefined;

export const readConfig = (env: Env = process.env): Config => {
  const values = CONFIG_VARIABLES.map((name) => env[name] ?? '').join('\u0000');
  if (lastConfig?.values === values) return lastConfig.config;
  const config = {
    userService: readUserServiceConfig(env),
    syncDeadlineMs: readSyncDeadlineMs(env),
    userDefaults: readUserDefaults(env),
  };
  lastConfig = { values, config };
  return config;
};

export const readUserServiceConfig = (env: Env = process.env): UserServiceConfig => ({
  url: readUserServiceUrl(env),
  timeoutMs: readInteger(env, 'USER_SERVICE_TIMEOUT_MS', { min: 50, max: 30_000 }),
});

/**
 * The post-confirmation handler's last guard (middy's timeoutEarlyInMillis) ends it this long
 * before Lambda's 5 s timeout; the deadline must fall before that guard.
 */
export const TIMEOUT_EARLY_MS = 1000;
export const MAX_SYNC_DEADLINE_MS = COGNITO_TRIGGER_TIMEOUT_MS - TIMEOUT_EARLY_MS - 200;

export const readSyncDeadlineMs = (env: Env = process.env): number =>
  readInteger(env, 'SYNC_DEADLINE_MS', {
    fallback: defaults.syncDeadlineMs,
    min: 200,
    max: MAX_SYNC_DEADLINE_MS,
  });

export const readQueueConfig = (env: Env = process.env): QueueConfig => ({
  retryQueueUrl: readQueueUrl(env, 'RETRY_QUEUE_URL'),
  deadLetterQueueUrl: readQueueUrl(env, 'DEAD_LETTER_QUEUE_URL'),
});

export const readUserDefaults = (env: Env = process.env): UserDefaults => ({
  status: readToken(env, 'DEFAULT_USER_STATUS', defaults.userStatus),
  role: readToken(env, 'DEFAULT_USER_ROLE', defaults.userRole),
});

/** The user policy: SYNC_USER_STATUSES, DEFAULT_USER_STATUS, DEFAULT_USER_ROLE, DISABLED_USER_STATUS. */
export const readUserPolicy = (env: Env = process.env): UserPolicy => ({
  statuses: readStatuses(env, 'SYNC_USER_STATUSES', DEFAULT_SYNCED_STATUSES),
  userDefaults: readUserDefaults(env),
  disabledStatus: readToken(env, 'DISABLED_USER_STATUS', defaults.disabledUserStatus),
});

/** A comma-separated list of Cognito user statuses. */
export const parseStatuses = (name: string, raw: string): Set<string> => {
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

const readStatuses = (env: Env, name: string, fallback: readonly string[]): ReadonlySet<string> => {
  const raw = readString(env, name);
  return raw === undefined ? new Set(fallback) : parseStatuses(name, raw);
};

/** The pool the user-changes function and reconcile serve: USER_POOL_ID. */
export const readUserPoolId = (env: Env = process.env): string => {
  const name = 'USER_POOL_ID';
  const value = readString(env, name);
  if (value === undefined) throw new ConfigError(name, 'is not set: the id of the user pool to keep in step');
  if (parseUserPoolId(value) === undefined) {
    throw new ConfigError(
      name,
      `is not a user pool id (region_id, e.g. eu-west-1_Qx7Lm2Rt9), got "${value}"`,
    );
  }
  return value;
};

/** The changes queue and its dead-letter queue: the user-changes function defers on one, dead-letters to the other. */
export const readChangesQueues = (env: Env = process.env): WorkerQueues => {
  const retryQueueUrl = readQueueUrl(env, 'CHANGES_QUEUE_URL');
  const deadLetterQueueUrl = readQueueUrl(env, 'CHANGES_DEAD_LETTER_QUEUE_URL');
  if (retryQueueUrl === undefined) {
    throw new ConfigError('CHANGES_QUEUE_URL', 'is not set: the user-changes function defers messages on it');
  }
  if (deadLetterQueueUrl === undefined) {
    throw new ConfigError(
      'CHANGES_DEAD_LETTER_QUEUE_URL',
      'is not set: the user-changes function dead-letters to it',
    );
  }
  return { retryQueueUrl, deadLetterQueueUrl };
};

export interface ReconcileConfig {
  reconcileQueueUrl: string;
  /** The run ledger: the DynamoDB table holding each pool's run, its budget and its lease. */
  tableName: string;
  changesQueueUrl: string;
  maxRps: number;
  maxDeletes: number;
  /** Hex digits of the slices' prefixes, when RECONCILE_SLICES fixes their number; else from the pool's size. */
  sliceDigits: number | undefined;
}

const SLICE_DIGITS: Readonly<Record<string, number>> = { '1': 0, '16': 1, '256': 2, '4096': 3 };

/** The scheduled reconcile: its own queue (the run's position), the changes queue (the repairs), its pace and cap. */
export const readReconcileConfig = (env: Env = process.env): ReconcileConfig => {
  const required = (name: string, why: string) => {
    const url = readQueueUrl(env, name);
    if (url === undefined) throw new ConfigError(name, `is not set: ${why}`);
    return url;
  };
  const rps = readString(env, 'RECONCILE_MAX_RPS');
  const maxRps = rps === undefined ? 5 : Number(rps);
  if (!Number.isFinite(maxRps) || maxRps < 0.2 || maxRps > 25) {
    throw new ConfigError(
      'RECONCILE_MAX_RPS',
      `must be a number of ListUsers requests a second from 0.2 to 25, got "${rps}"`,
    );
  }
  return {
    reconcileQueueUrl: required('RECONCILE_QUEUE_URL', 'a run hands its position on through it'),
    tableName: readTableName(env, 'RECONCILE_TABLE_NAME'),
    changesQueueUrl: required('CHANGES_QUEUE_URL', 'the repairs go to the user-changes function through it'),
    maxRps,
    maxDeletes: readInteger(env, 'RECONCILE_MAX_DELETES', {
      fallback: 10,
      min: 0,
      max: 1000,
      unit: 'deletions',
    }),
    sliceDigits: readSliceDigits(env),
  };
};

/** A DynamoDB table's name (API reference, CreateTable: 3 to 255 of a-z, A-Z, 0-9, _ - .), or its ARN. */
const readTableName = (env: Env, name: string): string => {
  const value = readString(env, name);
  if (value === undefined) throw new ConfigError(name, 'is not set: the run ledger, a DynamoDB table');
  if (!/^(?:[\w.-]{3,255}|arn:[\w-]+:dynamodb:[\w-]+:\d{12}:table\/[\w.-]{3,255})$/.test(value)) {
    throw new ConfigError(name, `is not a DynamoDB table name or ARN, got "${value}"`);
  }
  return value;
};

const readSliceDigits = (env: Env): number | undefined => {
  const raw = readString(env, 'RECONCILE_SLICES');
  if (raw === undefined) return undefined;
  const digits = SLICE_DIGITS[raw];
  if (digits === undefined)
    throw new ConfigError('RECONCILE_SLICES', `must be 1, 16, 256 or 4096, got "${raw}"`);
  return digits;
};

export interface WorkerQueues {
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
}

/** The retry worker needs both queues: it defers on one and dead-letters to the other. */
export const readWorkerQueues = (env: Env = process.env): WorkerQueues => {
  const { retryQueueUrl, deadLetterQueueUrl } = readQueueConfig(env);
  if (retryQueueUrl === undefined)
    throw new ConfigError('RETRY_QUEUE_URL', 'is not set: the worker defers messages on it');
  if (deadLetterQueueUrl === undefined) {
    throw new ConfigError(
      'DEAD_LETTER_QUEUE_URL',
      'is not set: the worker dead-letters refused payloads to it',
    );
  }
  return { retryQueueUrl, deadLetterQueueUrl };
};

const readString = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value ? value : undefined;
};

function readInteger(
  env: Env,
  name: string,
  range: { fallback: number; min: number; max: number; unit?: string },
): number;
function readInteger(
  env: Env,
  name: string,
  range: { min: number; max: number; unit?: string },
): number | undefined;
function readInteger(
  env: Env,
  name: string,
  {
    fallback,
    min,
    max,
    unit = 'milliseconds',
  }: { fallback?: number; min: number; max: number; unit?: string },
): number | undefined {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(name, `must be a whole number of ${unit}, got "${raw}"`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

const readToken = (env: Env, name: string, fallback: string): string => {
  const value = readString(env, name) ?? fallback;
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) {
    throw new ConfigError(name, 'must be 1 to 64 letters, digits or _ . : -');
  }
  return value;
};

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Loopback is where the dev User Service and the tests live; nothing else may use plain http. */
export const isLoopbackHost = (hostname: string): boolean =>
  LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);

const readUrl = (name: string, raw: string): URL => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid absolute URL');
  }
  if (url.username || url.password) {
    throw new ConfigError(name, 'must not carry credentials; use USER_SERVICE_API_KEY_SECRET_ID');
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  if (url.protocol === 'http:') {
    throw new ConfigError(
      name,
      `must use https:// (plain http:// is allowed for loopback hosts only), got host ${url.host}`,
    );
  }
  throw new ConfigError(name, `must be an https:// URL, got ${url.protocol}`);
};

const readUserServiceUrl = (env: Env): URL => {
  const name = 'USER_SERVICE_URL';
  const raw = readString(env, name);
  if (raw === undefined) {
    throw new ConfigError(
      name,
      'is not set: give the full collection URL, e.g. https://users.internal.example.com/api/v1/users',
    );
  }
  const url = readUrl(name, raw);
  if (url.search || url.hash) {
    throw new ConfigError(name, 'must not have a query string or fragment');
  }
  return url;
};

const readQueueUrl = (env: Env, name: string): string | undefined => {
  const raw = readString(env, name);
  return raw === undefined ? undefined : readUrl(name, raw).href;
};
