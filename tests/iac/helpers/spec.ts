// What issue 4 and the design ask of a deployment, as assertions both flavours must pass: the
// same checks run on the rendered SAM template, on what Terraform applied to the emulator, and on
// what CloudFormation created there.

import { expect } from 'vitest';
import { DEFAULT_NAMESPACE, MetricName } from '../../../src/metric-names.js';
import { type Alarm, alarmMetrics, type MetricRef } from './metrics.js';
import type { Statement } from './policies.js';

export interface Deployment {
  prefix: string;
  region: string;
  accountId: string;
  userServiceUrl: string;
  apiKeySecretArn?: string;
  signingSecretArn?: string;
  alarmTopicArn?: string;
  syncDeadlineMs: number;
  maxReceiveCount: number;
  maximumConcurrency: number;
  logRetentionDays: number;
  userPoolArn: string;
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
}

export type FunctionRole = 'postConfirmation' | 'retryWorker';

export const namesOf = (prefix: string) => ({
  postConfirmation: `${prefix}-post-confirmation`,
  retryWorker: `${prefix}-retry-worker`,
  retryQueue: `${prefix}-retry`,
  deadLetterQueue: `${prefix}-dead-letter`,
  dashboard: prefix,
});

export const arnsOf = (d: Pick<Deployment, 'prefix' | 'region' | 'accountId'>) => {
  const names = namesOf(d.prefix);
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${d.region}:${d.accountId}:${resource}`;
  return {
    postConfirmation: arn('lambda', `function:${names.postConfirmation}`),
    retryWorker: arn('lambda', `function:${names.retryWorker}`),
    retryQueue: arn('sqs', names.retryQueue),
    deadLetterQueue: arn('sqs', names.deadLetterQueue),
    logGroup: (role: FunctionRole) => arn('logs', `log-group:/aws/lambda/${names[role]}`),
  };
};

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
}

export const functionSettings = (raw: Record<string, unknown>): FunctionSettings => ({
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
});

export const expectFunctionAsSpecified = (
  actual: FunctionSettings,
  role: FunctionRole,
  d: Deployment,
  /** Settings the source cannot report (an emulator that drops them): left out of the comparison. */
  { unreported = [] }: { unreported?: (keyof FunctionSettings)[] } = {},
) => {
  const environment: Record<string, string> = {
    USER_SERVICE_URL: d.userServiceUrl,
    USER_SERVICE_API_KEY_SECRET_ID: d.apiKeySecretArn ?? '',
    USER_SERVICE_SIGNING_SECRET_ID: d.signingSecretArn ?? '',
    RETRY_QUEUE_URL: d.retryQueueUrl,
    DEAD_LETTER_QUEUE_URL: d.deadLetterQueueUrl,
    // The metrics' service dimension is the prefix: each deployment's alarms watch its own series.
    POWERTOOLS_SERVICE_NAME: d.prefix,
    POWERTOOLS_METRICS_NAMESPACE: DEFAULT_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    NODE_OPTIONS: '--enable-source-maps',
    ...(role === 'postConfirmation' && { SYNC_DEADLINE_MS: String(d.syncDeadlineMs) }),
  };
  const expected: FunctionSettings = {
    FunctionName: namesOf(d.prefix)[role],
    Handler: 'index.handler',
    Runtime: 'nodejs22.x',
    Architectures: ['arm64'],
    Timeout: role === 'postConfirmation' ? 5 : 30,
    MemorySize: 256,
    TracingMode: 'Active',
    Environment: environment,
  };
  const without = (settings: FunctionSettings) =>
    Object.fromEntries(
      Object.entries(settings).filter(([key]) => !unreported.includes(key as keyof FunctionSettings)),
    );
  expect(without(actual)).toEqual(without(expected));
};

/** Queue attributes as SQS GetQueueAttributes returns them (strings). */
export const expectQueuesAsSpecified = (
  retry: Record<string, string>,
  deadLetter: Record<string, string>,
  d: Deployment,
) => {
  const arns = arnsOf(d);
  expect(retry).toMatchObject({
    SqsManagedSseEnabled: 'true',
    MessageRetentionPeriod: '1209600',
    VisibilityTimeout: '180',
    DelaySeconds: '30',
  });
  expect(JSON.parse(retry.RedrivePolicy ?? '{}')).toEqual({
    deadLetterTargetArn: arns.deadLetterQueue,
    maxReceiveCount: d.maxReceiveCount,
  });
  expect(deadLetter).toMatchObject({ SqsManagedSseEnabled: 'true', MessageRetentionPeriod: '1209600' });
  expect(deadLetter.RedrivePolicy).toBeUndefined();
};

export const expectEventSourceAsSpecified = (mapping: Record<string, unknown>, d: Deployment) => {
  const arns = arnsOf(d);
  expect(mapping).toMatchObject({
    EventSourceArn: arns.retryQueue,
    FunctionArn: arns.retryWorker,
    BatchSize: 10,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    ScalingConfig: { MaximumConcurrency: d.maximumConcurrency },
  });
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

/** Exactly the permissions each function needs; the log group ARN as IAM takes it (":*" for its streams). */
export const expectedStatements = (role: FunctionRole, d: Deployment): Statement[] => {
  const arns = arnsOf(d);
  const secrets = [d.apiKeySecretArn, d.signingSecretArn].filter((arn): arn is string => Boolean(arn)).sort();
  const statements: Statement[] = [
    {
      Sid: 'WriteOwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [`${arns.logGroup(role)}:*`],
      other: [],
    },
    {
      Sid: 'WriteTraces',
      Effect: 'Allow',
      Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      Resource: ['*'],
      other: [],
    },
    ...(role === 'postConfirmation'
      ? [
          {
            Sid: 'QueueUnsyncedUsers',
            Effect: 'Allow',
            Action: ['sqs:SendMessage'],
            Resource: [arns.deadLetterQueue, arns.retryQueue],
            other: [],
          },
        ]
      : [
          {
            Sid: 'ConsumeRetryQueue',
            Effect: 'Allow',
            Action: [
              'sqs:ChangeMessageVisibility',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
              'sqs:ReceiveMessage',
            ],
            Resource: [arns.retryQueue],
            other: [],
          },
          {
            Sid: 'DeadLetterRejectedUsers',
            Effect: 'Allow',
            Action: ['sqs:SendMessage'],
            Resource: [arns.deadLetterQueue],
            other: [],
          },
        ]),
    ...(secrets.length > 0
      ? [
          {
            Sid: 'ReadUserServiceSecrets',
            Effect: 'Allow',
            Action: ['secretsmanager:GetSecretValue'],
            Resource: secrets,
            other: [],
          },
        ]
      : []),
  ];
  return statements.sort((a, b) => (a.Sid ?? '').localeCompare(b.Sid ?? ''));
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

/**
 * Each metric of the project's namespace must be one the code emits, with the dimension it sets:
 * `service`, which is POWERTOOLS_SERVICE_NAME, which the IaC sets to the name prefix.
 */
export const expectOwnMetricsEmitted = (refs: readonly MetricRef[], d: Pick<Deployment, 'prefix'>) => {
  const own = refs.filter((ref) => ref.namespace === DEFAULT_NAMESPACE);
  for (const ref of own) {
    expect(ownMetricNames, `${ref.name} is not in src/metric-names.ts`).toContain(ref.name);
    expect(ref.dimensions, `${ref.name}'s dimensions`).toEqual({ service: d.prefix });
  }
  return own;
};

export const expectDashboardAsSpecified = (refs: readonly MetricRef[], d: Deployment) => {
  const names = namesOf(d.prefix);
  const own = expectOwnMetricsEmitted(refs, d);
  // Every metric the code emits has a place on the dashboard.
  expect([...new Set(own.map((ref) => ref.name))].sort()).toEqual(ownMetricNames);
  const service = { service: d.prefix };
  expect(has(refs, DEFAULT_NAMESPACE, MetricName.UserServiceLatency, service).map((ref) => ref.stat)).toEqual(
    expect.arrayContaining(['p50', 'p99']),
  );
  const retryQueue = { QueueName: names.retryQueue };
  expect(has(refs, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', retryQueue)).toHaveLength(1);
  expect(has(refs, 'AWS/SQS', 'ApproximateAgeOfOldestMessage', retryQueue)).toHaveLength(1);
  expect(
    has(refs, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: names.deadLetterQueue }),
  ).toHaveLength(1);
  for (const fn of [names.postConfirmation, names.retryWorker]) {
    const dimensions = { FunctionName: fn };
    expect(has(refs, 'AWS/Lambda', 'Errors', dimensions), `${fn} errors`).toHaveLength(1);
    expect(has(refs, 'AWS/Lambda', 'Throttles', dimensions), `${fn} throttles`).toHaveLength(1);
    expect(
      has(refs, 'AWS/Lambda', 'Duration', dimensions).map((ref) => ref.stat),
      `${fn} duration`,
    ).toEqual(['p99']);
  }
};

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

/** The ms of p99 duration at which the deadline alarm fires: its metric math is 100 * p99 / deadline. */
const durationThresholdMs = (alarm: Alarm): number => {
  const [query] = alarm.Metrics.filter((metric) => metric.ReturnData);
  const match = /^100 \* (\w+) \/ (\d+)$/.exec(query?.Expression ?? '');
  const input = alarm.Metrics.find((metric) => metric.Id === match?.[1]);
  expect(input?.MetricStat?.Stat, 'the deadline alarm reads the p99').toBe('p99');
  return (alarm.Threshold * Number(match?.[2])) / 100;
};

export const expectAlarmsAsSpecified = (alarms: readonly Alarm[], d: Deployment) => {
  const names = namesOf(d.prefix);
  for (const ref of alarms.flatMap(alarmMetrics)) expectOwnMetricsEmitted([ref], d);

  const anyAbove = (alarm: Alarm, threshold: number) => {
    expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: threshold });
  };
  const dropped = alarmOn(alarms, DEFAULT_NAMESPACE, MetricName.UserSyncDropped, { service: d.prefix });
  expect(dropped.Statistic).toBe('Sum');
  anyAbove(dropped, 0);
  const deadLetter = alarmOn(alarms, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', {
    QueueName: names.deadLetterQueue,
  });
  anyAbove(deadLetter, 0);
  const oldest = alarmOn(alarms, 'AWS/SQS', 'ApproximateAgeOfOldestMessage', { QueueName: names.retryQueue });
  expect(oldest.Statistic).toBe('Maximum');
  anyAbove(oldest, 3600);
  for (const fn of [names.postConfirmation, names.retryWorker]) {
    const errors = alarmOn(alarms, 'AWS/Lambda', 'Errors', { FunctionName: fn });
    expect(errors.Statistic).toBe('Sum');
    anyAbove(errors, 0);
  }
  const duration = alarmOn(alarms, 'AWS/Lambda', 'Duration', { FunctionName: names.postConfirmation });
  expect(duration.ComparisonOperator).toBe('GreaterThanThreshold');
  expect(durationThresholdMs(duration)).toBe(0.9 * d.syncDeadlineMs);

  const actions = d.alarmTopicArn ? [d.alarmTopicArn] : [];
  for (const alarm of alarms) {
    expect(alarm.AlarmName.startsWith(`${d.prefix}-`), alarm.AlarmName).toBe(true);
    expect(alarm.AlarmActions, `${alarm.AlarmName} notifies`).toEqual(actions);
    expect(alarm.OKActions, `${alarm.AlarmName} notifies recovery`).toEqual(actions);
    // No traffic is no news: an idle pool must not look like an outage.
    expect(alarm.TreatMissingData, alarm.AlarmName).toBe('notBreaching');
  }
};
