// template.yaml deployed to the moto emulator's CloudFormation the way `sam deploy` does it: the
// zips uploaded to S3, the SAM transform applied (moto cannot run it, so aws-sam-translator does,
// as CloudFormation would), the stack created, read back through the AWS APIs and deleted.
//
// moto's CloudFormation (moto 5.2) has no AWS::Cognito::UserPool and no AWS::CloudWatch::Alarm:
// the new-pool variant cannot be created there, and the alarms are left out of the stack. It also
// drops a function's Architectures, TracingConfig and LoggingConfig. All of these are checked on
// the rendered template (sam-template.test.ts) and, for Terraform, in the emulator.

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  leftovers,
  readAlarms,
  readDashboardBody,
  readEventSourceMappings,
  readFunction,
  readInvokePermissions,
  readQueue,
  readRolePolicies,
} from './helpers/inventory.js';
import { dashboardMetrics } from './helpers/metrics.js';
import { ACCOUNT_ID, type Emulator, startEmulator } from './helpers/moto.js';
import { wildcardViolations } from './helpers/policies.js';
import { REPO_ROOT, run } from './helpers/run.js';
import { transformTemplate } from './helpers/sam.js';
import {
  arnsOf,
  type Deployment,
  expectCognitoPermissionAsSpecified,
  expectDashboardAsSpecified,
  expectEventSourceAsSpecified,
  expectedStatements,
  expectFunctionAsSpecified,
  expectQueuesAsSpecified,
  namesOf,
} from './helpers/spec.js';
import { ZIPS } from './helpers/terraform.js';

const prefix = 'sam-sync';
const names = namesOf(prefix);
const stackName = 'cognito-user-sync-sam';
const bucket = 'cognito-user-sync-artifacts';

let emulator: Emulator;
let scratch: string;
let templateFile: string;
let existingPoolId: string;
let deployment: Deployment;
let stackDeleted = false;

const parameterArgs = (parameters: Record<string, string | number>) => [
  '--parameters',
  ...Object.entries(parameters).map(([key, value]) => `ParameterKey=${key},ParameterValue=${value}`),
];

const parameters = () => ({
  NamePrefix: prefix,
  UserServiceUrl: 'https://users.internal.example.com/api/v1/users',
  UserPoolId: existingPoolId,
  SyncDeadlineMs: 2500,
  RetryWorkerMaximumConcurrency: 4,
  MaxReceiveCount: 8,
  LogRetentionDays: 7,
});

const createStack = (name: string, values: Record<string, string | number>) =>
  run(
    'aws',
    [
      'cloudformation',
      'create-stack',
      '--stack-name',
      name,
      '--template-body',
      `file://${templateFile}`,
      '--capabilities',
      'CAPABILITY_NAMED_IAM',
      ...parameterArgs(values),
      '--endpoint-url',
      emulator.endpoint,
    ],
    { env: emulator.env },
  );

const stackResources = async () =>
  (
    await emulator.aws<{ StackResources: { LogicalResourceId: string; PhysicalResourceId?: string }[] }>(
      'cloudformation',
      'describe-stack-resources',
      '--stack-name',
      stackName,
    )
  ).StackResources;

beforeAll(async () => {
  emulator = await startEmulator();
  const { aws, region } = emulator;
  scratch = await mkdtemp(join(tmpdir(), 'cognito-user-sync-sam-'));

  // What `sam deploy` does before CloudFormation: upload the zips, point CodeUri at them.
  await aws(
    's3api',
    'create-bucket',
    '--bucket',
    bucket,
    '--create-bucket-configuration',
    `LocationConstraint=${region}`,
  );
  for (const zip of ZIPS) {
    await aws(
      's3api',
      'put-object',
      '--bucket',
      bucket,
      '--key',
      zip,
      '--body',
      join(REPO_ROOT, 'dist', zip),
    );
  }
  templateFile = join(scratch, 'template.json');
  await writeFile(templateFile, JSON.stringify(await transformTemplate({ bucket, region })));

  existingPoolId = (
    await aws<{ UserPool: { Id: string } }>('cognito-idp', 'create-user-pool', '--pool-name', 'existing-pool')
  ).UserPool.Id;

  const created = await createStack(stackName, parameters());
  if (created.code !== 0) throw new Error(`create-stack failed:\n${created.stderr}`);

  const resources = await stackResources();
  const physical = (logicalId: string) =>
    resources.find((resource) => resource.LogicalResourceId === logicalId)?.PhysicalResourceId ?? '';
  deployment = {
    prefix,
    region,
    accountId: ACCOUNT_ID,
    userServiceUrl: 'https://users.internal.example.com/api/v1/users',
    syncDeadlineMs: 2500,
    maxReceiveCount: 8,
    maximumConcurrency: 4,
    logRetentionDays: 7,
    userPoolArn: `arn:aws:cognito-idp:${region}:${ACCOUNT_ID}:userpool/${existingPoolId}`,
    retryQueueUrl: physical('RetryQueue'),
    deadLetterQueueUrl: physical('DeadLetterQueue'),
  };
});

afterAll(async () => {
  if (emulator && !stackDeleted) {
    await emulator.aws('cloudformation', 'delete-stack', '--stack-name', stackName).catch(() => undefined);
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
  await emulator?.stop();
});

describe('template.yaml deployed to the emulator with an existing user pool', () => {
  it('creates the stack', async () => {
    const { Stacks } = await emulator.aws<{ Stacks: { StackStatus: string }[] }>(
      'cloudformation',
      'describe-stacks',
      '--stack-name',
      stackName,
    );

    expect(Stacks[0]?.StackStatus).toBe('CREATE_COMPLETE');
  });

  it('deploys each function from its zip in S3: nodejs22.x, index.handler, 5 s and 30 s, the project environment', async () => {
    for (const [role, zip] of [
      ['postConfirmation', 'post-confirmation.zip'],
      ['retryWorker', 'retry-worker.zip'],
    ] as const) {
      const { raw, settings } = await readFunction(emulator.aws, names[role]);
      const zipHash = createHash('sha256')
        .update(await readFile(join(REPO_ROOT, 'dist', zip)))
        .digest('base64');

      // moto's CloudFormation passes on neither Architectures nor TracingConfig (the rendered
      // template and the Terraform deployment show them).
      expectFunctionAsSpecified(settings, role, deployment, { unreported: ['Architectures', 'TracingMode'] });
      expect(raw.CodeSha256).toBe(zipHash);
    }
  });

  it('gives each function its own log group with the chosen retention', async () => {
    const { logGroups } = await emulator.aws<{
      logGroups: { logGroupName: string; retentionInDays: number }[];
    }>('logs', 'describe-log-groups', '--log-group-name-prefix', `/aws/lambda/${prefix}-`);

    expect(logGroups.map(({ logGroupName, retentionInDays }) => ({ logGroupName, retentionInDays }))).toEqual(
      [
        { logGroupName: `/aws/lambda/${names.postConfirmation}`, retentionInDays: 7 },
        { logGroupName: `/aws/lambda/${names.retryWorker}`, retentionInDays: 7 },
      ],
    );
  });

  it('encrypts both queues, keeps messages 14 days and redrives the retry queue to the DLQ after MaxReceiveCount receives', async () => {
    const retry = await readQueue(emulator.aws, names.retryQueue);
    const deadLetter = await readQueue(emulator.aws, names.deadLetterQueue);

    expectQueuesAsSpecified(retry.attributes, deadLetter.attributes, deployment);
  });

  it('feeds the retry queue to the worker ten at a time, with partial batch failures and bounded concurrency', async () => {
    const mappings = await readEventSourceMappings(emulator.aws, arnsOf(deployment).retryQueue);

    expect(mappings).toHaveLength(1);
    expectEventSourceAsSpecified(mappings[0] as Record<string, unknown>, deployment);
  });

  it('lets Cognito invoke the function only for the given pool, and leaves that pool as it was', async () => {
    const statements = await readInvokePermissions(emulator.aws, names.postConfirmation);
    const { UserPool } = await emulator.aws<{ UserPool: { LambdaConfig?: unknown } }>(
      'cognito-idp',
      'describe-user-pool',
      '--user-pool-id',
      existingPoolId,
    );

    expect(statements).toHaveLength(1);
    expectCognitoPermissionAsSpecified(statements[0] as Record<string, unknown>, deployment);
    expect(UserPool.LambdaConfig ?? {}).toEqual({});
  });

  it('grants each function exactly what it needs, with no wildcard beyond the X-Ray permissions and no managed policy', async () => {
    for (const role of ['postConfirmation', 'retryWorker'] as const) {
      const { raw } = await readFunction(emulator.aws, names[role]);
      // moto keeps the AWS::NoValue of the absent secrets statement as a null item.
      const { statements, managed } = await readRolePolicies(emulator.aws, String(raw.Role), {
        dropNullStatements: true,
      });

      expect(wildcardViolations(statements)).toEqual([]);
      // moto's Fn::GetAtt of a log group gives its ARN without the ":*" CloudFormation adds.
      const expected = expectedStatements(role, deployment).map((statement) =>
        statement.Sid === 'WriteOwnLogs'
          ? { ...statement, Resource: statement.Resource.map((arn) => arn.replace(/:\*$/, '')) }
          : statement,
      );
      expect(statements).toEqual(expected);
      expect(managed).toEqual([]);
    }
  });

  it('plots every metric the code emits, the User Service latency p50/p99, the queues and the functions on the dashboard', async () => {
    const body = await readDashboardBody(emulator.aws, names.dashboard);

    expectDashboardAsSpecified(dashboardMetrics(body), deployment);
  });

  it('outputs the function ARNs, the queue URLs and the dashboard name', async () => {
    const { Stacks } = await emulator.aws<{
      Stacks: { Outputs: { OutputKey: string; OutputValue: string }[] }[];
    }>('cloudformation', 'describe-stacks', '--stack-name', stackName);
    const outputs = Object.fromEntries(
      (Stacks[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
    );
    const arns = arnsOf(deployment);

    expect(outputs).toMatchObject({
      PostConfirmationFunctionArn: arns.postConfirmation,
      RetryWorkerFunctionArn: arns.retryWorker,
      RetryQueueUrl: deployment.retryQueueUrl,
      DeadLetterQueueUrl: deployment.deadLetterQueueUrl,
      DashboardName: names.dashboard,
      UserPoolId: existingPoolId,
    });
  });

  it("creates no alarm, because moto's CloudFormation has no AWS::CloudWatch::Alarm", async () => {
    expect(await readAlarms(emulator.aws, prefix)).toEqual([]);
  });

  it('leaves nothing behind once the stack is deleted, and the existing pool in place', async () => {
    expect(await leftovers(emulator.aws, prefix)).not.toEqual([]);

    await emulator.aws('cloudformation', 'delete-stack', '--stack-name', stackName);
    stackDeleted = true;

    expect(await leftovers(emulator.aws, prefix)).toEqual([]);
    const { UserPools } = await emulator.aws<{ UserPools: { Id: string }[] }>(
      'cognito-idp',
      'list-user-pools',
      '--max-results',
      '60',
    );
    expect(UserPools.map((pool) => pool.Id)).toContain(existingPoolId);
  });
});

describe('template.yaml deployed to the emulator with a new user pool', () => {
  it("is refused by moto's CloudFormation, which has no AWS::Cognito::UserPool", async () => {
    const created = await createStack('cognito-user-sync-sam-new-pool', { ...parameters(), UserPoolId: '' });

    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('Fn::GetAtt references undefined resource UserPool');
  });
});
