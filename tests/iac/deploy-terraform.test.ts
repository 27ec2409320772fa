// terraform/examples/basic applied to the moto emulator with the zips from dist/, read back through
// the AWS APIs and checked against the spec (and against template.yaml's dashboard and alarms),
// then destroyed.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from './helpers/cloudformation.js';
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
import { dashboardMetrics, normalizeAlarm } from './helpers/metrics.js';
import { ACCOUNT_ID, type Emulator, startEmulator } from './helpers/moto.js';
import { wildcardViolations } from './helpers/policies.js';
import { REPO_ROOT } from './helpers/run.js';
import { transformTemplate } from './helpers/sam.js';
import {
  arnsOf,
  type Deployment,
  expectAlarmsAsSpecified,
  expectCognitoPermissionAsSpecified,
  expectDashboardAsSpecified,
  expectEventSourceAsSpecified,
  expectedStatements,
  expectFunctionAsSpecified,
  expectQueuesAsSpecified,
  namesOf,
} from './helpers/spec.js';
import { prepareExample, type TerraformExample, type Variables } from './helpers/terraform.js';

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
  };

  example = await prepareExample(emulator.env);
  await example.apply(variables);

  const { UserPools } = await aws<{ UserPools: { Id: string; Name: string }[] }>(
    'cognito-idp',
    'list-user-pools',
    '--max-results',
    '60',
  );
  const poolId = UserPools.find((pool) => pool.Name === prefix)?.Id ?? 'the pool was not created';
  deployment = {
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
    retryQueueUrl: (await readQueue(aws, names.retryQueue)).url,
    deadLetterQueueUrl: (await readQueue(aws, names.deadLetterQueue)).url,
  };
});

afterAll(async () => {
  if (example && !destroyed) await example.destroy(variables).catch(() => undefined);
  await example?.remove();
  await emulator?.stop();
});

describe('terraform/examples/basic applied to the emulator', () => {
  it('deploys each function from its zip, with the code hash of that zip: nodejs22.x, arm64, index.handler, active tracing, the project environment', async () => {
    for (const [role, zip] of [
      ['postConfirmation', 'post-confirmation.zip'],
      ['retryWorker', 'retry-worker.zip'],
    ] as const) {
      const { raw, settings } = await readFunction(emulator.aws, names[role]);
      const zipHash = createHash('sha256')
        .update(await readFile(join(REPO_ROOT, 'dist', zip)))
        .digest('base64');

      expectFunctionAsSpecified(settings, role, deployment);
      expect(raw.CodeSha256).toBe(zipHash);
    }
  });

  it('gives each function its own log group with the chosen retention, and sends its logs there', async () => {
    const { logGroups } = await emulator.aws<{
      logGroups: { logGroupName: string; retentionInDays: number }[];
    }>('logs', 'describe-log-groups', '--log-group-name-prefix', `/aws/lambda/${prefix}-`);
    // moto drops a function's LoggingConfig (so every plan on it shows it as pending): what
    // Terraform sends is read from the plan instead.
    const plan = await example.planJson(variables);
    const sent = (type: string, name: string) =>
      plan.resource_changes.find(
        (resource) => resource.type === type && resource.address.endsWith(`.${name}`),
      )?.change.after?.logging_config;

    expect(logGroups.map(({ logGroupName, retentionInDays }) => ({ logGroupName, retentionInDays }))).toEqual(
      [
        { logGroupName: `/aws/lambda/${names.postConfirmation}`, retentionInDays: 14 },
        { logGroupName: `/aws/lambda/${names.retryWorker}`, retentionInDays: 14 },
      ],
    );
    for (const [name, role] of [
      ['post_confirmation', 'postConfirmation'],
      ['retry_worker', 'retryWorker'],
    ] as const) {
      expect(sent('aws_lambda_function', name)).toEqual([
        expect.objectContaining({ log_group: `/aws/lambda/${names[role]}` }),
      ]);
    }
  });

  it('encrypts both queues, keeps messages 14 days and redrives the retry queue to the DLQ after max_receive_count receives', async () => {
    const retry = await readQueue(emulator.aws, names.retryQueue);
    const deadLetter = await readQueue(emulator.aws, names.deadLetterQueue);

    expectQueuesAsSpecified(retry.attributes, deadLetter.attributes, deployment);
  });

  it('feeds the retry queue to the worker ten at a time, with partial batch failures and bounded concurrency', async () => {
    const mappings = await readEventSourceMappings(emulator.aws, arnsOf(deployment).retryQueue);

    expect(mappings).toHaveLength(1);
    expectEventSourceAsSpecified(mappings[0] as Record<string, unknown>, deployment);
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

  it('grants each function exactly what it needs, with no wildcard beyond the X-Ray permissions and no managed policy', async () => {
    for (const role of ['postConfirmation', 'retryWorker'] as const) {
      const { raw } = await readFunction(emulator.aws, names[role]);
      const { statements, managed } = await readRolePolicies(emulator.aws, String(raw.Role));

      expect(wildcardViolations(statements)).toEqual([]);
      expect(statements).toEqual(expectedStatements(role, deployment));
      expect(managed).toEqual([]);
    }
  });

  it('plots every metric the code emits, the User Service latency p50/p99, the queues and the functions on the dashboard', async () => {
    const body = await readDashboardBody(emulator.aws, names.dashboard);

    expectDashboardAsSpecified(dashboardMetrics(body), deployment);
  });

  it('alarms on dropped users, a non-empty DLQ, an hour-old retry, function errors and a p99 near the deadline, notifying the topic', async () => {
    expectAlarmsAsSpecified(await readAlarms(emulator.aws, prefix), deployment);
  });

  it('has the same dashboard and alarms as template.yaml deployed with the same parameters', async () => {
    const rendered = renderTemplate(
      await transformTemplate({ region: deployment.region }),
      {
        NamePrefix: prefix,
        UserServiceUrl: deployment.userServiceUrl,
        ApiKeySecretArn: deployment.apiKeySecretArn ?? '',
        SigningSecretArn: deployment.signingSecretArn ?? '',
        AlarmTopicArn: deployment.alarmTopicArn ?? '',
        SyncDeadlineMs: deployment.syncDeadlineMs,
        RetryWorkerMaximumConcurrency: deployment.maximumConcurrency,
        MaxReceiveCount: deployment.maxReceiveCount,
        LogRetentionDays: deployment.logRetentionDays,
      },
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

    expect(await readDashboardBody(emulator.aws, names.dashboard)).toEqual(samDashboard);
    expect((await readAlarms(emulator.aws, prefix)).sort(byName)).toEqual(samAlarms);
  });

  it('outputs the function ARNs, the queue URLs and the dashboard name', async () => {
    const arns = arnsOf(deployment);

    expect(await example.outputs()).toMatchObject({
      post_confirmation_function_arn: arns.postConfirmation,
      retry_worker_function_arn: arns.retryWorker,
      retry_queue_url: deployment.retryQueueUrl,
      dead_letter_queue_url: deployment.deadLetterQueueUrl,
      dashboard_name: names.dashboard,
    });
  });

  it("with an existing pool's id, manages no pool and lets Cognito invoke the function only for that pool", async () => {
    const existing = `${deployment.region}_Existing1`;

    const plan = await example.planJson({ ...variables, user_pool_id: existing });

    const change = (type: string) => plan.resource_changes.filter((resource) => resource.type === type);
    expect(change('aws_cognito_user_pool').map((resource) => resource.change.actions)).toEqual([['delete']]);
    expect(change('aws_lambda_permission').map((resource) => resource.change.after)).toEqual([
      expect.objectContaining({
        principal: 'cognito-idp.amazonaws.com',
        source_account: ACCOUNT_ID,
        source_arn: `arn:aws:cognito-idp:${deployment.region}:${ACCOUNT_ID}:userpool/${existing}`,
      }),
    ]);
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
    ]) {
      expect(output, variable).toContain(`${variable} must`);
    }
  });

  it('leaves nothing behind after terraform destroy', async () => {
    expect(await leftovers(emulator.aws, prefix)).not.toEqual([]);

    await example.destroy(variables);
    destroyed = true;

    expect(await leftovers(emulator.aws, prefix)).toEqual([]);
  });
});
