// template.yaml deployed to the moto emulator's CloudFormation the way `sam deploy` does it: the
// zips uploaded to S3, the SAM transform applied (moto cannot run it, so aws-sam-translator does,
// as CloudFormation would), the stack created, read back through the AWS APIs and deleted.
//
// moto's CloudFormation (moto 5.2) has no AWS::Cognito::UserPool, AWS::CloudWatch::Alarm,
// AWS::SQS::QueuePolicy, AWS::S3::BucketPolicy, AWS::CloudTrail::Trail or
// AWS::Lambda::EventInvokeConfig (moto's Lambda API has the last; its CloudFormation skips the
// type): the new-pool variant cannot be created there, and the alarms, policies and reconcile's
// asynchronous-invocation settings are left out of the stack (so the trail is not tried here). It also drops a function's Architectures, TracingConfig and LoggingConfig, and a
// table's TimeToLiveSpecification (and reads its SSESpecification by the API's `Enabled` rather
// than CloudFormation's `SSEEnabled`, so a table under a customer-managed key would look unkeyed;
// this stack has no key). All of these are checked on the rendered template (sam-template.test.ts)
// and, for Terraform, in the emulator (deploy-terraform*.test.ts).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itChecksTheDeployment } from './helpers/deployed.js';
import { leftovers, readAlarms, readInvokePermissions } from './helpers/inventory.js';
import { ACCOUNT_ID, type Emulator, startEmulator } from './helpers/moto.js';
import { normalizePolicy } from './helpers/policies.js';
import { REPO_ROOT, run } from './helpers/run.js';
import { samParametersOf, transformTemplate } from './helpers/sam.js';
import {
  arnsOf,
  type Deployment,
  deploymentOf,
  expectCognitoPermissionAsSpecified,
  expectedOperatorStatements,
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
  // A list parameter's commas are the value's own: the CLI's shorthand needs them quoted.
  // Empty values are the parameters' defaults: left out.
  ...Object.entries(parameters)
    .filter(([, value]) => value !== '')
    .map(
      ([key, value]) =>
        `ParameterKey=${key},ParameterValue=${String(value).includes(',') ? `'${value}'` : value}`,
    ),
];

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

  deployment = deploymentOf({
    prefix,
    region,
    accountId: ACCOUNT_ID,
    userServiceUrl: 'https://users.internal.example.com/api/v1/users',
    syncDeadlineMs: 2500,
    maxReceiveCount: 8,
    maximumConcurrency: 4,
    logRetentionDays: 7,
    userPoolArn: `arn:aws:cognito-idp:${region}:${ACCOUNT_ID}:userpool/${existingPoolId}`,
    userChanges: { maximumConcurrency: 3 },
    reconcile: { schedule: 'rate(1 day)', maxRps: 2, maxDeletes: 5 },
    operatorRoleArns: [
      `arn:aws:iam::${ACCOUNT_ID}:role/operations`,
      `arn:aws:iam::${ACCOUNT_ID}:role/support`,
    ],
  });
  const created = await createStack(stackName, samParametersOf(deployment));
  if (created.code !== 0) throw new Error(`create-stack failed:\n${created.stderr}`);
});

afterAll(async () => {
  if (emulator && !stackDeleted) {
    await emulator.aws('cloudformation', 'delete-stack', '--stack-name', stackName).catch(() => undefined);
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
  await emulator?.stop();
});

describe('template.yaml deployed to the emulator with an existing user pool, user changes, reconcile and operators', () => {
  it('creates the stack', async () => {
    const { Stacks } = await emulator.aws<{ Stacks: { StackStatus: string }[] }>(
      'cloudformation',
      'describe-stacks',
      '--stack-name',
      stackName,
    );

    expect(Stacks[0]?.StackStatus).toBe('CREATE_COMPLETE');
  });

  // moto's CloudFormation passes on neither Architectures nor TracingConfig, nor a table's TTL,
  // creates no queue policy, no alarm and no asynchronous-invocation settings, and keeps policies
  // its own way: those are checked on the
  // rendered template (sam-template.test.ts) and in the Terraform deployments.
  itChecksTheDeployment(() => ({ emulator, deployment }), {
    unreportedSettings: ['Architectures', 'TracingMode'],
    unreportedTableSettings: ['TimeToLiveAttribute'],
    queuePolicies: false,
    alarms: false,
    eventInvokeConfigs: false,
    queryDefinitions: false,
    cloudFormationPolicies: true,
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

  it("outputs the functions, the queue URLs, the run ledger's table, the dashboard name and the operators' policy", async () => {
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
      UserChangesFunctionArn: arns.function('userChanges'),
      ReconcileFunctionArn: arns.function('reconcile'),
      RetryQueueUrl: deployment.queueUrl(names.retryQueue),
      DeadLetterQueueUrl: deployment.queueUrl(names.deadLetterQueue),
      ChangesQueueUrl: deployment.queueUrl(names.changesQueue),
      ReconcileQueueUrl: deployment.queueUrl(names.reconcileQueue),
      ReconcileTableName: names.reconcileTable,
      DashboardName: names.dashboard,
      UserPoolId: existingPoolId,
    });
    expect(normalizePolicy(outputs.OperatorPolicy)).toEqual(expectedOperatorStatements(deployment));
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
    const created = await createStack('cognito-user-sync-sam-new-pool', {
      ...samParametersOf({ ...deployment, prefix: 'sam-new' }, { newPool: true }),
    });

    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('Fn::GetAtt references undefined resource UserPool');
  });
});
