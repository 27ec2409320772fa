// terraform/examples/existing-pool applied to the moto emulator: a pool made first through Cognito's
// API (as one made elsewhere would be), then the example serving it with user changes and a daily
// reconcile, read back and checked against the spec and template.yaml, then destroyed, leaving the
// pool as it was.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from './helpers/cloudformation.js';
import { itChecksTheDeployment } from './helpers/deployed.js';
import {
  leftovers,
  readAlarms,
  readDashboardBody,
  readEventSourceMappings,
  readInvokePermissions,
} from './helpers/inventory.js';
import { normalizeAlarm } from './helpers/metrics.js';
import { ACCOUNT_ID, type Emulator, startEmulator } from './helpers/moto.js';
import { normalizePolicy } from './helpers/policies.js';
import { REPO_ROOT } from './helpers/run.js';
import { samParametersOf, transformTemplate } from './helpers/sam.js';
import {
  arnsOf,
  type Deployment,
  deploymentOf,
  expectCognitoPermissionAsSpecified,
  expectedOperatorStatements,
  namesOf,
} from './helpers/spec.js';
import {
  plannedQueryDefinitions,
  prepareExample,
  type TerraformExample,
  type Variables,
} from './helpers/terraform.js';

const prefix = 'tf-pool';
const names = namesOf(prefix);

let emulator: Emulator;
let example: TerraformExample;
let variables: Variables;
let deployment: Deployment;
let poolId: string;
let destroyed = false;

beforeAll(async () => {
  emulator = await startEmulator();
  const { aws, region } = emulator;
  poolId = (
    await aws<{ UserPool: { Id: string } }>(
      'cognito-idp',
      'create-user-pool',
      '--pool-name',
      'made-elsewhere',
    )
  ).UserPool.Id;
  variables = {
    region,
    name_prefix: prefix,
    user_pool_id: poolId,
    user_service_url: 'https://users.internal.example.com/api/v1/users',
    reconcile_max_rps: 2.5,
    reconcile_max_deletes: 20,
  };

  example = await prepareExample(emulator.env, { example: 'existing-pool', leaveOut: ['queries.tf'] });
  await example.apply(variables);

  deployment = deploymentOf({
    prefix,
    region,
    accountId: ACCOUNT_ID,
    userServiceUrl: String(variables.user_service_url),
    syncDeadlineMs: 3500,
    maxReceiveCount: 12,
    maximumConcurrency: 2,
    logRetentionDays: 30,
    userPoolArn: `arn:aws:cognito-idp:${region}:${ACCOUNT_ID}:userpool/${poolId}`,
    queueUrl: (name) => `${emulator.endpoint}/${ACCOUNT_ID}/${name}`,
    // The example's default schedule.
    reconcile: { schedule: 'rate(1 day)', maxRps: 2.5, maxDeletes: 20 },
  });
});

afterAll(async () => {
  if (example && !destroyed) await example.destroy(variables).catch(() => undefined);
  await example?.remove();
  await emulator?.stop();
});

describe('terraform/examples/existing-pool applied to the emulator', () => {
  itChecksTheDeployment(() => ({
    emulator,
    deployment,
    queryDefinitions: () => plannedQueryDefinitions(example, variables),
  }));

  it('lets Cognito invoke the trigger only for the given pool, and leaves the pool as it was', async () => {
    const statements = await readInvokePermissions(emulator.aws, names.postConfirmation);
    const { UserPool } = await emulator.aws<{ UserPool: { LambdaConfig?: unknown } }>(
      'cognito-idp',
      'describe-user-pool',
      '--user-pool-id',
      poolId,
    );

    expect(statements).toHaveLength(1);
    expectCognitoPermissionAsSpecified(statements[0] as Record<string, unknown>, deployment);
    expect(UserPool.LambdaConfig ?? {}).toEqual({});
  });

  it("has the same dashboard, alarms and operators' policy as template.yaml deployed with the same parameters", async () => {
    const rendered = renderTemplate(
      await transformTemplate({ region: deployment.region }),
      samParametersOf(deployment),
      { region: deployment.region, accountId: ACCOUNT_ID },
    );
    const byName = (a: { AlarmName: string }, b: { AlarmName: string }) =>
      a.AlarmName.localeCompare(b.AlarmName);
    const outputs = await example.outputs();

    expect(await readDashboardBody(emulator.aws, names.dashboard)).toEqual(
      JSON.parse(String(rendered.only('AWS::CloudWatch::Dashboard').Properties.DashboardBody)),
    );
    expect((await readAlarms(emulator.aws, prefix)).sort(byName)).toEqual(
      Object.values(rendered.ofType('AWS::CloudWatch::Alarm'))
        .map((alarm) => normalizeAlarm(alarm.Properties))
        .sort(byName),
    );
    expect(normalizePolicy(outputs.operator_policy_json)).toEqual(
      normalizePolicy(rendered.outputs.OperatorPolicy),
    );
    expect(normalizePolicy(outputs.operator_policy_json)).toEqual(expectedOperatorStatements(deployment));
  });

  it("outputs the trigger to wire, the queues, the reconcile function, its run ledger's table and the dashboard", async () => {
    expect(await example.outputs()).toMatchObject({
      post_confirmation_function_arn: arnsOf(deployment).postConfirmation,
      retry_queue_url: deployment.queueUrl(names.retryQueue),
      dead_letter_queue_url: deployment.queueUrl(names.deadLetterQueue),
      changes_queue_url: deployment.queueUrl(names.changesQueue),
      reconcile_function_arn: arnsOf(deployment).function('reconcile'),
      reconcile_queue_url: deployment.queueUrl(names.reconcileQueue),
      reconcile_table_name: names.reconcileTable,
      dashboard_name: names.dashboard,
    });
  });

  it("tags the run ledger's table as the module's other resources", async () => {
    const { Tags } = await emulator.aws<{ Tags: { Key: string; Value: string }[] }>(
      'dynamodb',
      'list-tags-of-resource',
      '--resource-arn',
      arnsOf(deployment).reconcileTable,
    );

    // The example's tags.
    expect(Tags).toEqual([{ Key: 'Project', Value: 'cognito-user-sync' }]);
  });

  it("routes the sample CloudTrail events of events/ as the pattern says: the pool's Admin* calls and the token calls, not a failed call nor another pool's", async () => {
    const { aws } = emulator;
    // moto would run the function (in a container) for each message: the event source is turned
    // off first, so the queue keeps what the rule delivered.
    const [mapping] = await readEventSourceMappings(aws, arnsOf(deployment).queue('changesQueue'));
    await aws('lambda', 'update-event-source-mapping', '--uuid', String(mapping?.UUID), '--no-enabled');
    const files = (await readdir(join(REPO_ROOT, 'events')))
      .filter((file) => file.startsWith('cloudtrail-'))
      .sort();
    // The samples' pool is eu-west-1_Qx7Lm2Rt9: here it is the deployment's.
    const samples = await Promise.all(
      files.map(async (file) => ({
        file,
        event: JSON.parse(
          (await readFile(join(REPO_ROOT, 'events', file), 'utf8')).replaceAll('eu-west-1_Qx7Lm2Rt9', poolId),
        ) as { source: string; 'detail-type': string; time: string; detail: { eventID: string } },
      })),
    );
    for (let i = 0; i < samples.length; i += 10) {
      const entries = samples.slice(i, i + 10).map(({ event }) => ({
        Source: event.source,
        DetailType: event['detail-type'],
        Detail: JSON.stringify(event.detail),
        Time: event.time,
      }));
      const { FailedEntryCount } = await aws<{ FailedEntryCount: number }>(
        'events',
        'put-events',
        '--entries',
        JSON.stringify(entries),
      );
      expect(FailedEntryCount).toBe(0);
    }
    const delivered: string[] = [];
    for (;;) {
      const received = await aws<{ Messages?: { Body: string }[] } | null>(
        'sqs',
        'receive-message',
        '--queue-url',
        deployment.queueUrl(names.changesQueue),
        '--max-number-of-messages',
        '10',
        '--visibility-timeout',
        '300',
      );
      if (!received?.Messages?.length) break;
      delivered.push(
        ...received.Messages.map((message) => JSON.parse(message.Body).detail.eventID as string),
      );
    }

    const skipped = [
      'cloudtrail-admin-update-user-attributes-failed.json',
      'cloudtrail-admin-disable-user-other-pool.json',
    ];
    expect(files).toEqual(expect.arrayContaining(skipped));
    expect(delivered.sort()).toEqual(
      samples
        .filter(({ file }) => !skipped.includes(file))
        .map(({ event }) => event.detail.eventID)
        .sort(),
    );
  });

  it('refuses a schedule that is not an EventBridge schedule expression', async () => {
    const { code, output } = await example.plan({ ...variables, reconcile_schedule: 'every day' });

    expect(code).toBe(1);
    expect(output).toContain('reconcile_schedule must');
  });

  it('leaves nothing behind after terraform destroy, and the pool in place', async () => {
    expect(await leftovers(emulator.aws, prefix)).not.toEqual([]);

    await example.destroy(variables);
    destroyed = true;

    expect(await leftovers(emulator.aws, prefix)).toEqual([]);
    const { UserPools } = await emulator.aws<{ UserPools: { Id: string }[] }>(
      'cognito-idp',
      'list-user-pools',
      '--max-results',
      '60',
    );
    expect(UserPools.map((pool) => pool.Id)).toContain(poolId);
  }, 300_000);
});
