// A whole deployment in moto, made through the AWS APIs exactly as the deploy tier's spec says both
// IaC flavours make it (tests/iac/helpers/spec.ts: each function's environment and role policy,
// each queue's policy, the rule's pattern, the alarms' names), with every option doctor checks on:
// a customer-managed KMS key with the documented key policy, both secrets, an alarm topic, the
// trail, user changes and reconcile. Faster than a Terraform apply in the AWS tier, and held to
// the same spec the deployed templates are. What moto cannot hold is said where it is bridged.

import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CloudTrailClient,
  CreateTrailCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  UpdateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { zipSync } from 'fflate';
import { userChangesRulePattern } from '../../src/domain/user-events.js';
import type { Statement } from '../iac/helpers/policies.js';
import {
  alarmNamesOf,
  arnsOf,
  type Deployment,
  deploymentOf,
  environmentOf,
  expectedQueuePolicies,
  expectedStatements,
  type FunctionRole,
  namesOf,
  type QueueRole,
} from '../iac/helpers/spec.js';
import { moto } from './aws.js';

export const ACCOUNT_ID = '123456789012';
/** What the fixture's secrets hold: the User Service behind a fixture accepts them. */
export const API_KEY = 'smoke-and-doctor-api-key';
export const SIGNING_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** The spec's normalized statement as an IAM policy's JSON. */
const asJson = ({ other: _other, ...statement }: Statement) => statement;
const documentOf = (statements: Statement[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements.map(asJson) });

/** The key policy docs/deploy.md gives for a customer-managed key (the vpc example makes it). */
export const keyPolicyOf = (d: Deployment, { events = true } = {}) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AccountAdministersTheKey',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${d.accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      ...(events
        ? [
            {
              Sid: 'EventBridgeSendsToTheChangesQueue',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
              Resource: '*',
              Condition: { ArnEquals: { 'aws:SourceArn': arnsOf(d).userChangesRule } },
            },
          ]
        : []),
    ],
  });

const FUNCTION_ROLES: FunctionRole[] = ['postConfirmation', 'retryWorker', 'userChanges', 'reconcile'];
const QUEUES: [QueueRole, keyof ReturnType<typeof namesOf>][] = [
  ['deadLetterQueue', 'deadLetterQueue'],
  ['retryQueue', 'retryQueue'],
  ['changesDeadLetterQueue', 'changesDeadLetterQueue'],
  ['changesQueue', 'changesQueue'],
  ['reconcileDeadLetterQueue', 'reconcileDeadLetterQueue'],
  ['reconcileQueue', 'reconcileQueue'],
];
const REDRIVES: Partial<Record<QueueRole, QueueRole>> = {
  retryQueue: 'deadLetterQueue',
  changesQueue: 'changesDeadLetterQueue',
  reconcileQueue: 'reconcileDeadLetterQueue',
};

export interface DeploymentFixture {
  d: Deployment;
  names: ReturnType<typeof namesOf>;
  userPoolId: string;
  poolArn: string;
  keyArn: string;
  topicArn: string;
  trailArn: string;
  queueUrls: Record<QueueRole, string>;
  functionArns: Record<FunctionRole, string>;
  /** The outputs `terraform output -json` gives for terraform/modules/cognito-user-sync (outputs.tf). */
  terraformOutputs(): Record<string, { value: unknown; type: unknown; sensitive: boolean }>;
  writeTerraformOutputs(dir: string): Promise<string>;
}

/** A minimal zip: the functions never run in this tier, Lambda only holds them. */
const ZIP = zipSync({
  'index.mjs': new TextEncoder().encode('export const handler = async (event) => event;\n'),
});

export const createDeployment = async ({
  prefix = `doc-${randomUUID().slice(0, 6)}`,
  userServiceUrl = 'https://users.internal.example.com/api/v1/users',
}: {
  prefix?: string;
  userServiceUrl?: string;
} = {}): Promise<DeploymentFixture> => {
  const region = process.env.AWS_REGION ?? 'eu-west-1';
  // IAM goes to moto explicitly: AWS_ENDPOINT_URL_IAM may point at the recorded simulator.
  const iam = new IAMClient({ endpoint: moto().endpoint });
  const cognito = new CognitoIdentityProviderClient({});
  const kms = new KMSClient({});
  const sqs = new SQSClient({});
  const lambda = new LambdaClient({});
  const events = new EventBridgeClient({});
  const names = namesOf(prefix);

  const { UserPool } = await cognito.send(new CreateUserPoolCommand({ PoolName: prefix }));
  const userPoolId = UserPool?.Id ?? '';
  const poolArn = UserPool?.Arn ?? `arn:aws:cognito-idp:${region}:${ACCOUNT_ID}:userpool/${userPoolId}`;
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: `${prefix} queues` }));
  const keyArn = KeyMetadata?.Arn ?? '';
  const secretsManager = new SecretsManagerClient({});
  const apiKeySecretArn =
    (await secretsManager.send(new CreateSecretCommand({ Name: `${prefix}/api-key`, SecretString: API_KEY })))
      .ARN ?? '';
  const signingSecretArn =
    (
      await secretsManager.send(
        new CreateSecretCommand({ Name: `${prefix}/signing-secret`, SecretString: SIGNING_SECRET }),
      )
    ).ARN ?? '';
  // An alarm action is an ARN; CloudWatch does not look the topic up when the alarm is made.
  const TopicArn = `arn:aws:sns:${region}:${ACCOUNT_ID}:${prefix}-alarms`;

  const queueUrls = {} as Record<QueueRole, string>;
  const d = deploymentOf({
    prefix,
    region,
    accountId: ACCOUNT_ID,
    userServiceUrl,
    apiKeySecretArn,
    signingSecretArn,
    alarmTopicArn: TopicArn,
    syncDeadlineMs: 3500,
    maxReceiveCount: 12,
    maximumConcurrency: 2,
    logRetentionDays: 14,
    userPoolArn: poolArn,
    kmsKeyArn: keyArn,
    operatorRoleArns: [`arn:aws:iam::${ACCOUNT_ID}:role/operations`],
    queueUrl: (name) => `${moto().endpoint}/${ACCOUNT_ID}/${name}`,
  });
  await kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: keyPolicyOf(d) }));

  for (const [role, name] of QUEUES) {
    const redrive = REDRIVES[role];
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: names[name],
        Attributes: {
          KmsMasterKeyId: keyArn,
          MessageRetentionPeriod: '1209600',
          ...(redrive && {
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: arnsOf(d).queue(redrive),
              maxReceiveCount: 12,
            }),
          }),
        },
      }),
    );
    queueUrls[role] = QueueUrl;
  }
  const policies = expectedQueuePolicies(d);
  for (const [role, name] of QUEUES) {
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrls[role],
        Attributes: { Policy: documentOf(policies[names[name]] ?? []) },
      }),
    );
  }

  const functionArns = {} as Record<FunctionRole, string>;
  for (const role of FUNCTION_ROLES) {
    await iam.send(
      new CreateRoleCommand({
        RoleName: names[role],
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: names[role],
        PolicyName: role,
        PolicyDocument: documentOf(expectedStatements(role, d)),
      }),
    );
    const { FunctionArn = '' } = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: names[role],
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Role: arnsOf(d).role(role),
        Code: { ZipFile: ZIP },
        Timeout: { postConfirmation: 5, retryWorker: 30, userChanges: 60, reconcile: 900 }[role],
        Environment: { Variables: environmentOf(role, d) },
      }),
    );
    functionArns[role] = FunctionArn;
  }
  const queueArn = async (role: QueueRole) =>
    (
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrls[role], AttributeNames: ['QueueArn'] }),
      )
    ).Attributes?.QueueArn ?? '';
  for (const [role, queue, batch] of [
    ['retryWorker', 'retryQueue', 10],
    ['userChanges', 'changesQueue', 10],
    ['reconcile', 'reconcileQueue', 1],
  ] as const) {
    await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: names[role],
        EventSourceArn: await queueArn(queue),
        BatchSize: batch,
        ...(role !== 'reconcile' && { FunctionResponseTypes: ['ReportBatchItemFailures'] }),
        ScalingConfig: { MaximumConcurrency: 2 },
      }),
    );
  }
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: names.postConfirmation,
      StatementId: 'cognito',
      Action: 'lambda:InvokeFunction',
      Principal: 'cognito-idp.amazonaws.com',
      SourceArn: poolArn,
      SourceAccount: ACCOUNT_ID,
    }),
  );
  await cognito.send(
    new UpdateUserPoolCommand({
      UserPoolId: userPoolId,
      LambdaConfig: { PostConfirmation: functionArns.postConfirmation },
    }),
  );

  await events.send(
    new PutRuleCommand({
      Name: names.userChangesRule,
      EventPattern: JSON.stringify(userChangesRulePattern(userPoolId)),
      State: 'ENABLED',
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: names.userChangesRule,
      Targets: [{ Id: 'changes-queue', Arn: await queueArn('changesQueue') }],
    }),
  );
  await events.send(
    new PutRuleCommand({ Name: names.reconcileRule, ScheduleExpression: 'rate(1 day)', State: 'ENABLED' }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: names.reconcileRule,
      Targets: [{ Id: 'reconcile', Arn: functionArns.reconcile }],
    }),
  );

  // The trail, with advanced selectors (write management events), as an account's own trail may be.
  const bucket = `${prefix}-trail-${randomUUID().slice(0, 8)}`;
  // CloudTrail wants its bucket to exist; S3's REST API through moto (the project has no S3 client).
  const made = await fetch(`${moto().endpoint}/${bucket}`, {
    method: 'PUT',
    body: `<CreateBucketConfiguration><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`,
  });
  if (!made.ok) throw new Error(`moto made no bucket: ${made.status} ${await made.text()}`);
  const cloudtrail = new CloudTrailClient({});
  const { TrailARN = '' } = await cloudtrail.send(
    new CreateTrailCommand({ Name: names.trail, S3BucketName: bucket }),
  );
  await cloudtrail.send(
    new PutEventSelectorsCommand({
      TrailName: names.trail,
      AdvancedEventSelectors: [
        {
          Name: 'Write management events',
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'readOnly', Equals: ['false'] },
          ],
        },
      ],
    }),
  );
  await cloudtrail.send(new StartLoggingCommand({ Name: names.trail }));

  const cloudwatch = new CloudWatchClient({});
  for (const alarm of alarmNamesOf(d)) {
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: alarm,
        Namespace: 'CognitoUserSync',
        MetricName: 'UserSyncDropped',
        Dimensions: [{ Name: 'service', Value: prefix }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [TopicArn],
        OKActions: [TopicArn],
      }),
    );
  }

  const terraformOutputs = () => {
    const output = (value: unknown) => ({
      value,
      type: typeof value === 'string' ? 'string' : ['list', 'string'],
      sensitive: false,
    });
    return {
      post_confirmation_function_arn: output(functionArns.postConfirmation),
      post_confirmation_function_name: output(names.postConfirmation),
      retry_worker_function_arn: output(functionArns.retryWorker),
      retry_worker_function_name: output(names.retryWorker),
      user_changes_function_arn: output(functionArns.userChanges),
      user_changes_function_name: output(names.userChanges),
      reconcile_function_arn: output(functionArns.reconcile),
      reconcile_function_name: output(names.reconcile),
      retry_queue_url: output(queueUrls.retryQueue),
      dead_letter_queue_url: output(queueUrls.deadLetterQueue),
      changes_queue_url: output(queueUrls.changesQueue),
      changes_dead_letter_queue_url: output(queueUrls.changesDeadLetterQueue),
      reconcile_queue_url: output(queueUrls.reconcileQueue),
      reconcile_dead_letter_queue_url: output(queueUrls.reconcileDeadLetterQueue),
      reconcile_table_name: output(names.reconcileTable),
      user_changes_rule_arn: output(arnsOf(d).userChangesRule),
      user_pool_id: output(userPoolId),
      dashboard_name: output(prefix),
      trail_arn: output(TrailARN),
      alarm_names: output(alarmNamesOf(d)),
    };
  };
  return {
    d,
    names,
    userPoolId,
    poolArn,
    keyArn,
    topicArn: TopicArn,
    trailArn: TrailARN,
    queueUrls,
    functionArns,
    terraformOutputs,
    writeTerraformOutputs: async (dir) => {
      const file = join(dir, `${prefix}-outputs.json`);
      await writeFile(file, JSON.stringify(terraformOutputs(), null, 2));
      return file;
    },
  };
};
