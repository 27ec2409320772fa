// Reads a deployment back from the emulator through the AWS APIs (aws CLI), in the shapes the
// spec helpers take: what an account holds, not what a template says.

import { execFileSync } from 'node:child_process';
import { type Alarm, normalizeAlarm } from './metrics.js';
import type { Emulator } from './moto.js';
import { normalizePolicy, type Statement } from './policies.js';
import {
  type FunctionSettings,
  functionSettings,
  namesOf,
  type TableSettings,
  tableSettingsOfApi,
} from './spec.js';

export const readFunction = async (aws: Emulator['aws'], name: string) => {
  const raw = await aws<Record<string, unknown>>(
    'lambda',
    'get-function-configuration',
    '--function-name',
    name,
  );
  // Reserved concurrency is not part of the configuration: Lambda reports it apart.
  const concurrency = await aws<{ ReservedConcurrentExecutions?: number } | null>(
    'lambda',
    'get-function-concurrency',
    '--function-name',
    name,
  );
  const withConcurrency = {
    ...raw,
    ...(concurrency?.ReservedConcurrentExecutions !== undefined && {
      ReservedConcurrentExecutions: concurrency.ReservedConcurrentExecutions,
    }),
  };
  return { raw, settings: functionSettings(withConcurrency) as FunctionSettings };
};

/** Every queue named from the prefix, with its attributes, by name. */
export const readQueues = async (aws: Emulator['aws'], prefix: string) => {
  const listed = await aws<{ QueueUrls?: string[] } | null>(
    'sqs',
    'list-queues',
    '--queue-name-prefix',
    `${prefix}-`,
  );
  const queues: Record<string, Record<string, string>> = {};
  for (const url of listed?.QueueUrls ?? []) {
    const name = url.split('/').at(-1) ?? url;
    if (!name.startsWith(`${prefix}-`)) continue;
    queues[name] = (await readQueue(aws, name)).attributes;
  }
  return queues;
};

/** The DynamoDB tables named from the prefix, with their TTL, as DynamoDB reports them. */
export const readTables = async (aws: Emulator['aws'], prefix: string): Promise<TableSettings[]> => {
  const { TableNames } = await aws<{ TableNames: string[] }>('dynamodb', 'list-tables');
  const tables: TableSettings[] = [];
  for (const name of TableNames.filter((table) => table.startsWith(`${prefix}-`)).sort()) {
    const { Table } = await aws<{ Table: Record<string, unknown> }>(
      'dynamodb',
      'describe-table',
      '--table-name',
      name,
    );
    const { TimeToLiveDescription } = await aws<{
      TimeToLiveDescription: { TimeToLiveStatus?: string; AttributeName?: string };
    }>('dynamodb', 'describe-time-to-live', '--table-name', name);
    tables.push(tableSettingsOfApi(Table, TimeToLiveDescription));
  }
  return tables;
};

/** A rule of the default event bus and its targets. */
export const readRule = async (aws: Emulator['aws'], name: string) => {
  const rule = await aws<Record<string, unknown> & { Name: string }>(
    'events',
    'describe-rule',
    '--name',
    name,
  );
  const { Targets } = await aws<{ Targets: { Id: string; Arn: string }[] }>(
    'events',
    'list-targets-by-rule',
    '--rule',
    name,
  );
  return { rule, targets: Targets };
};

/** A trail as DescribeTrails, GetTrailStatus and GetEventSelectors report it, in one object. */
export const readTrail = async (aws: Emulator['aws'], name: string) => {
  const { trailList } = await aws<{ trailList: Record<string, unknown>[] }>(
    'cloudtrail',
    'describe-trails',
    '--trail-name-list',
    name,
  );
  const { IsLogging } = await aws<{ IsLogging: boolean }>('cloudtrail', 'get-trail-status', '--name', name);
  const { EventSelectors } = await aws<{
    EventSelectors: { ReadWriteType: string; IncludeManagementEvents: boolean }[];
  }>('cloudtrail', 'get-event-selectors', '--trail-name', name);
  return { ...(trailList[0] ?? {}), IsLogging, EventSelectors } as {
    Name: string;
    S3BucketName: string;
    IsMultiRegionTrail: boolean;
    IncludeGlobalServiceEvents: boolean;
    LogFileValidationEnabled: boolean;
    IsLogging: boolean;
    EventSelectors: { ReadWriteType: string; IncludeManagementEvents: boolean }[];
  };
};

/** What protects a bucket: its default encryption, public access block and policy. */
export const readBucketProtection = async (aws: Emulator['aws'], bucket: string) => {
  const { ServerSideEncryptionConfiguration } = await aws<{
    ServerSideEncryptionConfiguration: {
      Rules: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: string } }[];
    };
  }>('s3api', 'get-bucket-encryption', '--bucket', bucket);
  const { PublicAccessBlockConfiguration } = await aws<{
    PublicAccessBlockConfiguration: Record<string, boolean>;
  }>('s3api', 'get-public-access-block', '--bucket', bucket);
  const { Policy } = await aws<{ Policy: string }>('s3api', 'get-bucket-policy', '--bucket', bucket);
  return {
    encryption: ServerSideEncryptionConfiguration.Rules.map(
      (rule) => rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm,
    ),
    publicAccessBlock: PublicAccessBlockConfiguration,
    statements: normalizePolicy(Policy),
  };
};

export const readQueue = async (aws: Emulator['aws'], name: string) => {
  const { QueueUrl } = await aws<{ QueueUrl: string }>('sqs', 'get-queue-url', '--queue-name', name);
  const { Attributes } = await aws<{ Attributes: Record<string, string> }>(
    'sqs',
    'get-queue-attributes',
    '--queue-url',
    QueueUrl,
    '--attribute-names',
    'All',
  );
  return { url: QueueUrl, attributes: Attributes };
};

export const readEventSourceMappings = async (aws: Emulator['aws'], eventSourceArn: string) =>
  (
    await aws<{ EventSourceMappings: Record<string, unknown>[] }>(
      'lambda',
      'list-event-source-mappings',
      '--event-source-arn',
      eventSourceArn,
    )
  ).EventSourceMappings;

/** The statements of the function's resource policy (who may invoke it). */
export const readInvokePermissions = async (aws: Emulator['aws'], functionName: string) => {
  const { Policy } = await aws<{ Policy: string }>('lambda', 'get-policy', '--function-name', functionName);
  return (JSON.parse(Policy) as { Statement: Record<string, unknown>[] }).Statement;
};

// moto's CloudFormation stores an inline policy as Python's repr of the document rather than JSON
// (and keeps an AWS::NoValue list item as None); read that the way Python would.
const parsePolicyDocument = (document: unknown): unknown => {
  if (typeof document !== 'string') return document;
  try {
    return JSON.parse(document);
  } catch {
    const json = execFileSync(
      'python3',
      ['-c', 'import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))'],
      { input: document },
    ).toString();
    return JSON.parse(json);
  }
};

/** The role's inline policies merged into one list of statements, and its attached managed policies. */
export const readRolePolicies = async (
  aws: Emulator['aws'],
  roleArn: string,
  { dropNullStatements = false } = {},
): Promise<{ statements: Statement[]; managed: string[]; policyNames: string[] }> => {
  const roleName = roleArn.split('/').at(-1) ?? roleArn;
  const { PolicyNames } = await aws<{ PolicyNames: string[] }>(
    'iam',
    'list-role-policies',
    '--role-name',
    roleName,
  );
  const raw: unknown[] = [];
  for (const policyName of PolicyNames) {
    const { PolicyDocument } = await aws<{ PolicyDocument: unknown }>(
      'iam',
      'get-role-policy',
      '--role-name',
      roleName,
      '--policy-name',
      policyName,
    );
    const statements = (parsePolicyDocument(PolicyDocument) as { Statement: unknown }).Statement;
    raw.push(...(Array.isArray(statements) ? statements : [statements]));
  }
  const { AttachedPolicies } = await aws<{ AttachedPolicies: { PolicyArn: string }[] }>(
    'iam',
    'list-attached-role-policies',
    '--role-name',
    roleName,
  );
  return {
    statements: normalizePolicy({
      Statement: dropNullStatements ? raw.filter((item) => item !== null) : raw,
    }),
    managed: AttachedPolicies.map((policy) => policy.PolicyArn),
    policyNames: PolicyNames,
  };
};

export const readAlarms = async (aws: Emulator['aws'], prefix: string): Promise<Alarm[]> =>
  (
    await aws<{ MetricAlarms: Record<string, unknown>[] }>(
      'cloudwatch',
      'describe-alarms',
      '--alarm-name-prefix',
      `${prefix}-`,
    )
  ).MetricAlarms.map(normalizeAlarm);

export const readDashboardBody = async (aws: Emulator['aws'], name: string): Promise<unknown> =>
  JSON.parse(
    (await aws<{ DashboardBody: string }>('cloudwatch', 'get-dashboard', '--dashboard-name', name))
      .DashboardBody,
  );

/** Everything named from the prefix that is still in the account: empty once a stack is gone. */
export const leftovers = async (aws: Emulator['aws'], prefix: string): Promise<string[]> => {
  const names = namesOf(prefix);
  const found: string[] = [];
  const { Functions } = await aws<{ Functions: { FunctionName: string }[] }>('lambda', 'list-functions');
  found.push(
    ...Functions.filter((fn) => fn.FunctionName.startsWith(`${prefix}-`)).map(
      (fn) => `function ${fn.FunctionName}`,
    ),
  );
  const { EventSourceMappings } = await aws<{ EventSourceMappings: { UUID: string }[] }>(
    'lambda',
    'list-event-source-mappings',
  );
  found.push(...EventSourceMappings.map((mapping) => `event source mapping ${mapping.UUID}`));
  const queues = await aws<{ QueueUrls?: string[] } | null>(
    'sqs',
    'list-queues',
    '--queue-name-prefix',
    `${prefix}-`,
  );
  found.push(...(queues?.QueueUrls ?? []).map((url) => `queue ${url}`));
  const { TableNames } = await aws<{ TableNames: string[] }>('dynamodb', 'list-tables');
  found.push(...TableNames.filter((name) => name.startsWith(`${prefix}-`)).map((name) => `table ${name}`));
  const { Roles } = await aws<{ Roles: { RoleName: string }[] }>('iam', 'list-roles');
  found.push(
    ...Roles.filter((role) => role.RoleName.startsWith(`${prefix}-`)).map((role) => `role ${role.RoleName}`),
  );
  const { logGroups } = await aws<{ logGroups: { logGroupName: string }[] }>(
    'logs',
    'describe-log-groups',
    '--log-group-name-prefix',
    `/aws/lambda/${prefix}-`,
  );
  found.push(...logGroups.map((group) => `log group ${group.logGroupName}`));
  const { MetricAlarms } = await aws<{ MetricAlarms: { AlarmName: string }[] }>(
    'cloudwatch',
    'describe-alarms',
    '--alarm-name-prefix',
    `${prefix}-`,
  );
  found.push(...MetricAlarms.map((alarm) => `alarm ${alarm.AlarmName}`));
  const { DashboardEntries } = await aws<{ DashboardEntries: { DashboardName: string }[] }>(
    'cloudwatch',
    'list-dashboards',
  );
  found.push(
    ...DashboardEntries.filter((entry) => entry.DashboardName === names.dashboard).map(
      (entry) => `dashboard ${entry.DashboardName}`,
    ),
  );
  const { UserPools } = await aws<{ UserPools: { Id: string; Name: string }[] }>(
    'cognito-idp',
    'list-user-pools',
    '--max-results',
    '60',
  );
  found.push(...UserPools.filter((pool) => pool.Name === prefix).map((pool) => `user pool ${pool.Id}`));
  const { Rules } = await aws<{ Rules: { Name: string }[] }>(
    'events',
    'list-rules',
    '--name-prefix',
    `${prefix}-`,
  );
  found.push(...Rules.map((rule) => `rule ${rule.Name}`));
  const { trailList } = await aws<{ trailList: { Name: string; S3BucketName: string }[] }>(
    'cloudtrail',
    'describe-trails',
  );
  found.push(
    ...trailList
      .filter((trail) => trail.Name === names.trail)
      .map((trail) => `trail ${trail.Name} (${trail.S3BucketName})`),
  );
  const { Buckets } = await aws<{ Buckets: { Name: string }[] }>('s3api', 'list-buckets');
  found.push(
    ...Buckets.filter((bucket) => bucket.Name.startsWith(`${prefix.toLowerCase()}-trail-`)).map(
      (bucket) => `bucket ${bucket.Name}`,
    ),
  );
  return found;
};
