// The Terraform module with every adoption option (tests/iac/fixtures/adoption) applied to the moto
// emulator: functions in subnets with security groups, a customer-managed key on the queues and log
// groups, a permissions boundary, reserved concurrency and memory per function, the user policy,
// an attempt timeout and the DEBUG log level, the zips from S3, operators, and the scheduled
// reconcile; read back, checked, destroyed.
// (terraform/examples/vpc, which makes its own key, is validated by `npm run test:iac`; moto's
// Lambda keeps subnets and security groups without checking that they exist, so none are made.)

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itChecksTheDeployment } from './helpers/deployed.js';
import { leftovers } from './helpers/inventory.js';
import { ACCOUNT_ID, type Emulator, startEmulator } from './helpers/moto.js';
import { normalizePolicy } from './helpers/policies.js';
import { REPO_ROOT } from './helpers/run.js';
import { type Deployment, deploymentOf, expectedOperatorStatements } from './helpers/spec.js';
import {
  plannedQueryDefinitions,
  prepareExample,
  stateResources,
  type TerraformExample,
  type Variables,
  ZIPS,
} from './helpers/terraform.js';

const prefix = 'tf-adopt';
const bucket = 'tf-adopt-artifacts';
const s3Prefix = 'cognito-user-sync/1.0.0/';

let emulator: Emulator;
let example: TerraformExample;
let variables: Variables;
let deployment: Deployment;
let destroyed = false;

beforeAll(async () => {
  emulator = await startEmulator();
  const { aws, region } = emulator;
  const poolId = (
    await aws<{ UserPool: { Id: string } }>('cognito-idp', 'create-user-pool', '--pool-name', 'adopted')
  ).UserPool.Id;
  const apiKeySecretArn = (
    await aws<{ ARN: string }>(
      'secretsmanager',
      'create-secret',
      '--name',
      `${prefix}/api-key`,
      '--secret-string',
      'k',
    )
  ).ARN;
  const kmsKeyArn = (await aws<{ KeyMetadata: { Arn: string } }>('kms', 'create-key')).KeyMetadata.Arn;
  const permissionsBoundaryArn = (
    await aws<{ Policy: { Arn: string } }>(
      'iam',
      'create-policy',
      '--policy-name',
      `${prefix}-boundary`,
      '--policy-document',
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
    )
  ).Policy.Arn;
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
      `${s3Prefix}${zip}`,
      '--body',
      join(REPO_ROOT, 'dist', zip),
    );
  }
  const operatorRoleArns = [
    `arn:aws:iam::${ACCOUNT_ID}:role/operations`,
    `arn:aws:iam::${ACCOUNT_ID}:role/aws-reserved/sso.amazonaws.com/${region}/AWSReservedSSO_Admin_*`,
  ];
  const vpc = {
    subnetIds: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
    securityGroupIds: ['sg-0123456789abcdef0'],
  };
  variables = {
    region,
    name_prefix: prefix,
    user_service_url: 'https://users.internal.example.com/api/v1/users',
    api_key_secret_arn: apiKeySecretArn,
    user_pool_id: poolId,
    operator_role_arns: operatorRoleArns,
    subnet_ids: vpc.subnetIds,
    security_group_ids: vpc.securityGroupIds,
    kms_key_arn: kmsKeyArn,
    permissions_boundary_arn: permissionsBoundaryArn,
    s3_bucket: bucket,
    s3_prefix: s3Prefix,
  };

  example = await prepareExample(emulator.env, { fixture: 'adoption', leaveOut: ['queries.tf'] });
  await example.apply(variables);

  deployment = deploymentOf({
    prefix,
    region,
    accountId: ACCOUNT_ID,
    userServiceUrl: String(variables.user_service_url),
    userServiceTimeoutMs: 2500,
    logLevel: 'DEBUG',
    apiKeySecretArn,
    syncDeadlineMs: 3500,
    maxReceiveCount: 12,
    maximumConcurrency: 2,
    logRetentionDays: 7,
    userPoolArn: `arn:aws:cognito-idp:${region}:${ACCOUNT_ID}:userpool/${poolId}`,
    queueUrl: (name) => `${emulator.endpoint}/${ACCOUNT_ID}/${name}`,
    reconcile: { schedule: 'rate(12 hours)', maxRps: 5, maxDeletes: 10 },
    operatorRoleArns,
    kmsKeyArn,
    vpc,
    permissionsBoundaryArn,
    memorySize: { postConfirmation: 512, retryWorker: 384, userChanges: 1024, reconcile: 2048 },
    reservedConcurrency: { postConfirmation: 50, retryWorker: 2, userChanges: 6, reconcile: 2 },
    userPolicy: {
      syncUserStatuses: 'CONFIRMED,EXTERNAL_PROVIDER',
      defaultUserStatus: 'PENDING',
      defaultUserRole: 'MEMBER',
      disabledUserStatus: 'SUSPENDED',
    },
  });
});

afterAll(async () => {
  if (example && !destroyed) await example.destroy(variables).catch(() => undefined);
  await example?.remove();
  await emulator?.stop();
});

describe('the Terraform module with every adoption option, applied to the emulator', () => {
  itChecksTheDeployment(() => ({
    emulator,
    deployment,
    queryDefinitions: () => plannedQueryDefinitions(example, variables),
  }));

  it('takes each function from its object in S3, with no local zip', async () => {
    const resources = stateResources(await example.state());
    for (const [name, zip] of [
      ['post_confirmation', 'post-confirmation.zip'],
      ['retry_worker', 'retry-worker.zip'],
      ['user_changes', 'user-changes.zip'],
      ['reconcile', 'reconcile.zip'],
    ]) {
      expect(resources.get(`aws_lambda_function.${name}`)?.values, name).toMatchObject({
        s3_bucket: bucket,
        s3_key: `${s3Prefix}${zip}`,
        filename: null,
      });
    }
  });

  it("outputs the operators' policy with the key and the secret", async () => {
    const { operator_policy_json: policy } = await example.outputs();

    expect(normalizePolicy(policy)).toEqual(expectedOperatorStatements(deployment));
  });

  it('refuses a reconcile schedule without user changes, and subnets without security groups', async () => {
    const withoutChanges = await example.plan({ ...variables, enable_user_changes: false });
    const withoutGroups = await example.plan({ ...variables, security_group_ids: [] });

    expect(withoutChanges.code).toBe(1);
    expect(withoutChanges.output).toContain('reconcile_schedule needs enable_user_changes');
    expect(withoutGroups.code).toBe(1);
    expect(withoutGroups.output).toContain('subnet_ids needs security_group_ids');
  });

  it("refuses a consumer's reserved concurrency below its event source's maximum concurrency, naming each", async () => {
    const { code, output } = await example.plan({
      ...variables,
      retry_worker_reserved_concurrency: 1,
      user_changes_maximum_concurrency: 4,
      user_changes_reserved_concurrency: 3,
      reconcile_reserved_concurrency: 1,
    });
    const atTheBound = await example.plan({
      ...variables,
      user_changes_maximum_concurrency: 6,
      user_changes_reserved_concurrency: 6,
    });

    // Terraform wraps an error message at 80 columns.
    const said = output.replace(/\s+/g, ' ');
    expect(code).toBe(1);
    expect(said).toContain(
      'retry_worker_reserved_concurrency must be at least retry_worker_maximum_concurrency (2)',
    );
    expect(said).toContain(
      'user_changes_reserved_concurrency must be at least user_changes_maximum_concurrency (4)',
    );
    expect(said).toContain('reconcile_reserved_concurrency must be at least 2');
    expect(atTheBound.code, atTheBound.output).toBe(0);
  });

  it('leaves nothing behind after terraform destroy', async () => {
    expect(await leftovers(emulator.aws, prefix)).not.toEqual([]);

    await example.destroy(variables);
    destroyed = true;

    expect(await leftovers(emulator.aws, prefix)).toEqual([]);
  }, 300_000);
});
