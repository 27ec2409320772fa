// terraform/examples/basic (a new pool, user changes, the daily reconcile, the CloudTrail trail, an operator) applied to
// the moto emulator with the zips from dist/, read back through the AWS APIs and checked against the
// spec (and against template.yaml's dashboard, alarms and operator policy), then destroyed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from './helpers/cloudformation.js';
import { itChecksTheDeployment } from './helpers/deployed.js';
import {
  leftovers,
  readAlarms,
  readBucketProtection,
  readDashboardBody,
  readInvokePermissions,
  readTrail,
} from './helpers/inventory.js';
import { normalizeAlarm } from './helpers/metrics.js';
import { ACCOUNT_ID, type Emulator, startEmulator } from './helpers/moto.js';
import { normalizePolicy } from './helpers/policies.js';
import { samParametersOf, transformTemplate } from './helpers/sam.js';
import {
  arnsOf,
  type Deployment,
  deploymentOf,
  expectCognitoPermissionAsSpecified,
  expectedOperatorStatements,
  expectedTrailBucketStatements,
  expectTrailAsSpecified,
  namesOf,
} from './helpers/spec.js';
import {
  plannedQueryDefinitions,
  prepareExample,
  type TerraformExample,
  type Variables,
} from './helpers/terraform.js';

const prefix = 'tf-sync';
const names = namesOf(prefix);

let emulator: Emulator;
let example: TerraformExample;
let variables: Variables;
let deployment: Deployment;
let destroyed = false;

beforeAll(async () => {
  emulator = await startEmulator();
  const { aws, region } = emulator;
  const secretArn = async (name: string) =>
    (
      await aws<{ ARN: string }>(
        'secretsmanager',
        'create-secret',
        '--name',
        name,
        '--secret-string',
        'not-a-real-key',
      )
    ).ARN;
  const apiKeySecretArn = await secretArn(`${prefix}/api-key`);
  const signingSecretArn = await secretArn(`${prefix}/signing-secret`);
  const { TopicArn } = await aws<{ TopicArn: string }>('sns', 'create-topic', '--name', `${prefix}-alarms`);
  const operatorRoleArns = [`arn:aws:iam::${ACCOUNT_ID}:role/operations`];
  variables = {
    region,
    name_prefix: prefix,
    user_service_url: 'https://users.internal.example.com/api/v1/users',
    api_key_secret_arn: apiKeySecretArn,
    signing_secret_arn: signingSecretArn,
    alarm_sns_topic_arn: TopicArn,
    sync_deadline_ms: 3000,
    retry_worker_maximum_concurrency: 3,
    max_receive_count: 10,
    log_retention_days: 14,
    create_trail: true,
    operator_role_arns: operatorRoleArns,
  };

  example = await prepareExample(emulator.env, { leaveOut: ['queries.tf'] });
  await example.apply(variables);

  const { UserPools } = await aws<{ UserPools: { Id: string; Name: string }[] }>(
    'cognito-idp',
    'list-user-pools',
    '--max-results',
    '60',
  );
  const poolId = UserPools.find((pool) => pool.Name === prefix)?.Id ?? 'the pool was not created';
  deployment = deploymentOf({
    prefix,
    region,
    accountId: ACCOUNT_ID,
    userServiceUrl: String(variables.user_service_url),
    apiKeySecretArn,
    signingSecretArn,
    alarmTopicArn: TopicArn,
    syncDeadlineMs: 3000,
    maxReceiveCount: 10,
    maximumConcurrency: 3,
    logRetentionDays: 14,
    userPoolArn: `arn:aws:cognito-idp:${region}:${ACCOUNT_ID}:userpool/${poolId}`,
    queueUrl: (name) => `${emulator.endpoint}/${ACCOUNT_ID}/${name}`,
    createTrail: true,
    operatorRoleArns,
  });
});

afterAll(async () => {
  if (example && !destroyed) await example.destroy(variables).catch(() => undefined);
  await example?.remove();
  await emulator?.stop();
});

describe('terraform/examples/basic applied to the emulator', () => {
  itChecksTheDeployment(() => ({
    emulator,
    deployment,
    queryDefinitions: () => plannedQueryDefinitions(example, variables),
  }));

  it('sends each log group to its function (read from the plan: moto keeps no LoggingConfig)', async () => {
    // moto drops a function's LoggingConfig (so every plan on it shows it as pending): what
    // Terraform sends is read from the plan instead.
    const plan = await example.planJson(variables);
    const sent = (name: string) =>
      plan.resource_changes.find(
        (resource) => resource.type === 'aws_lambda_function' && resource.address.endsWith(`.${name}`),
      )?.change.after?.logging_config;

    for (const [name, role] of [
      ['post_confirmation', 'postConfirmation'],
      ['retry_worker', 'retryWorker'],
      ['user_changes[0]', 'userChanges'],
      ['reconcile[0]', 'reconcile'],
    ] as const) {
      expect(sent(name), name).toEqual([
        expect.objectContaining({ log_group: `/aws/lambda/${names[role]}` }),
      ]);
    }
  });

  it('creates the pool with the function as its PostConfirmation trigger, and lets Cognito invoke it only for that pool', async () => {
    const poolId = deployment.userPoolArn.split('/').at(-1) ?? '';
    const { UserPool } = await emulator.aws<{ UserPool: { LambdaConfig: unknown } }>(
      'cognito-idp',
      'describe-user-pool',
      '--user-pool-id',
      poolId,
    );
    const statements = await readInvokePermissions(emulator.aws, names.postConfirmation);

    expect(UserPool.LambdaConfig).toEqual({ PostConfirmation: arnsOf(deployment).postConfirmation });
    expect(statements).toHaveLength(1);
    expectCognitoPermissionAsSpecified(statements[0] as Record<string, unknown>, deployment);
  });

  it('creates a logging single-region trail of write management events, in a private, encrypted bucket only CloudTrail writes to', async () => {
    const trail = await readTrail(emulator.aws, names.trail);
    const bucket = await readBucketProtection(emulator.aws, trail.S3BucketName);

    expectTrailAsSpecified(trail, deployment);
    expect(trail.S3BucketName.startsWith(`${prefix}-trail-`)).toBe(true);
    expect(bucket.encryption).toEqual(['AES256']);
    expect(bucket.publicAccessBlock).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.statements).toEqual(expectedTrailBucketStatements(trail.S3BucketName, deployment));
  });

  it("has the same dashboard, alarms and operators' policy as template.yaml deployed with the same parameters", async () => {
    const rendered = renderTemplate(
      await transformTemplate({ region: deployment.region }),
      samParametersOf(deployment, { newPool: true }),
      { region: deployment.region, accountId: ACCOUNT_ID },
    );
    const byName = (a: { AlarmName: string }, b: { AlarmName: string }) =>
      a.AlarmName.localeCompare(b.AlarmName);
    const samAlarms = Object.values(rendered.ofType('AWS::CloudWatch::Alarm'))
      .map((alarm) => normalizeAlarm(alarm.Properties))
      .sort(byName);
    const samDashboard = JSON.parse(
      String(rendered.only('AWS::CloudWatch::Dashboard').Properties.DashboardBody),
    );
    const outputs = await example.outputs();
    // The rendered template's pool is <region>_UserPool; the applied one has moto's id.
    const samOperatorPolicy = JSON.parse(
      String(rendered.outputs.OperatorPolicy).replace(
        `userpool/${deployment.region}_UserPool`,
        `userpool/${outputs.user_pool_id}`,
      ),
    );

    expect(await readDashboardBody(emulator.aws, names.dashboard)).toEqual(samDashboard);
    expect((await readAlarms(emulator.aws, prefix)).sort(byName)).toEqual(samAlarms);
    expect(normalizePolicy(outputs.operator_policy_json)).toEqual(normalizePolicy(samOperatorPolicy));
    expect(normalizePolicy(outputs.operator_policy_json)).toEqual(expectedOperatorStatements(deployment));
  });

  it('outputs the function ARNs, the queue URLs, the trail and the dashboard name', async () => {
    const arns = arnsOf(deployment);

    expect(await example.outputs()).toMatchObject({
      post_confirmation_function_arn: arns.postConfirmation,
      retry_worker_function_arn: arns.retryWorker,
      user_changes_function_arn: arns.function('userChanges'),
      retry_queue_url: deployment.queueUrl(names.retryQueue),
      dead_letter_queue_url: deployment.queueUrl(names.deadLetterQueue),
      changes_queue_url: deployment.queueUrl(names.changesQueue),
      changes_dead_letter_queue_url: deployment.queueUrl(names.changesDeadLetterQueue),
      trail_arn: arns.trail,
      dashboard_name: names.dashboard,
    });
  });

  it("with an existing pool's id, manages no pool and scopes the permission and the rule to that pool", async () => {
    const existing = `${deployment.region}_Existing1`;

    const plan = await example.planJson({ ...variables, user_pool_id: existing });

    const change = (type: string) => plan.resource_changes.filter((resource) => resource.type === type);
    expect(change('aws_cognito_user_pool').map((resource) => resource.change.actions)).toEqual([['delete']]);
    const cognitoPermissions = change('aws_lambda_permission').filter(
      (resource) => resource.change.after?.principal === 'cognito-idp.amazonaws.com',
    );
    expect(cognitoPermissions.map((resource) => resource.change.after)).toEqual([
      expect.objectContaining({
        principal: 'cognito-idp.amazonaws.com',
        source_account: ACCOUNT_ID,
        source_arn: `arn:aws:cognito-idp:${deployment.region}:${ACCOUNT_ID}:userpool/${existing}`,
      }),
    ]);
    const [rule] = change('aws_cloudwatch_event_rule')
      .filter((resource) => resource.address.includes('user_changes'))
      .map((resource) => resource.change.after);
    expect(JSON.parse(String(rule?.event_pattern)).detail.$or[0].requestParameters).toEqual({
      userPoolId: [existing],
    });
  });

  it('with user changes off (and so reconcile, on by default, too), plans no user-changes or reconcile resource at all', async () => {
    const plan = await example.planJson({
      ...variables,
      enable_user_changes: false,
      reconcile_schedule: null,
      create_trail: false,
    });

    const deleted = plan.resource_changes
      .filter((resource) => resource.change.actions.includes('delete'))
      .map((resource) => resource.address.replace(/^module\.cognito_user_sync\./, ''));
    expect(
      deleted.filter(
        (address) => !/user_changes|changes|trail|cloudtrail|reconcile|cognito_events/.test(address),
      ),
    ).toEqual([]);
    expect(deleted).toEqual(
      expect.arrayContaining([
        'aws_lambda_function.user_changes[0]',
        'aws_sqs_queue.changes[0]',
        'aws_sqs_queue.changes_dead_letter[0]',
        'aws_cloudwatch_event_rule.user_changes[0]',
        'aws_cloudwatch_metric_alarm.cognito_events_missing[0]',
        'aws_cloudtrail.this[0]',
        'aws_lambda_function.reconcile[0]',
        'aws_dynamodb_table.reconcile[0]',
        'aws_cloudwatch_metric_alarm.reconcile_runs_not_completing[0]',
      ]),
    );
  });

  it('with user changes off and reconcile left on, names the variable to empty', async () => {
    const { code, output } = await example.plan({ ...variables, enable_user_changes: false });

    expect(code).toBe(1);
    expect(output).toContain('reconcile_schedule needs enable_user_changes');
    expect(output).toContain('Set reconcile_schedule = null too');
  });

  it('refuses out-of-range variables, naming each', async () => {
    const { code, output } = await example.plan({
      ...variables,
      user_service_url: 'http://users.internal.example.com/api/v1/users',
      sync_deadline_ms: 5000,
      retry_worker_maximum_concurrency: 1,
      max_receive_count: 0,
      log_retention_days: 10,
      name_prefix: 'has spaces',
      api_key_secret_arn: 'my-secret',
      operator_role_arns: ['operations'],
    });

    expect(code).toBe(1);
    for (const variable of [
      'user_service_url',
      'sync_deadline_ms',
      'retry_worker_maximum_concurrency',
      'max_receive_count',
      'log_retention_days',
      'name_prefix',
      'api_key_secret_arn',
      'operator_role_arns',
    ]) {
      expect(output, variable).toContain(`${variable} must`);
    }
  });

  it('leaves nothing behind after terraform destroy, the trail and its bucket included', async () => {
    expect(await leftovers(emulator.aws, prefix)).not.toEqual([]);

    await example.destroy(variables);
    destroyed = true;

    expect(await leftovers(emulator.aws, prefix)).toEqual([]);
  }, 300_000);
});
