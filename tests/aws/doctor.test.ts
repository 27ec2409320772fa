// doctor against moto: a whole deployment made as the spec of both IaC flavours says
// (./deployment-fixture.ts), found from its Terraform outputs or its prefix, passes every check;
// then one precondition at a time is broken through the AWS APIs, and doctor fails that check (and
// only that one), naming its fix. moto holds every resource doctor reads but one answer: IAM's
// policy simulator, which moto lacks, comes from recorded answers (./iam-simulator.ts).

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudTrailClient,
  PutEventSelectorsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  CognitoIdentityProviderClient,
  UpdateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  AddPermissionCommand,
  DeleteFunctionConcurrencyCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  PutFunctionConcurrencyCommand,
  RemovePermissionCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { userChangesRulePattern } from '../../src/domain/user-events.js';
import { arnsOf, environmentOf, expectedQueuePolicies } from '../iac/helpers/spec.js';
import { useMoto } from './aws.js';
import { createDeployment, type DeploymentFixture, keyPolicyOf } from './deployment-fixture.js';
import { type IamSimulator, startIamSimulator } from './iam-simulator.js';

interface Report {
  ok: boolean;
  checks: { id: string; status: 'pass' | 'fail' | 'skip'; title: string; detail: string[]; fix?: string }[];
}

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('doctor, against a deployment in moto', () => {
  let fixture: DeploymentFixture;
  let simulator: IamSimulator;
  let outputs: string;

  const doctor = async (...extra: string[]) => {
    const { code, out, err } = await run('doctor', '--terraform-outputs', outputs, '--json', ...extra);
    expect(err).toBe('');
    return { code, report: JSON.parse(out) as Report };
  };
  const failed = (report: Report) => report.checks.filter((check) => check.status === 'fail');

  beforeAll(async () => {
    useMoto();
    // A region of this file's own: any trail logging a region serves every deployment there, so
    // smoke's deployment (another file, the same moto) must not be in this one.
    vi.stubEnv('AWS_REGION', 'eu-north-1');
    vi.stubEnv('AWS_DEFAULT_REGION', 'eu-north-1');
    simulator = await startIamSimulator();
    vi.stubEnv('AWS_ENDPOINT_URL_IAM', simulator.endpoint);
    fixture = await createDeployment();
    outputs = await fixture.writeTerraformOutputs(await mkdtemp(join(tmpdir(), 'doctor-')));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await simulator?.close();
  });

  it('passes every check of a correct deployment, found from its Terraform outputs', async () => {
    const { code, report } = await doctor();

    expect(failed(report)).toEqual([]);
    expect(code).toBe(0);
    expect(report.checks.filter((check) => check.status === 'skip')).toEqual([]);
  });

  it('finds the same deployment from its prefix and pool, with nothing derived missing', async () => {
    const { code, out } = await run(
      'doctor',
      '--prefix',
      fixture.d.prefix,
      '--user-pool-id',
      fixture.userPoolId,
      '--json',
    );
    const report = JSON.parse(out) as Report;

    expect(failed(report)).toEqual([]);
    expect(code).toBe(0);
    expect(report.checks.map((check) => check.id)).toEqual(
      (await doctor()).report.checks.map((check) => check.id),
    );
  });

  /**
   * One precondition broken: doctor fails that check alone, says what it saw, and names the fix;
   * then it is put back and doctor passes again.
   */
  const breaks: {
    what: string;
    check: string;
    seen: RegExp;
    fix: RegExp;
    recorded?: boolean;
    breakIt: () => Promise<unknown>;
    restore: () => Promise<unknown>;
  }[] = [
    {
      what: 'the trigger detached from the pool',
      check: 'trigger.attached',
      seen: /no PostConfirmation trigger/,
      fix: /update-user-pool.*wiring-an-existing-user-pool-safely/,
      breakIt: () =>
        new CognitoIdentityProviderClient({}).send(
          new UpdateUserPoolCommand({ UserPoolId: fixture.userPoolId, LambdaConfig: {} }),
        ),
      restore: () =>
        new CognitoIdentityProviderClient({}).send(
          new UpdateUserPoolCommand({
            UserPoolId: fixture.userPoolId,
            LambdaConfig: { PostConfirmation: fixture.functionArns.postConfirmation },
          }),
        ),
    },
    {
      what: "Cognito's permission to invoke the trigger removed",
      check: 'trigger.permission',
      seen: /no statement of its resource policy lets cognito-idp\.amazonaws\.com invoke it/,
      fix: /add-permission .*--principal cognito-idp\.amazonaws\.com --source-arn arn:aws:cognito-idp:/,
      breakIt: () =>
        new LambdaClient({}).send(
          new RemovePermissionCommand({
            FunctionName: fixture.names.postConfirmation,
            StatementId: 'cognito',
          }),
        ),
      restore: () =>
        new LambdaClient({}).send(
          new AddPermissionCommand({
            FunctionName: fixture.names.postConfirmation,
            StatementId: 'cognito',
            Action: 'lambda:InvokeFunction',
            Principal: 'cognito-idp.amazonaws.com',
            SourceArn: fixture.poolArn,
            SourceAccount: '123456789012',
          }),
        ),
    },
    {
      what: 'the user-changes function serving another pool',
      check: 'function.userChanges.config',
      seen: /USER_POOL_ID is eu-west-1_Other0000, not the deployment's pool/,
      fix: /redeploy .*right parameters/,
      breakIt: () =>
        new LambdaClient({}).send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: fixture.names.userChanges,
            Environment: {
              Variables: { ...environmentOf('userChanges', fixture.d), USER_POOL_ID: 'eu-west-1_Other0000' },
            },
          }),
        ),
      restore: () =>
        new LambdaClient({}).send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: fixture.names.userChanges,
            Environment: { Variables: environmentOf('userChanges', fixture.d) },
          }),
        ),
    },
    {
      what: 'the trigger without its retry queue (a plain http User Service URL, too)',
      check: 'function.postConfirmation.config',
      seen: /RETRY_QUEUE_URL is not set: a user that cannot be synced now is dropped/,
      fix: /redeploy/,
      breakIt: () => {
        const { RETRY_QUEUE_URL: _, ...variables } = environmentOf('postConfirmation', fixture.d);
        return new LambdaClient({}).send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: fixture.names.postConfirmation,
            Environment: {
              Variables: { ...variables, USER_SERVICE_URL: 'http://users.internal.example.com/api/v1/users' },
            },
          }),
        );
      },
      restore: () =>
        new LambdaClient({}).send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: fixture.names.postConfirmation,
            Environment: { Variables: environmentOf('postConfirmation', fixture.d) },
          }),
        ),
    },
    {
      what: "the user-changes role denied its API key secret (the simulator's recorded implicitDeny)",
      check: 'function.userChanges.secrets',
      seen: /role\/doc-\w+-user-changes may not secretsmanager:GetSecretValue on .*api-key.*no statement allows it/,
      fix: /secretsmanager:GetSecretValue on the given secrets/,
      recorded: true,
      breakIt: async () =>
        simulator.decide(
          arnsOf(fixture.d).role('userChanges'),
          'secretsmanager:GetSecretValue',
          'implicitDeny',
        ),
      restore: async () => simulator.reset(),
    },
    {
      what: "the retry worker's role denied the queues' key by a boundary (recorded explicitDeny)",
      check: 'function.retryWorker.key',
      seen: /may not kms:Decrypt on arn:aws:kms:.*explicitly denied/,
      fix: /KmsKeyArn \/ kms_key_arn/,
      recorded: true,
      breakIt: async () =>
        simulator.decide(arnsOf(fixture.d).role('retryWorker'), 'kms:Decrypt', 'explicitDeny'),
      restore: async () => simulator.reset(),
    },
    {
      what: "the retry worker's event source disabled",
      check: 'function.retryWorker.event-source',
      seen: /is Disabled: the queue is not consumed/,
      fix: /aws lambda update-event-source-mapping --uuid [\w-]+ --enabled/,
      breakIt: () => setMapping('retryWorker', false),
      restore: () => setMapping('retryWorker', true),
    },
    {
      what: "the user-changes function's reserved concurrency set to 0",
      check: 'function.userChanges.concurrency',
      seen: /reserved concurrency is 0: the function never runs/,
      fix: /delete-function-concurrency --function-name doc-\w+-user-changes/,
      breakIt: () =>
        new LambdaClient({}).send(
          new PutFunctionConcurrencyCommand({
            FunctionName: fixture.names.userChanges,
            ReservedConcurrentExecutions: 0,
          }),
        ),
      restore: () =>
        new LambdaClient({}).send(
          new DeleteFunctionConcurrencyCommand({ FunctionName: fixture.names.userChanges }),
        ),
    },
    {
      what: 'the trail stopped logging',
      check: 'trail.logging',
      seen: /management-events: logging is off/,
      fix: /aws cloudtrail start-logging --name arn:aws:cloudtrail:/,
      breakIt: () => new CloudTrailClient({}).send(new StopLoggingCommand({ Name: fixture.names.trail })),
      restore: () => new CloudTrailClient({}).send(new StartLoggingCommand({ Name: fixture.names.trail })),
    },
    {
      what: "the trail's advanced selector narrowed to read-only events",
      check: 'trail.logging',
      seen: /no advanced selector takes them \(it selects read-only events only\)/,
      fix: /does-the-account-have-a-suitable-trail/,
      breakIt: () => selectors(['true']),
      restore: () => selectors(['false']),
    },
    {
      what: 'the rule disabled',
      check: 'rule.enabled',
      seen: /its state is DISABLED: no change reaches the changes queue/,
      fix: /aws events enable-rule --name doc-\w+-user-changes/,
      breakIt: () =>
        new EventBridgeClient({}).send(new DisableRuleCommand({ Name: fixture.names.userChangesRule })),
      restore: () =>
        new EventBridgeClient({}).send(new EnableRuleCommand({ Name: fixture.names.userChangesRule })),
    },
    {
      what: "the rule's pattern without the failed-call filter",
      check: 'rule.pattern',
      seen: /^expected /,
      fix: /userChangesRulePattern/,
      breakIt: () => {
        const { errorCode: _, ...detail } = userChangesRulePattern(fixture.userPoolId).detail;
        return putPattern({ ...userChangesRulePattern(fixture.userPoolId), detail });
      },
      restore: () => putPattern(userChangesRulePattern(fixture.userPoolId)),
    },
    {
      what: "the rule's target removed",
      check: 'rule.target',
      seen: /it has no target: matched events go nowhere/,
      fix: /redeploy/,
      breakIt: () =>
        new EventBridgeClient({}).send(
          new RemoveTargetsCommand({ Rule: fixture.names.userChangesRule, Ids: ['changes-queue'] }),
        ),
      restore: () =>
        new EventBridgeClient({}).send(
          new PutTargetsCommand({
            Rule: fixture.names.userChangesRule,
            Targets: [{ Id: 'changes-queue', Arn: arnsOf(fixture.d).queue('changesQueue') }],
          }),
        ),
    },
    {
      what: "the changes queue's policy without EventBridge's Allow",
      check: 'queue.changes.policy',
      seen: /nothing allows events\.amazonaws\.com to send: the rule cannot deliver/,
      fix: /OperatorRoleArns.*queue-policies-who-may-send/,
      breakIt: () =>
        queuePolicy(
          'changesQueue',
          (expectedQueuePolicies(fixture.d)[fixture.names.changesQueue] ?? []).filter(
            (statement) => statement.Sid !== 'CognitoEventsFromTheRule',
          ),
        ),
      restore: () =>
        queuePolicy('changesQueue', expectedQueuePolicies(fixture.d)[fixture.names.changesQueue] ?? []),
    },
    {
      what: "the retry queue's Deny covering the post-confirmation role",
      check: 'queue.retry.policy',
      seen: /the post-confirmation role \(arn:aws:iam::123456789012:role\/doc-\w+-post-confirmation\) may not send: the Deny covers it/,
      fix: /redeploy/,
      breakIt: () =>
        queuePolicy(
          'retryQueue',
          (expectedQueuePolicies(fixture.d)[fixture.names.retryQueue] ?? []).map((statement) => ({
            ...statement,
            Condition: { ArnNotLike: { 'aws:PrincipalArn': fixture.d.operatorRoleArns } },
          })),
        ),
      restore: () =>
        queuePolicy('retryQueue', expectedQueuePolicies(fixture.d)[fixture.names.retryQueue] ?? []),
    },
    {
      what: "the key policy without EventBridge's grant",
      check: 'kms.events',
      seen: /no statement allows events\.amazonaws\.com kms:GenerateDataKey and kms:Decrypt for arn:aws:events:/,
      fix: /EventBridgeSendsToTheChangesQueue.*a-customer-managed-kms-key/,
      breakIt: () =>
        new KMSClient({}).send(
          new PutKeyPolicyCommand({
            KeyId: fixture.keyArn,
            PolicyName: 'default',
            Policy: keyPolicyOf(fixture.d, { events: false }),
          }),
        ),
      restore: () =>
        new KMSClient({}).send(
          new PutKeyPolicyCommand({
            KeyId: fixture.keyArn,
            PolicyName: 'default',
            Policy: keyPolicyOf(fixture.d),
          }),
        ),
    },
    {
      what: 'an alarm without an action',
      check: 'alarms.actions',
      seen: /doc-\w+-user-sync-dropped has no alarm action: it pages nobody/,
      fix: /AlarmTopicArn \/ alarm_sns_topic_arn/,
      breakIt: () => alarm([]),
      restore: () => alarm([fixture.topicArn]),
    },
    {
      what: 'the reconcile schedule disabled',
      check: 'reconcile.schedule',
      seen: /doc-\w+-reconcile is DISABLED: no run starts/,
      fix: /aws events enable-rule --name doc-\w+-reconcile/,
      breakIt: () =>
        new EventBridgeClient({}).send(new DisableRuleCommand({ Name: fixture.names.reconcileRule })),
      restore: () =>
        new EventBridgeClient({}).send(new EnableRuleCommand({ Name: fixture.names.reconcileRule })),
    },
  ];

  const setMapping = async (role: 'retryWorker', enabled: boolean) => {
    const lambda = new LambdaClient({});
    const { EventSourceMappings = [] } = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: fixture.names[role] }),
    );
    for (const mapping of EventSourceMappings) {
      await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping.UUID, Enabled: enabled }));
    }
  };
  const selectors = (readOnly: string[]) =>
    new CloudTrailClient({}).send(
      new PutEventSelectorsCommand({
        TrailName: fixture.names.trail,
        AdvancedEventSelectors: [
          {
            Name: 'Write management events',
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Management'] },
              { Field: 'readOnly', Equals: readOnly },
            ],
          },
        ],
      }),
    );
  const putPattern = (pattern: unknown) =>
    new EventBridgeClient({}).send(
      new PutRuleCommand({
        Name: fixture.names.userChangesRule,
        EventPattern: JSON.stringify(pattern),
        State: 'ENABLED',
      }),
    );
  const queuePolicy = (role: 'changesQueue' | 'retryQueue', statements: { other?: string[] }[]) =>
    new SQSClient({}).send(
      new SetQueueAttributesCommand({
        QueueUrl: fixture.queueUrls[role],
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: statements.map(({ other: _, ...statement }) => statement),
          }),
        },
      }),
    );
  const alarm = (actions: string[]) =>
    new CloudWatchClient({}).send(
      new PutMetricAlarmCommand({
        AlarmName: `${fixture.d.prefix}-user-sync-dropped`,
        Namespace: 'CognitoUserSync',
        MetricName: 'UserSyncDropped',
        Dimensions: [{ Name: 'service', Value: fixture.d.prefix }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: actions,
      }),
    );

  it.each(breaks)(
    'sees $what: $check fails, naming its fix',
    async ({ check, seen, fix, breakIt, restore }) => {
      await breakIt();
      try {
        const { code, report } = await doctor();

        expect(code).toBe(1);
        const failures = failed(report);
        expect(failures.map((failure) => failure.id)).toEqual([check]);
        expect(
          failures[0]?.detail.some((line) => seen.test(line)),
          failures[0]?.detail.join('\n'),
        ).toBe(true);
        expect(failures[0]?.fix).toMatch(fix);
      } finally {
        await restore();
      }
      expect((await doctor()).code).toBe(0);
    },
  );

  it('prints the checklist: ✓ and ✗ with the fix under it, and the counts', async () => {
    await new EventBridgeClient({}).send(new DisableRuleCommand({ Name: fixture.names.userChangesRule }));
    try {
      const { code, out } = await run('doctor', '--terraform-outputs', outputs);

      expect(code).toBe(1);
      expect(out).toMatch(
        /^cognito-user-sync doctor: Terraform outputs .* \(region eu-north-1, prefix doc-\w+, pool eu-north-1_\w+\)$/m,
      );
      expect(out).toContain(`  ✓ the pool's PostConfirmation trigger is ${fixture.names.postConfirmation}`);
      expect(out).toContain(`  ✗ ${fixture.names.userChangesRule} is enabled\n      its state is DISABLED`);
      expect(out).toContain(`      fix: aws events enable-rule --name ${fixture.names.userChangesRule}`);
      expect(out).toMatch(/\n\d+ passed, 1 failed, 0 skipped$/);
    } finally {
      await new EventBridgeClient({}).send(new EnableRuleCommand({ Name: fixture.names.userChangesRule }));
    }
  });

  it('skips the parts a deployment does not have: Terraform outputs null without user changes and reconcile', async () => {
    const values = fixture.terraformOutputs();
    for (const name of [
      'user_changes_function_arn',
      'user_changes_function_name',
      'changes_queue_url',
      'changes_dead_letter_queue_url',
      'user_changes_rule_arn',
      'reconcile_function_arn',
      'reconcile_function_name',
      'reconcile_queue_url',
      'reconcile_dead_letter_queue_url',
    ]) {
      values[name as keyof typeof values] = { value: null, type: 'string', sensitive: false };
    }
    const file = join(await mkdtemp(join(tmpdir(), 'doctor-')), 'core-only.json');
    await (await import('node:fs/promises')).writeFile(file, JSON.stringify(values));

    const { out } = await run('doctor', '--terraform-outputs', file, '--json');
    const report = JSON.parse(out) as Report;

    expect(report.checks.filter((check) => check.status === 'skip').map((check) => check.id)).toEqual([
      'trail.logging',
      'rule',
      'reconcile.schedule',
    ]);
    expect(report.checks.map((check) => check.id)).not.toContain('function.userChanges.config');
  });

  it('--stack of a stack that does not exist: one line naming it and the region, exit 2', async () => {
    const { code, out, err } = await run('doctor', '--stack', 'nosuch');

    expect(err.split('\n')[0]).toBe(
      'cognito-user-sync: --stack nosuch: no such stack in eu-north-1 (CloudFormation: Stack with id nosuch does not exist)',
    );
    expect(code).toBe(2);
    expect(out).toBe('');
  });

  it('names a read it was refused, and the action it needs, as a failed check', async () => {
    // Only the recorded simulator answers IAM here: a Lambda endpoint that refuses stands in for a
    // missing permission, the SDK's own error as AWS would answer it.
    vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', simulator.endpoint);
    try {
      const { code, report } = await doctor();

      expect(code).toBe(1);
      const failure = failed(report).find((check) => check.id === 'function.postConfirmation.config');
      expect(failure?.detail[0]).toMatch(/^could not read it: lambda:GetFunctionConfiguration answered /);
      expect(failure?.fix).toMatch(/call lambda:GetFunctionConfiguration/);
    } finally {
      vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', '');
    }
  });
});
