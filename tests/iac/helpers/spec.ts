// What the issues and the design ask of a deployment, as assertions both flavours must pass: the
// same checks run on the rendered SAM template, on what Terraform applied to the emulator, and on
// what CloudFormation created there.

import { expect } from 'vitest';
import { credentialSources } from '../../../src/clients/credentials.js';
import {
  type Env,
  POST_CONFIRMATION_CONFIG,
  RECONCILE_CONFIG,
  RETRY_WORKER_CONFIG,
  readParts,
  USER_CHANGES_CONFIG,
} from '../../../src/config.js';
import { DEFAULT_NAMESPACE, MetricName } from '../../../src/metric-names.js';
import { userChangesRulePattern } from '../../helpers/user-changes-rule.js';
import { type Alarm, alarmMetrics, type DashboardExpression, type MetricRef } from './metrics.js';
import type { Statement } from './policies.js';

export type FunctionRole = 'postConfirmation' | 'retryWorker' | 'userChanges' | 'reconcile';
export type QueueRole =
  | 'retryQueue'
  | 'deadLetterQueue'
  | 'changesQueue'
  | 'changesDeadLetterQueue'
  | 'reconcileQueue'
  | 'reconcileDeadLetterQueue';

export interface UserPolicySettings {
  syncUserStatuses: string;
  defaultUserStatus: string;
  defaultUserRole: string;
  disabledUserStatus: string;
}

/** The Powertools log levels a deployment may choose (LogLevel / log_level). */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface Deployment {
  prefix: string;
  region: string;
  accountId: string;
  userServiceUrl: string;
  /** USER_SERVICE_TIMEOUT_MS, the upper bound of one attempt; undefined leaves it unset. */
  userServiceTimeoutMs?: number;
  /** POWERTOOLS_LOG_LEVEL of every function; INFO unless chosen. */
  logLevel: LogLevel;
  apiKeySecretArn?: string;
  signingSecretArn?: string;
  alarmTopicArn?: string;
  syncDeadlineMs: number;
  maxReceiveCount: number;
  maximumConcurrency: number;
  logRetentionDays: number;
  userPoolArn: string;
  /** A queue's URL as the functions get it (the emulator's form differs from AWS's). */
  queueUrl: (queueName: string) => string;
  /** The user-changes part (on by default): its event source's maximum concurrency, or false. */
  userChanges: false | { maximumConcurrency: number };
  /** The scheduled reconcile (on by default, daily: DEFAULT_RECONCILE), or false (opted out). */
  reconcile: false | ReconcileSettings;
  /** The base of every alarm's runbook link (RunbookUrl / runbook_url). */
  runbookUrl: string;
  createTrail: boolean;
  operatorRoleArns: string[];
  kmsKeyArn?: string;
  vpc?: { subnetIds: string[]; securityGroupIds: string[] };
  permissionsBoundaryArn?: string;
  memorySize: Record<FunctionRole, number>;
  reservedConcurrency: Partial<Record<FunctionRole, number>>;
  userPolicy: UserPolicySettings;
}

export interface ReconcileSettings {
  schedule: string;
  maxRps: number;
  maxDeletes: number;
  /** Days without a completed run before the heartbeat alarm fires (ReconcileOverdueDays); 2 by default. */
  overdueDays?: number;
}

/** What both flavours deploy when nothing is said: a daily run at a sixth of ListUsers' 30 a second. */
export const DEFAULT_RECONCILE = {
  schedule: 'rate(1 day)',
  maxRps: 5,
  maxDeletes: 10,
  overdueDays: 2,
} as const;

/** Where an installed package's docs are: the default base of the alarms' runbook links. */
export const DEFAULT_RUNBOOK_URL = 'node_modules/cognito-user-sync/docs/deploy.md';

export const DEFAULT_MEMORY: Record<FunctionRole, number> = {
  postConfirmation: 256,
  retryWorker: 256,
  userChanges: 256,
  reconcile: 512,
};

export const DEFAULT_USER_POLICY: UserPolicySettings = {
  syncUserStatuses: 'CONFIRMED,EXTERNAL_PROVIDER,FORCE_CHANGE_PASSWORD,RESET_REQUIRED',
  defaultUserStatus: 'ACTIVE',
  defaultUserRole: 'USER',
  disabledUserStatus: 'DISABLED',
};

/** A deployment with every adoption option at its default: user changes on, reconcile daily. */
export const deploymentOf = (
  d: Omit<
    Deployment,
    | 'queueUrl'
    | 'userChanges'
    | 'reconcile'
    | 'runbookUrl'
    | 'createTrail'
    | 'operatorRoleArns'
    | 'memorySize'
    | 'reservedConcurrency'
    | 'userPolicy'
    | 'logLevel'
  > &
    Partial<Deployment>,
): Deployment => ({
  queueUrl: (name) => `https://sqs.${d.region}.amazonaws.com/${d.accountId}/${name}`,
  userChanges: { maximumConcurrency: 2 },
  reconcile: { ...DEFAULT_RECONCILE },
  runbookUrl: DEFAULT_RUNBOOK_URL,
  createTrail: false,
  operatorRoleArns: [],
  memorySize: DEFAULT_MEMORY,
  reservedConcurrency: {},
  userPolicy: DEFAULT_USER_POLICY,
  logLevel: 'INFO',
  ...d,
});

export const namesOf = (prefix: string) => ({
  postConfirmation: `${prefix}-post-confirmation`,
  retryWorker: `${prefix}-retry-worker`,
  userChanges: `${prefix}-user-changes`,
  reconcile: `${prefix}-reconcile`,
  retryQueue: `${prefix}-retry`,
  deadLetterQueue: `${prefix}-dead-letter`,
  changesQueue: `${prefix}-changes`,
  changesDeadLetterQueue: `${prefix}-changes-dead-letter`,
  reconcileQueue: `${prefix}-reconcile`,
  reconcileDeadLetterQueue: `${prefix}-reconcile-dead-letter`,
  reconcileTable: `${prefix}-reconcile-runs`,
  userChangesRule: `${prefix}-user-changes`,
  reconcileRule: `${prefix}-reconcile`,
  trail: `${prefix}-management-events`,
  dashboard: prefix,
});

export const arnsOf = (d: Pick<Deployment, 'prefix' | 'region' | 'accountId'>) => {
  const names = namesOf(d.prefix);
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${d.region}:${d.accountId}:${resource}`;
  return {
    function: (role: FunctionRole) => arn('lambda', `function:${names[role]}`),
    // Each function's role has the function's name.
    role: (role: FunctionRole) => `arn:aws:iam::${d.accountId}:role/${names[role]}`,
    queue: (queue: QueueRole) => arn('sqs', names[queue]),
    logGroup: (role: FunctionRole) => arn('logs', `log-group:/aws/lambda/${names[role]}`),
    reconcileTable: arn('dynamodb', `table/${names.reconcileTable}`),
    userChangesRule: arn('events', `rule/${names.userChangesRule}`),
    reconcileRule: arn('events', `rule/${names.reconcileRule}`),
    trail: arn('cloudtrail', `trail/${names.trail}`),
    alarm: (name: string) => arn('cloudwatch', `alarm:${name}`),
    // Kept for the checks written before the user-changes part.
    postConfirmation: arn('lambda', `function:${names.postConfirmation}`),
    retryWorker: arn('lambda', `function:${names.retryWorker}`),
    retryQueue: arn('sqs', names.retryQueue),
    deadLetterQueue: arn('sqs', names.deadLetterQueue),
  };
};

export const userPoolIdOf = (d: Pick<Deployment, 'userPoolArn'>) => d.userPoolArn.split('/').at(-1) ?? '';

/** The functions a deployment has. */
export const functionsOf = (d: Deployment): FunctionRole[] => [
  'postConfirmation',
  'retryWorker',
  ...(d.userChanges ? (['userChanges'] as const) : []),
  ...(d.reconcile ? (['reconcile'] as const) : []),
];

/** The queues a deployment has. */
export const queuesOf = (d: Deployment): QueueRole[] => [
  'retryQueue',
  'deadLetterQueue',
  ...(d.userChanges ? (['changesQueue', 'changesDeadLetterQueue'] as const) : []),
  ...(d.reconcile ? (['reconcileQueue', 'reconcileDeadLetterQueue'] as const) : []),
];

/** A function's settings in one shape (CloudFormation properties or GetFunctionConfiguration). */
export interface FunctionSettings {
  FunctionName: string;
  Handler: string;
  Runtime: string;
  Architectures: string[];
  Timeout: number;
  MemorySize: number;
  TracingMode: string;
  Environment: Record<string, string>;
  VpcConfig?: { SubnetIds: string[]; SecurityGroupIds: string[] };
  ReservedConcurrentExecutions?: number;
}

export const functionSettings = (raw: Record<string, unknown>): FunctionSettings => {
  const vpc = raw.VpcConfig as { SubnetIds?: string[]; SecurityGroupIds?: string[] } | undefined;
  const subnetIds = [...(vpc?.SubnetIds ?? [])].sort();
  const securityGroupIds = [...(vpc?.SecurityGroupIds ?? [])].sort();
  return {
    FunctionName: String(raw.FunctionName),
    Handler: String(raw.Handler),
    Runtime: String(raw.Runtime),
    Architectures: (raw.Architectures as string[] | undefined) ?? ['x86_64'],
    Timeout: Number(raw.Timeout),
    MemorySize: Number(raw.MemorySize),
    TracingMode: String((raw.TracingConfig as { Mode?: string } | undefined)?.Mode ?? 'PassThrough'),
    Environment: Object.fromEntries(
      Object.entries(
        (raw.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
      ).map(([key, value]) => [key, String(value)]),
    ),
    ...(subnetIds.length + securityGroupIds.length > 0 && {
      VpcConfig: { SubnetIds: subnetIds, SecurityGroupIds: securityGroupIds },
    }),
    ...(raw.ReservedConcurrentExecutions !== undefined && {
      ReservedConcurrentExecutions: Number(raw.ReservedConcurrentExecutions),
    }),
  };
};

const TIMEOUTS: Record<FunctionRole, number> = {
  postConfirmation: 5,
  retryWorker: 30,
  userChanges: 60,
  reconcile: 900,
};

/** The environment each function gets: what it reads, and nothing of another function's. */
export const environmentOf = (role: FunctionRole, d: Deployment): Record<string, string> => {
  const names = namesOf(d.prefix);
  const common = {
    USER_SERVICE_URL: d.userServiceUrl,
    USER_SERVICE_API_KEY_SECRET_ID: d.apiKeySecretArn ?? '',
    USER_SERVICE_SIGNING_SECRET_ID: d.signingSecretArn ?? '',
    // Empty, as the secrets' ids are when not given: the code reads an empty variable as unset.
    USER_SERVICE_TIMEOUT_MS: d.userServiceTimeoutMs === undefined ? '' : String(d.userServiceTimeoutMs),
    DEFAULT_USER_STATUS: d.userPolicy.defaultUserStatus,
    DEFAULT_USER_ROLE: d.userPolicy.defaultUserRole,
    // The metrics' service dimension is the prefix: each deployment's alarms watch its own series.
    POWERTOOLS_SERVICE_NAME: d.prefix,
    POWERTOOLS_METRICS_NAMESPACE: DEFAULT_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: d.logLevel,
  };
  const retryQueues = {
    RETRY_QUEUE_URL: d.queueUrl(names.retryQueue),
    DEAD_LETTER_QUEUE_URL: d.queueUrl(names.deadLetterQueue),
  };
  const userPolicy = {
    USER_POOL_ID: userPoolIdOf(d),
    SYNC_USER_STATUSES: d.userPolicy.syncUserStatuses,
    DISABLED_USER_STATUS: d.userPolicy.disabledUserStatus,
  };
  switch (role) {
    case 'postConfirmation':
      // The trigger applies the user policy too: a status it leaves out is not synced at sign-up.
      return {
        ...common,
        ...retryQueues,
        SYNC_DEADLINE_MS: String(d.syncDeadlineMs),
        SYNC_USER_STATUSES: d.userPolicy.syncUserStatuses,
        DISABLED_USER_STATUS: d.userPolicy.disabledUserStatus,
      };
    case 'retryWorker':
      return { ...common, ...retryQueues };
    case 'userChanges':
      return {
        ...common,
        ...userPolicy,
        CHANGES_QUEUE_URL: d.queueUrl(names.changesQueue),
        CHANGES_DEAD_LETTER_QUEUE_URL: d.queueUrl(names.changesDeadLetterQueue),
      };
    case 'reconcile': {
      const reconcile = d.reconcile || { maxRps: NaN, maxDeletes: NaN };
      return {
        ...common,
        ...userPolicy,
        RECONCILE_QUEUE_URL: d.queueUrl(names.reconcileQueue),
        RECONCILE_TABLE_NAME: names.reconcileTable,
        CHANGES_QUEUE_URL: d.queueUrl(names.changesQueue),
        RECONCILE_MAX_RPS: String(reconcile.maxRps),
        RECONCILE_MAX_DELETES: String(reconcile.maxDeletes),
      };
    }
  }
};

/** Each function's configuration (src/config.ts), read as its handler reads it; the invalid parts' errors. */
const CONFIG_OF: Record<FunctionRole, (env: Env) => Record<string, unknown>> = {
  postConfirmation: (env) => readParts(POST_CONFIRMATION_CONFIG, env).errors,
  retryWorker: (env) => readParts(RETRY_WORKER_CONFIG, env).errors,
  userChanges: (env) => readParts(USER_CHANGES_CONFIG, env).errors,
  reconcile: (env) => readParts(RECONCILE_CONFIG, env).errors,
};

/** Read by Powertools (and src/observability.ts) from the process's environment, at import. */
export const POWERTOOLS_VARIABLES = [
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_LOG_LEVEL',
] as const;

/** Variables a function's code reads that no deployment sets, and why. */
export const LEFT_UNSET: Readonly<Record<string, string>> = {
  USER_SERVICE_API_KEY: 'local development: a deployment names a secret (USER_SERVICE_API_KEY_SECRET_ID)',
  USER_SERVICE_SIGNING_SECRET:
    'local development: a deployment names a secret (USER_SERVICE_SIGNING_SECRET_ID)',
  RECONCILE_SLICES:
    "the scheduled run sizes its slices from the pool's estimated size (DescribeUserPool); a fixed count is for tests and emulators",
};

/**
 * What a function's code reads from `environment`, found by letting the code read it: its
 * configuration (the *_CONFIG of src/config.ts its handler reads) and its credentials
 * (src/clients/credentials.ts), every variable they ask for recorded; with the parts it refuses.
 * A variable added to a configuration is asked for here without a word of this file changing.
 */
export const readByCode = (role: FunctionRole, environment: Record<string, string>) => {
  const asked = new Set<string>();
  const env: Env = new Proxy(environment, {
    get: (target, name) => {
      if (typeof name === 'string') asked.add(name);
      return Reflect.get(target, name);
    },
  });
  const errors = CONFIG_OF[role](env);
  credentialSources(env);
  return { asked: [...asked].sort(), errors };
};

/**
 * A function's environment as its code reads it: valid, every variable it reads set (but those
 * LEFT_UNSET), and nothing it does not read (nor Powertools does).
 */
export const expectEnvironmentReadByCode = (environment: Record<string, string>, role: FunctionRole) => {
  const { asked, errors } = readByCode(role, environment);
  const set = Object.keys(environment);
  const reasons = Object.values(errors).map((error) => String((error as Error).message ?? error));
  expect(reasons, `${role}: what its configuration refuses`).toEqual([]);
  expect(
    asked.filter((name) => !(name in LEFT_UNSET) && !set.includes(name)),
    `${role}: read by its code, and not set`,
  ).toEqual([]);
  expect(
    set.filter(
      (name) => !asked.includes(name) && !(POWERTOOLS_VARIABLES as readonly string[]).includes(name),
    ),
    `${role}: set, and read by none of its code`,
  ).toEqual([]);
  expect(
    set.filter((name) => name in LEFT_UNSET),
    `${role}: set, though no deployment should`,
  ).toEqual([]);
};

export const expectFunctionAsSpecified = (
  actual: FunctionSettings,
  role: FunctionRole,
  d: Deployment,
  /** Settings the source cannot report (an emulator that drops them): left out of the comparison. */
  { unreported = [] }: { unreported?: (keyof FunctionSettings)[] } = {},
) => {
  const expected: FunctionSettings = {
    FunctionName: namesOf(d.prefix)[role],
    Handler: 'index.handler',
    Runtime: 'nodejs22.x',
    Architectures: ['arm64'],
    Timeout: TIMEOUTS[role],
    MemorySize: d.memorySize[role],
    TracingMode: 'Active',
    Environment: environmentOf(role, d),
    ...(d.vpc && {
      VpcConfig: {
        SubnetIds: [...d.vpc.subnetIds].sort(),
        SecurityGroupIds: [...d.vpc.securityGroupIds].sort(),
      },
    }),
    ...(d.reservedConcurrency[role] !== undefined && {
      ReservedConcurrentExecutions: d.reservedConcurrency[role],
    }),
  };
  const without = (settings: FunctionSettings) =>
    Object.fromEntries(
      Object.entries(settings).filter(([key]) => !unreported.includes(key as keyof FunctionSettings)),
    );
  expectEnvironmentReadByCode(actual.Environment, role);
  expect(without(actual), role).toEqual(without(expected));
};

/** Queue attributes as SQS GetQueueAttributes returns them (strings), by queue name. */
export const expectQueuesAsSpecified = (queues: Record<string, Record<string, string>>, d: Deployment) => {
  const names = namesOf(d.prefix);
  const arns = arnsOf(d);
  expect(Object.keys(queues).sort()).toEqual(
    queuesOf(d)
      .map((queue) => names[queue])
      .sort(),
  );

  const json = (value: string | undefined) => (value === undefined ? undefined : JSON.parse(value));
  const redrive = (deadLetter: QueueRole, maxReceiveCount: number) => ({
    deadLetterTargetArn: arns.queue(deadLetter),
    maxReceiveCount,
  });
  const allow = (source: QueueRole) => ({
    redrivePermission: 'byQueue',
    sourceQueueArns: [arns.queue(source)],
  });
  const expected: Record<
    QueueRole,
    { attributes: Record<string, string>; redrive?: unknown; allow?: unknown }
  > = {
    retryQueue: {
      attributes: { VisibilityTimeout: '180', DelaySeconds: '30' },
      redrive: redrive('deadLetterQueue', d.maxReceiveCount),
    },
    deadLetterQueue: { attributes: {}, allow: allow('retryQueue') },
    changesQueue: {
      attributes: { VisibilityTimeout: '360' },
      redrive: redrive('changesDeadLetterQueue', d.maxReceiveCount),
    },
    changesDeadLetterQueue: { attributes: {}, allow: allow('changesQueue') },
    reconcileQueue: {
      attributes: { VisibilityTimeout: '5400' },
      redrive: redrive('reconcileDeadLetterQueue', 3),
    },
    reconcileDeadLetterQueue: { attributes: {}, allow: allow('reconcileQueue') },
  };
  for (const queue of queuesOf(d)) {
    const actual = queues[names[queue]] ?? {};
    const spec = expected[queue];
    // They all hold users' data (or point at users): encrypted, kept 14 days.
    expect(actual, queue).toMatchObject({ MessageRetentionPeriod: '1209600', ...spec.attributes });
    if (d.kmsKeyArn) {
      expect(actual.KmsMasterKeyId, queue).toBe(d.kmsKeyArn);
    } else {
      expect(actual.SqsManagedSseEnabled, queue).toBe('true');
      expect(actual.KmsMasterKeyId, queue).toBeUndefined();
    }
    expect(json(actual.RedrivePolicy), `${queue} redrive policy`).toEqual(spec.redrive);
    expect(json(actual.RedriveAllowPolicy), `${queue} redrive allow policy`).toEqual(spec.allow);
  }
};

/** A DynamoDB table's settings in one shape (CloudFormation properties, or what DynamoDB reports). */
export interface TableSettings {
  TableName: string;
  KeySchema: { AttributeName: string; KeyType: string }[];
  AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
  BillingMode: string;
  /** The attribute whose epoch seconds expire an item; undefined when TTL is off. */
  TimeToLiveAttribute?: string;
  /** The customer-managed key; undefined for DynamoDB's default (an AWS owned key). */
  KmsMasterKeyArn?: string;
}

/** The run ledger's table, from CloudFormation's AWS::DynamoDB::Table properties. */
export const tableSettingsOfTemplate = (properties: Record<string, unknown>): TableSettings => {
  const ttl = properties.TimeToLiveSpecification as { AttributeName?: string; Enabled?: unknown } | undefined;
  const sse = properties.SSESpecification as
    | { SSEEnabled?: unknown; SSEType?: string; KMSMasterKeyId?: string }
    | undefined;
  return {
    TableName: String(properties.TableName),
    KeySchema: properties.KeySchema as TableSettings['KeySchema'],
    AttributeDefinitions: properties.AttributeDefinitions as TableSettings['AttributeDefinitions'],
    BillingMode: String(properties.BillingMode ?? 'PROVISIONED'),
    ...(ttl?.Enabled === true && { TimeToLiveAttribute: ttl.AttributeName }),
    ...(sse?.SSEEnabled === true && sse.SSEType === 'KMS' && { KmsMasterKeyArn: sse.KMSMasterKeyId }),
  };
};

/** The run ledger's table, from DescribeTable and DescribeTimeToLive. */
export const tableSettingsOfApi = (
  table: Record<string, unknown>,
  timeToLive: { TimeToLiveStatus?: string; AttributeName?: string },
): TableSettings => {
  const sse = table.SSEDescription as
    | { Status?: string; SSEType?: string; KMSMasterKeyArn?: string }
    | undefined;
  return {
    TableName: String(table.TableName),
    KeySchema: table.KeySchema as TableSettings['KeySchema'],
    AttributeDefinitions: table.AttributeDefinitions as TableSettings['AttributeDefinitions'],
    BillingMode: String(
      (table.BillingModeSummary as { BillingMode?: string } | undefined)?.BillingMode ?? 'PROVISIONED',
    ),
    ...(timeToLive.TimeToLiveStatus === 'ENABLED' && { TimeToLiveAttribute: timeToLive.AttributeName }),
    ...(sse?.Status === 'ENABLED' && sse.SSEType === 'KMS' && { KmsMasterKeyArn: sse.KMSMasterKeyArn }),
  };
};

/**
 * The scheduled reconcile's run ledger (src/clients/run-ledger.ts): one item per pool, keyed by
 * `userPoolId`, on demand, expired through `expiresAt`, under the deployment's key when it has
 * one. Only with reconcile.
 */
export const expectTablesAsSpecified = (
  tables: readonly TableSettings[],
  d: Deployment,
  /** Settings the source cannot report (an emulator that drops them): left out of the comparison. */
  { unreported = [] }: { unreported?: (keyof TableSettings)[] } = {},
) => {
  const expected: TableSettings[] = d.reconcile
    ? [
        {
          TableName: namesOf(d.prefix).reconcileTable,
          KeySchema: [{ AttributeName: 'userPoolId', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'userPoolId', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          TimeToLiveAttribute: 'expiresAt',
          ...(d.kmsKeyArn && { KmsMasterKeyArn: d.kmsKeyArn }),
        },
      ]
    : [];
  const without = (settings: TableSettings) =>
    Object.fromEntries(
      Object.entries(settings).filter(([key]) => !unreported.includes(key as keyof TableSettings)),
    );
  expect(tables.map(without)).toEqual(expected.map(without));
};

/** The event source mappings, as Lambda reports them back. */
export const expectEventSourcesAsSpecified = (mappings: Record<string, unknown>[], d: Deployment) => {
  const arns = arnsOf(d);
  const expected = [
    {
      EventSourceArn: arns.queue('retryQueue'),
      FunctionArn: arns.function('retryWorker'),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: d.maximumConcurrency },
    },
    ...(d.userChanges
      ? [
          {
            EventSourceArn: arns.queue('changesQueue'),
            FunctionArn: arns.function('userChanges'),
            BatchSize: 10,
            FunctionResponseTypes: ['ReportBatchItemFailures'],
            ScalingConfig: { MaximumConcurrency: d.userChanges.maximumConcurrency },
          },
        ]
      : []),
    // A run hands its position on one message at a time.
    ...(d.reconcile
      ? [
          {
            EventSourceArn: arns.queue('reconcileQueue'),
            FunctionArn: arns.function('reconcile'),
            BatchSize: 1,
            ScalingConfig: { MaximumConcurrency: 2 },
          },
        ]
      : []),
  ];
  const byArn = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    String(a.EventSourceArn).localeCompare(String(b.EventSourceArn));
  const actual = [...mappings].sort(byArn);
  expect(actual).toHaveLength(expected.length);
  expected.sort(byArn).forEach((mapping, index) => {
    expect(actual[index]).toMatchObject(mapping);
    if (!('FunctionResponseTypes' in mapping)) {
      expect((actual[index]?.FunctionResponseTypes as unknown[] | undefined) ?? []).toEqual([]);
    }
  });
};

/** A function's asynchronous-invocation settings, as GetFunctionEventInvokeConfig reports them. */
export interface EventInvokeSettings {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
}

/**
 * Reconcile's asynchronous invocations (its schedule), set rather than left to Lambda's defaults
 * (two retries, events kept up to six hours: Lambda Developer Guide, "How Lambda handles errors
 * and retries with asynchronous invocation"): two retries, and a start older than an hour dropped. The other
 * functions are invoked synchronously (Cognito) or by an event source mapping: none, by name.
 */
export const RECONCILE_EVENT_INVOKE: EventInvokeSettings = {
  MaximumRetryAttempts: 2,
  MaximumEventAgeInSeconds: 3600,
};

export const expectEventInvokeConfigsAsSpecified = (
  configs: Record<string, EventInvokeSettings>,
  d: Deployment,
) => {
  expect(configs).toEqual(d.reconcile ? { [namesOf(d.prefix).reconcile]: RECONCILE_EVENT_INVOKE } : {});
};

/** The Lambda resource policy statement letting Cognito invoke the trigger. */
export const expectCognitoPermissionAsSpecified = (statement: Record<string, unknown>, d: Deployment) => {
  expect(statement).toMatchObject({
    Effect: 'Allow',
    Action: 'lambda:InvokeFunction',
    Principal: { Service: 'cognito-idp.amazonaws.com' },
    Resource: arnsOf(d).postConfirmation,
    Condition: {
      ArnLike: { 'AWS:SourceArn': d.userPoolArn },
      StringEquals: { 'AWS:SourceAccount': d.accountId },
    },
  });
};

/** The Lambda resource policy statement letting the schedule (and only it) start reconcile. */
export const expectSchedulePermissionAsSpecified = (statement: Record<string, unknown>, d: Deployment) => {
  expect(statement).toMatchObject({
    Effect: 'Allow',
    Action: 'lambda:InvokeFunction',
    Principal: { Service: 'events.amazonaws.com' },
    Resource: arnsOf(d).function('reconcile'),
    Condition: { ArnLike: { 'AWS:SourceArn': arnsOf(d).reconcileRule } },
  });
};

const statement = (
  Sid: string,
  Action: string[],
  Resource: string[],
  extra: Partial<Statement> = {},
): Statement => ({
  Sid,
  Effect: 'Allow',
  ...(extra.Principal && { Principal: extra.Principal }),
  Action: [...Action].sort(),
  Resource: [...Resource].sort(),
  ...(extra.Condition && { Condition: extra.Condition }),
  ...(extra.Effect && { Effect: extra.Effect }),
  other: [],
});

const bySid = (a: Statement, b: Statement) => (a.Sid ?? '').localeCompare(b.Sid ?? '');

/** Where a role may use the key: SQS and Secrets Manager, and DynamoDB for the run ledger's role. */
const kmsViaServices = (d: Deployment, services: string[] = []) => ({
  StringEquals: {
    'kms:ViaService': ['secretsmanager', 'sqs', ...services]
      .map((service) => `${service}.${d.region}.amazonaws.com`)
      .sort(),
  },
});

const secretsOf = (d: Deployment) =>
  [d.apiKeySecretArn, d.signingSecretArn].filter((arn): arn is string => Boolean(arn)).sort();

/** Exactly the permissions each function needs; a log group's ARN as IAM takes it (":*" for its streams). */
export const expectedStatements = (role: FunctionRole, d: Deployment): Statement[] => {
  const arns = arnsOf(d);
  const consume = [
    'sqs:ChangeMessageVisibility',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:ReceiveMessage',
  ];
  const own: Record<FunctionRole, Statement[]> = {
    postConfirmation: [
      statement(
        'QueueUnsyncedUsers',
        ['sqs:SendMessage'],
        [arns.queue('retryQueue'), arns.queue('deadLetterQueue')],
      ),
    ],
    retryWorker: [
      statement('ConsumeRetryQueue', consume, [arns.queue('retryQueue')]),
      statement('DeadLetterRejectedUsers', ['sqs:SendMessage'], [arns.queue('deadLetterQueue')]),
      // Is the queued user still in the pool? AdminGetUser by sub, ListUsers for a federated user.
      statement('ReadPool', ['cognito-idp:AdminGetUser', 'cognito-idp:ListUsers'], [d.userPoolArn]),
    ],
    userChanges: [
      statement('ConsumeChangesQueue', consume, [arns.queue('changesQueue')]),
      statement('DeadLetterChanges', ['sqs:SendMessage'], [arns.queue('changesDeadLetterQueue')]),
      statement('ReadPoolUsers', ['cognito-idp:AdminGetUser', 'cognito-idp:ListUsers'], [d.userPoolArn]),
    ],
    reconcile: [
      statement(
        'ReadPool',
        ['cognito-idp:AdminGetUser', 'cognito-idp:DescribeUserPool', 'cognito-idp:ListUsers'],
        [d.userPoolArn],
      ),
      statement('ConsumeReconcileQueue', consume, [arns.queue('reconcileQueue')]),
      statement(
        'SendRunStepsAndRepairs',
        ['sqs:SendMessage'],
        [arns.queue('reconcileQueue'), arns.queue('changesQueue')],
      ),
      // The run ledger: exactly the three calls src/clients/run-ledger.ts makes, on its table only.
      statement(
        'KeepRunLedger',
        ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        [arns.reconcileTable],
      ),
    ],
  };
  const secrets = secretsOf(d);
  return [
    statement('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [`${arns.logGroup(role)}:*`]),
    // X-Ray has no resource-level permissions.
    statement('WriteTraces', ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], ['*']),
    ...own[role],
    ...(secrets.length > 0
      ? [statement('ReadUserServiceSecrets', ['secretsmanager:GetSecretValue'], secrets)]
      : []),
    ...(d.kmsKeyArn
      ? [
          statement('UseKmsKey', ['kms:Decrypt', 'kms:GenerateDataKey'], [d.kmsKeyArn], {
            Condition: kmsViaServices(d, role === 'reconcile' ? ['dynamodb'] : []),
          }),
        ]
      : []),
    ...(d.vpc
      ? [
          statement(
            'ManageNetworkInterfaces',
            [
              'ec2:AssignPrivateIpAddresses',
              'ec2:CreateNetworkInterface',
              'ec2:DeleteNetworkInterface',
              'ec2:DescribeNetworkInterfaces',
              'ec2:DescribeSubnets',
              'ec2:UnassignPrivateIpAddresses',
            ],
            ['*'],
          ),
        ]
      : []),
  ].sort(bySid);
};

/**
 * The queue policies, by queue name: SendMessage denied to every principal but the senders the
 * design names, and EventBridge allowed on the changes queue for the rule only. The operators send
 * to the queues `replay` moves dead letters back to (the retry and changes queues), and to no
 * dead-letter queue: no command does (src/cli, src/clients); each worker dead-letters with its own role.
 */
export const expectedQueuePolicies = (d: Deployment): Record<string, Statement[]> => {
  const names = namesOf(d.prefix);
  const arns = arnsOf(d);
  const denyAllBut = (
    queue: QueueRole,
    roles: string[],
    extra: Record<string, Record<string, string[]>> = {},
  ) =>
    statement('OnlyOwnRolesSend', ['sqs:SendMessage'], [arns.queue(queue)], {
      Effect: 'Deny',
      Principal: '*',
      Condition: {
        ...extra,
        ...(roles.length > 0 && { ArnNotLike: { 'aws:PrincipalArn': [...roles].sort() } }),
      },
    });
  const operators = d.operatorRoleArns;
  const policies: Record<string, Statement[]> = {
    [names.retryQueue]: [denyAllBut('retryQueue', [arns.role('postConfirmation'), ...operators])],
    [names.deadLetterQueue]: [
      denyAllBut('deadLetterQueue', [arns.role('postConfirmation'), arns.role('retryWorker')]),
    ],
  };
  if (d.userChanges) {
    const senders = [...(d.reconcile ? [arns.role('reconcile')] : []), ...operators];
    policies[names.changesQueue] = [
      statement('CognitoEventsFromTheRule', ['sqs:SendMessage'], [arns.queue('changesQueue')], {
        Principal: { Service: ['events.amazonaws.com'] },
        Condition: { ArnEquals: { 'aws:SourceArn': [arns.userChangesRule] } },
      }),
      ...(d.reconcile
        ? [
            statement('RepairsFromReconcile', ['sqs:SendMessage'], [arns.queue('changesQueue')], {
              Principal: { AWS: [arns.role('reconcile')] },
            }),
          ]
        : []),
      {
        ...denyAllBut('changesQueue', senders, {
          StringNotEquals: { 'aws:PrincipalServiceName': ['events.amazonaws.com'] },
        }),
        Sid: 'OnlyTheRuleAndOwnRolesSend',
      },
    ].sort(bySid);
    policies[names.changesDeadLetterQueue] = [
      denyAllBut('changesDeadLetterQueue', [arns.role('userChanges')]),
    ];
  }
  if (d.reconcile) {
    // A position names a run and a slice: only the reconcile role may hand one on.
    policies[names.reconcileQueue] = [denyAllBut('reconcileQueue', [arns.role('reconcile')])];
    policies[names.reconcileDeadLetterQueue] = [
      denyAllBut('reconcileDeadLetterQueue', [arns.role('reconcile')]),
    ];
  }
  return policies;
};

/** What the operators' roles need to run backfill, replay, reconcile and status. */
export const expectedOperatorStatements = (d: Deployment): Statement[] => {
  const arns = arnsOf(d);
  const queues = queuesOf(d);
  // Every dead-letter queue: status reads why its messages are there (and replay moves the first two).
  const deadLetters = queues.filter((queue) =>
    ['deadLetterQueue', 'changesDeadLetterQueue', 'reconcileDeadLetterQueue'].includes(queue),
  );
  const replayTargets = queues.filter((queue) => queue === 'retryQueue' || queue === 'changesQueue');
  const secrets = secretsOf(d);
  return [
    statement(
      'ReadUserPool',
      ['cognito-idp:AdminGetUser', 'cognito-idp:DescribeUserPool', 'cognito-idp:ListUsers'],
      [d.userPoolArn],
    ),
    statement('ReadQueueAttributes', ['sqs:GetQueueAttributes'], queues.map(arns.queue)),
    // status receives from the dead-letter queues only: a retried message's receive count stays as it is.
    statement(
      'ReadAndMoveDeadLetters',
      [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:ListMessageMoveTasks',
        'sqs:ReceiveMessage',
        'sqs:StartMessageMoveTask',
      ],
      deadLetters.map(arns.queue),
    ),
    statement('ReplayDeadLetters', ['sqs:SendMessage'], replayTargets.map(arns.queue)),
    // status reads a redriving queue's oldest age from CloudWatch rather than receive from it, and
    // the workers' deferrals (namespace CognitoUserSync): CloudWatch has no resource-level reads.
    statement('ReadQueueAges', ['cloudwatch:GetMetricStatistics'], ['*']),
    ...(secrets.length > 0
      ? [statement('ReadUserServiceSecrets', ['secretsmanager:GetSecretValue'], secrets)]
      : []),
    ...(d.kmsKeyArn
      ? [
          statement('UseKmsKey', ['kms:Decrypt', 'kms:GenerateDataKey'], [d.kmsKeyArn], {
            Condition: kmsViaServices(d),
          }),
        ]
      : []),
  ].sort(bySid);
};

/** The EventBridge rule on Cognito's CloudTrail events: exactly this pattern, to the changes queue. */
export const expectUserChangesRuleAsSpecified = (
  rule: Record<string, unknown> & { Name: string },
  targets: { Id: string; Arn: string }[],
  d: Deployment,
) => {
  const pattern = typeof rule.EventPattern === 'string' ? JSON.parse(rule.EventPattern) : rule.EventPattern;
  expect(rule.Name).toBe(namesOf(d.prefix).userChangesRule);
  expect(rule.State ?? 'ENABLED').toBe('ENABLED');
  expect(rule.EventBusName ?? 'default').toBe('default');
  expect(pattern).toEqual(userChangesRulePattern(userPoolIdOf(d)));
  expect(targets.map((target) => target.Arn)).toEqual([arnsOf(d).queue('changesQueue')]);
};

export const expectReconcileScheduleAsSpecified = (
  rule: Record<string, unknown> & { Name: string },
  targets: { Id: string; Arn: string }[],
  d: Deployment,
) => {
  expect(rule.Name).toBe(namesOf(d.prefix).reconcileRule);
  expect(rule.ScheduleExpression).toBe(d.reconcile ? d.reconcile.schedule : undefined);
  expect(rule.State ?? 'ENABLED').toBe('ENABLED');
  expect(targets.map((target) => target.Arn)).toEqual([arnsOf(d).function('reconcile')]);
};

/** The trail, as DescribeTrails, GetTrailStatus and GetEventSelectors report it. */
export const expectTrailAsSpecified = (
  trail: {
    Name: string;
    IsMultiRegionTrail: boolean;
    IncludeGlobalServiceEvents: boolean;
    LogFileValidationEnabled: boolean;
    IsLogging: boolean;
    EventSelectors: { ReadWriteType: string; IncludeManagementEvents: boolean }[];
  },
  d: Deployment,
) => {
  expect(trail).toMatchObject({
    Name: namesOf(d.prefix).trail,
    // One region, write management events: every call the rule wants is a write.
    IsMultiRegionTrail: false,
    IncludeGlobalServiceEvents: false,
    LogFileValidationEnabled: true,
    IsLogging: true,
  });
  expect(
    trail.EventSelectors.map(({ ReadWriteType, IncludeManagementEvents }) => ({
      ReadWriteType,
      IncludeManagementEvents,
    })),
  ).toEqual([{ ReadWriteType: 'WriteOnly', IncludeManagementEvents: true }]);
};

/** The trail bucket's policy: CloudTrail's ACL check and writes for this trail only, TLS only. */
export const expectedTrailBucketStatements = (bucket: string, d: Deployment): Statement[] => {
  const trail = { 'aws:SourceArn': [arnsOf(d).trail] };
  const cloudTrail = { Service: ['cloudtrail.amazonaws.com'] };
  return [
    statement('CloudTrailAclCheck', ['s3:GetBucketAcl'], [`arn:aws:s3:::${bucket}`], {
      Principal: cloudTrail,
      Condition: { StringEquals: trail },
    }),
    statement('CloudTrailWrite', ['s3:PutObject'], [`arn:aws:s3:::${bucket}/AWSLogs/${d.accountId}/*`], {
      Principal: cloudTrail,
      Condition: { StringEquals: { ...trail, 's3:x-amz-acl': ['bucket-owner-full-control'] } },
    }),
    statement('DenyInsecureTransport', ['s3:*'], [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], {
      Effect: 'Deny',
      Principal: '*',
      Condition: { Bool: { 'aws:SecureTransport': ['false'] } },
    }),
  ].sort(bySid);
};

const sameDimensions = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

const has = (
  refs: readonly MetricRef[],
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
) =>
  refs.filter(
    (ref) => ref.namespace === namespace && ref.name === name && sameDimensions(ref.dimensions, dimensions),
  );

const ownMetricNames = Object.values(MetricName).sort();

/** The `function` dimension of the functions that call the User Service. */
const callingFunctions = (d: Deployment) => [
  'post-confirmation',
  'retry-worker',
  ...(d.userChanges ? ['user-changes'] : []),
];

/** The project's metrics a deployment's dashboard shows: those of its parts. */
export const dashboardMetricNames = (d: Deployment) =>
  ownMetricNames.filter(
    (name) =>
      (d.userChanges || !name.startsWith('UserChange')) && (d.reconcile || !name.startsWith('Reconcile')),
  );

/**
 * Each metric of the project's namespace must be one the code emits, with a dimension set it
 * publishes: `service` (POWERTOOLS_SERVICE_NAME, which the IaC sets to the name prefix), or
 * `service` and `function`.
 */
export const expectOwnMetricsEmitted = (refs: readonly MetricRef[], d: Deployment) => {
  const own = refs.filter((ref) => ref.namespace === DEFAULT_NAMESPACE);
  for (const ref of own) {
    expect(ownMetricNames, `${ref.name} is not in src/metric-names.ts`).toContain(ref.name);
    const { function: fn, ...rest } = ref.dimensions;
    expect(rest, `${ref.name}'s dimensions`).toEqual({ service: d.prefix });
    if (fn !== undefined) expect(callingFunctions(d), `${ref.name}'s function dimension`).toContain(fn);
  }
  return own;
};

export const expectDashboardAsSpecified = (
  refs: readonly MetricRef[],
  alarmArns: string[],
  d: Deployment,
  expressions: readonly DashboardExpression[],
) => {
  const names = namesOf(d.prefix);
  const own = expectOwnMetricsEmitted(refs, d);
  // Every metric the deployed parts emit has a place on the dashboard.
  expect([...new Set(own.map((ref) => ref.name))].sort()).toEqual(dashboardMetricNames(d));
  // The User Service as each function sees it.
  for (const fn of callingFunctions(d)) {
    const dimensions = { service: d.prefix, function: fn };
    expect(
      has(refs, DEFAULT_NAMESPACE, MetricName.UserServiceLatency, dimensions).map((ref) => ref.stat),
      fn,
    ).toEqual(['p50', 'p99']);
    expect(has(refs, DEFAULT_NAMESPACE, MetricName.UserServiceAttempts, dimensions), fn).toHaveLength(1);
  }
  const queue = (name: string) => ({ QueueName: name });
  const visible = 'ApproximateNumberOfMessagesVisible';
  const age = 'ApproximateAgeOfOldestMessage';
  expect(has(refs, 'AWS/SQS', visible, queue(names.retryQueue))).toHaveLength(1);
  expect(has(refs, 'AWS/SQS', age, queue(names.retryQueue))).toHaveLength(1);
  expect(has(refs, 'AWS/SQS', visible, queue(names.deadLetterQueue))).toHaveLength(1);
  expect(has(refs, 'AWS/SQS', visible, queue(names.changesQueue))).toHaveLength(d.userChanges ? 1 : 0);
  expect(has(refs, 'AWS/SQS', age, queue(names.changesQueue))).toHaveLength(d.userChanges ? 1 : 0);
  expect(has(refs, 'AWS/SQS', visible, queue(names.changesDeadLetterQueue))).toHaveLength(
    d.userChanges ? 1 : 0,
  );
  expect(has(refs, 'AWS/SQS', visible, queue(names.reconcileDeadLetterQueue))).toHaveLength(
    d.reconcile ? 1 : 0,
  );
  for (const role of functionsOf(d)) {
    const dimensions = { FunctionName: names[role] };
    expect(has(refs, 'AWS/Lambda', 'Errors', dimensions), `${role} errors`).toHaveLength(1);
    expect(has(refs, 'AWS/Lambda', 'Throttles', dimensions), `${role} throttles`).toHaveLength(1);
    expect(
      has(refs, 'AWS/Lambda', 'Duration', dimensions).map((ref) => ref.stat),
      `${role} duration`,
    ).toEqual(['p99']);
  }
  // Silent loss: the rule's failed deliveries, and whether Cognito's events reach the changes queue.
  expect(has(refs, 'AWS/Events', 'FailedInvocations', { RuleName: names.userChangesRule })).toHaveLength(
    d.userChanges ? 1 : 0,
  );
  expect(has(refs, 'AWS/SQS', 'NumberOfMessagesSent', queue(names.changesQueue))).toHaveLength(
    d.userChanges ? 1 : 0,
  );
  // The failure ratio of each function, as its alarm computes it, over the same inputs.
  const ratioNames: (keyof typeof FAILURE_RATIO)[] = [
    'signUps',
    'retries',
    ...(d.userChanges ? ['userChanges' as const] : []),
  ];
  const ratios = ratioNames.map((ratio) => ({
    expression: FAILURE_RATIO[ratio],
    inputs: Object.fromEntries(
      Object.entries(FAILURE_RATIO_INPUTS[ratio]).map(([id, name]) => [
        id,
        { namespace: DEFAULT_NAMESPACE, name, dimensions: { service: d.prefix }, stat: 'Sum' },
      ]),
    ),
    period: 300,
  }));
  expect(
    expressions.map(({ expression, inputs, period }) => ({ expression, inputs, period })),
    'the failure ratios',
  ).toEqual(ratios);
  // The alarm-status widget lists every alarm.
  expect([...alarmArns].sort()).toEqual(alarmNamesOf(d).map(arnsOf(d).alarm).sort());
};

/** Which queues an alarm's first command shows: `cognito-user-sync status` with their URLs. */
export type StatusQueues = 'signUps' | 'changes' | 'reconcile';

export interface AlarmEntry {
  /** The name after the prefix; also the runbook's anchor, `#alarm-<suffix>`. */
  suffix: string;
  part: 'base' | 'userChanges' | 'reconcile';
  /** Chosen per alarm; docs/deploy.md says why. */
  treatMissingData: 'notBreaching' | 'breaching' | 'ignore';
  status: StatusQueues;
}

/** Every alarm a deployment can have: what each needs is checked below, and documented in docs/deploy.md. */
export const ALARMS: readonly AlarmEntry[] = [
  { suffix: 'sign-ups-not-synced', part: 'base', treatMissingData: 'notBreaching', status: 'signUps' },
  { suffix: 'retries-failing', part: 'base', treatMissingData: 'notBreaching', status: 'signUps' },
  { suffix: 'user-sync-dropped', part: 'base', treatMissingData: 'notBreaching', status: 'signUps' },
  { suffix: 'dead-letter-queue-not-empty', part: 'base', treatMissingData: 'ignore', status: 'signUps' },
  { suffix: 'retry-queue-oldest-message', part: 'base', treatMissingData: 'notBreaching', status: 'signUps' },
  { suffix: 'post-confirmation-errors', part: 'base', treatMissingData: 'notBreaching', status: 'signUps' },
  {
    suffix: 'post-confirmation-throttles',
    part: 'base',
    treatMissingData: 'notBreaching',
    status: 'signUps',
  },
  { suffix: 'retry-worker-errors', part: 'base', treatMissingData: 'notBreaching', status: 'signUps' },
  {
    suffix: 'post-confirmation-duration-near-deadline',
    part: 'base',
    treatMissingData: 'notBreaching',
    status: 'signUps',
  },
  {
    suffix: 'user-changes-failing',
    part: 'userChanges',
    treatMissingData: 'notBreaching',
    status: 'changes',
  },
  {
    suffix: 'changes-dead-letter-queue-not-empty',
    part: 'userChanges',
    treatMissingData: 'ignore',
    status: 'changes',
  },
  {
    suffix: 'changes-queue-oldest-message',
    part: 'userChanges',
    treatMissingData: 'notBreaching',
    status: 'changes',
  },
  { suffix: 'user-changes-errors', part: 'userChanges', treatMissingData: 'notBreaching', status: 'changes' },
  {
    suffix: 'user-changes-throttles',
    part: 'userChanges',
    treatMissingData: 'notBreaching',
    status: 'changes',
  },
  {
    suffix: 'user-changes-rule-failed-invocations',
    part: 'userChanges',
    treatMissingData: 'notBreaching',
    status: 'changes',
  },
  {
    suffix: 'cognito-events-missing',
    part: 'userChanges',
    treatMissingData: 'notBreaching',
    status: 'changes',
  },
  {
    suffix: 'reconcile-drift-found',
    part: 'reconcile',
    treatMissingData: 'notBreaching',
    status: 'reconcile',
  },
  { suffix: 'reconcile-errors', part: 'reconcile', treatMissingData: 'notBreaching', status: 'reconcile' },
  {
    suffix: 'reconcile-dead-letter-queue-not-empty',
    part: 'reconcile',
    treatMissingData: 'ignore',
    status: 'reconcile',
  },
  {
    suffix: 'reconcile-runs-not-completing',
    part: 'reconcile',
    treatMissingData: 'breaching',
    status: 'reconcile',
  },
];

/** The alarms of a deployment's parts. */
export const alarmsOf = (d: Deployment): AlarmEntry[] =>
  ALARMS.filter(
    (alarm) =>
      alarm.part === 'base' ||
      (alarm.part === 'userChanges' && d.userChanges !== false) ||
      (alarm.part === 'reconcile' && d.reconcile !== false),
  );

export const alarmNamesOf = (d: Deployment): string[] =>
  alarmsOf(d).map((alarm) => `${d.prefix}-${alarm.suffix}`);

/**
 * The metric math of the failure-ratio alarms (and of the dashboard's widgets of the same name):
 * the share of outcomes that failed in a 5-minute period, 0 below a minimum count of failures.
 */
export const FAILURE_RATIO = {
  signUps:
    'IF(FILL(queued, 0) >= 2, 100 * FILL(queued, 0) / (FILL(queued, 0) + FILL(synced, 0) + FILL(exists, 0)), 0)',
  retries:
    'IF(FILL(deferred, 0) >= 1, 100 * FILL(deferred, 0) / (FILL(deferred, 0) + FILL(succeeded, 0)), 0)',
  userChanges:
    'IF(FILL(deferred, 0) >= 1, 100 * FILL(deferred, 0) / (FILL(deferred, 0) + FILL(created, 0) + FILL(updated, 0) + FILL(deleted, 0)), 0)',
} as const;

/** The inputs of each failure ratio: query id → metric name. */
export const FAILURE_RATIO_INPUTS = {
  signUps: {
    queued: MetricName.UserSyncQueued,
    synced: MetricName.UserSynced,
    exists: MetricName.UserAlreadyExists,
  },
  retries: { deferred: MetricName.RetryDeferred, succeeded: MetricName.RetrySucceeded },
  userChanges: {
    deferred: MetricName.UserChangeDeferred,
    created: MetricName.UserChangeCreated,
    updated: MetricName.UserChangeUpdated,
    deleted: MetricName.UserChangeDeleted,
  },
} as const;

/** Sign-ups counted by the trigger in a day, with not one message sent to the changes queue. */
export const COGNITO_EVENTS_MISSING =
  'IF(FILL(sent, 0) == 0, FILL(synced, 0) + FILL(exists, 0) + FILL(queued, 0), 0)';
/** Sign-ups a day from which a day without any change event is suspicious. */
export const COGNITO_EVENTS_MISSING_SIGN_UPS = 20;

/** A queue's URL as AWS gives it: the alarms' first commands name queues this way in both flavours. */
export const canonicalQueueUrl = (d: Pick<Deployment, 'region' | 'accountId'>, name: string) =>
  `https://sqs.${d.region}.amazonaws.com/${d.accountId}/${name}`;

/** The first command an alarm's description tells on-call to run. */
export const statusCommandOf = (d: Deployment, queues: StatusQueues): string => {
  const names = namesOf(d.prefix);
  const flags: Record<StatusQueues, [string, string][]> = {
    signUps: [
      ['retry-queue-url', names.retryQueue],
      ['dead-letter-queue-url', names.deadLetterQueue],
    ],
    changes: [
      ['changes-queue-url', names.changesQueue],
      ['changes-dead-letter-queue-url', names.changesDeadLetterQueue],
    ],
    // A run's state, and the changes queue its repairs are written from (drift found is repairs queued).
    reconcile: [
      ['reconcile-queue-url', names.reconcileQueue],
      ['reconcile-dead-letter-queue-url', names.reconcileDeadLetterQueue],
      ['changes-queue-url', names.changesQueue],
    ],
  };
  const urls = flags[queues].map(([flag, name]) => `--${flag} ${canonicalQueueUrl(d, name)}`).join(' ');
  // The region is the URLs'; the service dimension is the prefix, for the retrying column.
  return `npx cognito-user-sync status --service ${d.prefix} ${urls}`;
};

/** The end of every alarm's description: the first command, then the runbook link. */
export const descriptionTailOf = (d: Deployment, alarm: AlarmEntry) =>
  ` First run: ${statusCommandOf(d, alarm.status)} Runbook: ${d.runbookUrl}#alarm-${alarm.suffix}`;

const alarmOn = (
  alarms: readonly Alarm[],
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
) => {
  const found = alarms.filter((alarm) => has(alarmMetrics(alarm), namespace, name, dimensions).length > 0);
  expect(found, `one alarm on ${namespace} ${name} ${JSON.stringify(dimensions)}`).toHaveLength(1);
  return found[0] as Alarm;
};

const named = (alarms: readonly Alarm[], d: Deployment, suffix: string) => {
  const alarm = alarms.find((candidate) => candidate.AlarmName === `${d.prefix}-${suffix}`);
  expect(alarm, suffix).toBeDefined();
  return alarm as Alarm;
};

/** The ms of p99 duration at which the deadline alarm fires: its metric math is 100 * p99 / deadline. */
const durationThresholdMs = (alarm: Alarm): number => {
  const [query] = alarm.Metrics.filter((metric) => metric.ReturnData);
  const match = /^100 \* (\w+) \/ (\d+)$/.exec(query?.Expression ?? '');
  const input = alarm.Metrics.find((metric) => metric.Id === match?.[1]);
  expect(input?.MetricStat?.Stat, 'the deadline alarm reads the p99').toBe('p99');
  return (alarm.Threshold * Number(match?.[2])) / 100;
};

/** A metric-math alarm: its inputs (id → metric of the service, statistic, period) and its one expression. */
const expectMathAlarm = (
  alarm: Alarm,
  inputs: Record<string, { namespace?: string; name: string; dimensions?: Record<string, string> }>,
  { expression, period, stat = 'Sum' }: { expression: string; period: number; stat?: string },
  d: Deployment,
) => {
  const queries = alarm.Metrics.filter((query) => query.MetricStat);
  expect(
    Object.fromEntries(queries.map((query) => [query.Id, query.MetricStat])),
    `${alarm.AlarmName}'s inputs`,
  ).toEqual(
    Object.fromEntries(
      Object.entries(inputs).map(([id, input]) => [
        id,
        {
          Namespace: input.namespace ?? DEFAULT_NAMESPACE,
          MetricName: input.name,
          Dimensions: input.dimensions ?? { service: d.prefix },
          Period: period,
          Stat: stat,
        },
      ]),
    ),
  );
  for (const query of queries) expect(query.ReturnData, `${alarm.AlarmName} ${query.Id}`).toBe(false);
  const returned = alarm.Metrics.filter((query) => query.ReturnData);
  expect(returned.map((query) => query.Expression)).toEqual([expression]);
};

const expectShape = (
  alarm: Alarm,
  shape: {
    ComparisonOperator: string;
    Threshold: number;
    EvaluationPeriods: number;
    DatapointsToAlarm: number;
  },
) => {
  expect(
    {
      ComparisonOperator: alarm.ComparisonOperator,
      Threshold: alarm.Threshold,
      EvaluationPeriods: alarm.EvaluationPeriods,
      DatapointsToAlarm: alarm.DatapointsToAlarm,
    },
    alarm.AlarmName,
  ).toEqual(shape);
};

export const expectAlarmsAsSpecified = (alarms: readonly Alarm[], d: Deployment) => {
  const names = namesOf(d.prefix);
  for (const ref of alarms.flatMap(alarmMetrics)) expectOwnMetricsEmitted([ref], d);
  expect(alarms.map((alarm) => alarm.AlarmName).sort()).toEqual(alarmNamesOf(d).sort());

  const anyAbove = (alarm: Alarm, threshold: number) => {
    expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: threshold });
  };
  const failingShape = {
    ComparisonOperator: 'GreaterThanThreshold',
    Threshold: 50,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
  };

  // A User Service outage, whatever its shape, as the functions' own outcomes show it: more than
  // half failing in 2 of 3 five-minute periods.
  expectMathAlarm(
    named(alarms, d, 'sign-ups-not-synced'),
    Object.fromEntries(Object.entries(FAILURE_RATIO_INPUTS.signUps).map(([id, name]) => [id, { name }])),
    { expression: FAILURE_RATIO.signUps, period: 300 },
    d,
  );
  expectShape(named(alarms, d, 'sign-ups-not-synced'), failingShape);
  expectMathAlarm(
    named(alarms, d, 'retries-failing'),
    Object.fromEntries(Object.entries(FAILURE_RATIO_INPUTS.retries).map(([id, name]) => [id, { name }])),
    { expression: FAILURE_RATIO.retries, period: 300 },
    d,
  );
  expectShape(named(alarms, d, 'retries-failing'), failingShape);

  const dropped = alarmOn(alarms, DEFAULT_NAMESPACE, MetricName.UserSyncDropped, { service: d.prefix });
  expect(dropped.Statistic).toBe('Sum');
  anyAbove(dropped, 0);
  const deadLetters = [
    names.deadLetterQueue,
    ...(d.userChanges ? [names.changesDeadLetterQueue] : []),
    ...(d.reconcile ? [names.reconcileDeadLetterQueue] : []),
  ];
  for (const queue of deadLetters) {
    const deadLetter = alarmOn(alarms, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: queue });
    expect(deadLetter.Statistic).toBe('Maximum');
    anyAbove(deadLetter, 0);
  }
  // Kept for what the outcome metrics cannot see (a consumer that stopped): a message never received
  // keeps its place in the age metric; a retried one drops out of it after its third receive.
  for (const queue of [names.retryQueue, ...(d.userChanges ? [names.changesQueue] : [])]) {
    const oldest = alarmOn(alarms, 'AWS/SQS', 'ApproximateAgeOfOldestMessage', { QueueName: queue });
    expect(oldest.Statistic).toBe('Maximum');
    anyAbove(oldest, 3600);
  }
  for (const role of functionsOf(d)) {
    const errors = alarmOn(alarms, 'AWS/Lambda', 'Errors', { FunctionName: names[role] });
    expect(errors.Statistic).toBe('Sum');
    anyAbove(errors, 0);
  }
  const throttled: FunctionRole[] = ['postConfirmation', ...(d.userChanges ? ['userChanges' as const] : [])];
  for (const role of throttled) {
    const throttles = alarmOn(alarms, 'AWS/Lambda', 'Throttles', { FunctionName: names[role] });
    expect(throttles.Statistic).toBe('Sum');
    anyAbove(throttles, 0);
  }
  const duration = alarmOn(alarms, 'AWS/Lambda', 'Duration', { FunctionName: names.postConfirmation });
  expect(duration.ComparisonOperator).toBe('GreaterThanThreshold');
  expect(durationThresholdMs(duration)).toBe(0.9 * d.syncDeadlineMs);

  if (d.userChanges) {
    expectMathAlarm(
      named(alarms, d, 'user-changes-failing'),
      Object.fromEntries(
        Object.entries(FAILURE_RATIO_INPUTS.userChanges).map(([id, name]) => [id, { name }]),
      ),
      { expression: FAILURE_RATIO.userChanges, period: 300 },
      d,
    );
    expectShape(named(alarms, d, 'user-changes-failing'), failingShape);
    // Deliveries of the rule that failed for good (a missing KMS grant, a queue policy): lost events.
    const failed = alarmOn(alarms, 'AWS/Events', 'FailedInvocations', { RuleName: names.userChangesRule });
    expect(failed.Statistic).toBe('Sum');
    anyAbove(failed, 0);
    // Sign-ups all day, and not one message into the changes queue: the trail or the rule is broken.
    const missing = named(alarms, d, 'cognito-events-missing');
    expectMathAlarm(
      missing,
      {
        sent: {
          namespace: 'AWS/SQS',
          name: 'NumberOfMessagesSent',
          dimensions: { QueueName: names.changesQueue },
        },
        synced: { name: MetricName.UserSynced },
        exists: { name: MetricName.UserAlreadyExists },
        queued: { name: MetricName.UserSyncQueued },
      },
      { expression: COGNITO_EVENTS_MISSING, period: 86_400 },
      d,
    );
    expectShape(missing, {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: COGNITO_EVENTS_MISSING_SIGN_UPS,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
    });
  }
  if (d.reconcile) {
    // Drift of any kind in an hour: the four counts summed (a missing series counting as 0), above 0.
    const drift = alarmOn(alarms, DEFAULT_NAMESPACE, MetricName.ReconcileMissing, { service: d.prefix });
    const inputs = drift.Metrics.filter((query) => query.MetricStat);
    expect(inputs.map((query) => query.MetricStat?.MetricName).sort()).toEqual(
      [
        MetricName.ReconcileDifferent,
        MetricName.ReconcileExcluded,
        MetricName.ReconcileMissing,
        MetricName.ReconcileOrphaned,
      ].sort(),
    );
    for (const query of inputs) expect(query.MetricStat).toMatchObject({ Period: 3600, Stat: 'Sum' });
    const [sum] = drift.Metrics.filter((query) => query.ReturnData);
    const summed = (sum?.Expression ?? '').split(' + ').map((term) => /^FILL\((\w+), 0\)$/.exec(term)?.[1]);
    expect(summed.sort()).toEqual(inputs.map((query) => query.Id).sort());
    anyAbove(drift, 0);
    // The heartbeat: a day without a completed run is a day of zero, for as many days as the schedule allows.
    const heartbeat = named(alarms, d, 'reconcile-runs-not-completing');
    expectMathAlarm(
      heartbeat,
      { completed: { name: MetricName.ReconcileRunCompleted } },
      { expression: 'FILL(completed, 0)', period: 86_400 },
      d,
    );
    const days = d.reconcile.overdueDays ?? DEFAULT_RECONCILE.overdueDays;
    expectShape(heartbeat, {
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: days,
      DatapointsToAlarm: days,
    });
  }

  const actions = d.alarmTopicArn ? [d.alarmTopicArn] : [];
  for (const entry of alarmsOf(d)) {
    const alarm = named(alarms, d, entry.suffix);
    expect(alarm.AlarmActions, `${alarm.AlarmName} notifies`).toEqual(actions);
    expect(alarm.OKActions, `${alarm.AlarmName} notifies recovery`).toEqual(actions);
    // Missing data decided per alarm (docs/deploy.md, "Alarms: what they mean and what to do").
    expect(alarm.TreatMissingData, alarm.AlarmName).toBe(entry.treatMissingData);
    // What broke, the first command to run, the runbook: within CloudWatch's 1024 characters.
    const tail = descriptionTailOf(d, entry);
    expect(alarm.AlarmDescription.endsWith(tail), `${alarm.AlarmName}: ${alarm.AlarmDescription}`).toBe(true);
    expect(alarm.AlarmDescription.length - tail.length, `${alarm.AlarmName} says what broke`).toBeGreaterThan(
      40,
    );
    expect(alarm.AlarmDescription.length, alarm.AlarmName).toBeLessThanOrEqual(1024);
  }
};

/** A saved Logs Insights query as both flavours declare it: name, query, the log groups it runs on. */
export interface QueryDefinition {
  Name: string;
  QueryString: string;
  LogGroupNames: string[];
}

/** The Logs Insights queries of docs/deploy.md, saved; each on the log groups of the functions it reads. */
export const QUERIES: readonly { name: string; functions: readonly FunctionRole[]; query: string }[] = [
  {
    name: 'dropped-users',
    functions: ['postConfirmation'],
    query:
      'fields @timestamp, userPoolId, cognitoSub, reason, queueFailure | filter outcome = "dropped" | sort @timestamp desc',
  },
  {
    name: 'user-service-failures',
    functions: ['postConfirmation', 'retryWorker', 'userChanges'],
    query:
      'filter outcome in ["queued", "deferred", "dead-lettered"] | stats count(*) as failures by bin(5m), @log, outcome, reason, httpStatus',
  },
  {
    name: 'dead-letters',
    functions: ['retryWorker', 'userChanges'],
    query:
      'fields @timestamp, @log, cognitoSub, reason, detail, httpStatus | filter outcome = "dead-lettered" | sort @timestamp desc',
  },
  {
    name: 'function-errors',
    functions: ['postConfirmation', 'retryWorker', 'userChanges', 'reconcile'],
    query:
      'fields @timestamp, @log, @message | filter level = "ERROR" or @message like /Task timed out/ or @message like /Runtime\\./ | sort @timestamp desc | limit 200',
  },
  {
    name: 'reconcile-runs',
    functions: ['reconcile'],
    query:
      'fields @timestamp, runId, message | filter message like /Reconcile run completed|Reconcile handed on|DescribeUserPool failed/ | sort @timestamp desc',
  },
];

export const expectQueryDefinitionsAsSpecified = (definitions: readonly QueryDefinition[], d: Deployment) => {
  const names = namesOf(d.prefix);
  const deployed = new Set(functionsOf(d));
  const expected = QUERIES.map((query) => ({
    Name: `${d.prefix}/${query.name}`,
    QueryString: query.query,
    LogGroupNames: query.functions
      .filter((role) => deployed.has(role))
      .map((role) => `/aws/lambda/${names[role]}`)
      .sort(),
  })).filter((query) => query.LogGroupNames.length > 0);
  const byName = (a: QueryDefinition, b: QueryDefinition) => a.Name.localeCompare(b.Name);
  expect(
    definitions
      .map((definition) => ({ ...definition, LogGroupNames: [...definition.LogGroupNames].sort() }))
      .sort(byName),
  ).toEqual(expected.sort(byName));
};
