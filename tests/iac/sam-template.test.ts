// template.yaml as CloudFormation receives it: through the SAM transform and rendered for given
// parameters, checked against what the issues ask of a deployment. Everything moto's
// CloudFormation cannot create (queue and bucket policies, the trail, alarms, a new pool) is
// checked here.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { itPagesOnCall } from '../alarms/scenarios.js';
import {
  type CfnTemplate,
  type JsonObject,
  type Rendered,
  renderTemplate,
} from './helpers/cloudformation.js';
import {
  dashboardAlarmArns,
  dashboardExpressions,
  dashboardMetrics,
  normalizeAlarm,
} from './helpers/metrics.js';
import { normalizePolicy, wildcardViolations } from './helpers/policies.js';
import { REPO_ROOT } from './helpers/run.js';
import { samParametersOf, transformTemplate } from './helpers/sam.js';
import {
  ALARMS,
  arnsOf,
  type Deployment,
  deploymentOf,
  expectAlarmsAsSpecified,
  expectCognitoPermissionAsSpecified,
  expectDashboardAsSpecified,
  expectEventInvokeConfigsAsSpecified,
  expectEventSourcesAsSpecified,
  expectedOperatorStatements,
  expectedQueuePolicies,
  expectedStatements,
  expectedTrailBucketStatements,
  expectFunctionAsSpecified,
  expectQueryDefinitionsAsSpecified,
  expectQueuesAsSpecified,
  expectReconcileScheduleAsSpecified,
  expectSchedulePermissionAsSpecified,
  expectTablesAsSpecified,
  expectTrailAsSpecified,
  expectUserChangesRuleAsSpecified,
  type FunctionRole,
  functionSettings,
  functionsOf,
  namesOf,
  type QueryDefinition,
  tableSettingsOfTemplate,
} from './helpers/spec.js';

const region = 'eu-west-1';
const accountId = '111122223333';
const secret = (name: string) => `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-AbCdEf`;
const ZIP_OF: Record<FunctionRole, string> = {
  postConfirmation: 'post-confirmation.zip',
  retryWorker: 'retry-worker.zip',
  userChanges: 'user-changes.zip',
  reconcile: 'reconcile.zip',
};

// Cognito's pool id is only known once the pool exists; the renderer names it <region>_<logical id>.
const createdPoolArn = `arn:aws:cognito-idp:${region}:${accountId}:userpool/${region}_UserPool`;

/** A new pool with both secrets and an alarm topic; user changes on (the default), reconcile opted out. */
const newPool = deploymentOf({
  prefix: 'sync-a',
  region,
  accountId,
  userServiceUrl: 'https://users.internal.example.com/api/v1/users',
  apiKeySecretArn: secret('user-service-api-key'),
  signingSecretArn: secret('user-service-signing'),
  alarmTopicArn: `arn:aws:sns:${region}:${accountId}:on-call`,
  syncDeadlineMs: 3000,
  maxReceiveCount: 15,
  maximumConcurrency: 5,
  logRetentionDays: 90,
  userPoolArn: createdPoolArn,
  userChanges: { maximumConcurrency: 4 },
  reconcile: false,
  runbookUrl: 'https://wiki.example.com/on-call/cognito-user-sync',
});

const existingPoolId = `${region}_Qx7Lm2Rt9`;
const existingPoolArn = `arn:aws:cognito-idp:${region}:${accountId}:userpool/${existingPoolId}`;

/** An existing pool, nothing optional: no secret, no topic, and user changes (so reconcile) turned off. */
const bare = deploymentOf({
  prefix: 'cognito-user-sync',
  region,
  accountId,
  userServiceUrl: 'https://users.internal.example.com/api/v1/users',
  syncDeadlineMs: 3500,
  maxReceiveCount: 12,
  maximumConcurrency: 2,
  logRetentionDays: 30,
  userPoolArn: existingPoolArn,
  userChanges: false,
  reconcile: false,
});

/** An existing pool with the scheduled reconcile, the trail and every adoption option. */
const everything = deploymentOf({
  prefix: 'sync-all',
  region,
  accountId,
  userServiceUrl: 'https://users.internal.example.com/api/v1/users',
  userServiceTimeoutMs: 2500,
  logLevel: 'DEBUG',
  apiKeySecretArn: secret('user-service-api-key'),
  syncDeadlineMs: 3500,
  maxReceiveCount: 12,
  maximumConcurrency: 3,
  logRetentionDays: 14,
  userPoolArn: existingPoolArn,
  userChanges: { maximumConcurrency: 6 },
  reconcile: { schedule: 'cron(0 3 * * ? *)', maxRps: 0.5, maxDeletes: 25, overdueDays: 3 },
  createTrail: true,
  operatorRoleArns: [
    `arn:aws:iam::${accountId}:role/operations`,
    `arn:aws:iam::${accountId}:role/aws-reserved/sso.amazonaws.com/${region}/AWSReservedSSO_Admin_*`,
  ],
  kmsKeyArn: `arn:aws:kms:${region}:${accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  vpc: { subnetIds: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'], securityGroupIds: ['sg-0123456789abcdef0'] },
  permissionsBoundaryArn: `arn:aws:iam::${accountId}:policy/workload-boundary`,
  memorySize: { postConfirmation: 512, retryWorker: 384, userChanges: 1024, reconcile: 2048 },
  // Each consumer's at least its event source's maximum concurrency (3, 6 and 2).
  reservedConcurrency: { postConfirmation: 50, retryWorker: 3, userChanges: 6, reconcile: 2 },
  userPolicy: {
    syncUserStatuses: 'CONFIRMED,EXTERNAL_PROVIDER',
    defaultUserStatus: 'PENDING',
    defaultUserRole: 'MEMBER',
    disabledUserStatus: 'SUSPENDED',
  },
});

/** Every optional parameter at its default: a new pool, user changes, reconcile daily at 5 ListUsers a second. */
const defaults = deploymentOf({
  prefix: 'cognito-user-sync',
  region,
  accountId,
  userServiceUrl: 'https://users.internal.example.com/api/v1/users',
  syncDeadlineMs: 3500,
  maxReceiveCount: 12,
  maximumConcurrency: 2,
  logRetentionDays: 30,
  userPoolArn: createdPoolArn,
});

let template: CfnTemplate;

const render = (d: Deployment, options: { newPool?: boolean } = {}, overrides: Record<string, string> = {}) =>
  renderTemplate(template, { ...samParametersOf(d, options), ...overrides }, { region, accountId });

const functionOf = (rendered: Rendered, role: FunctionRole, d: Deployment) =>
  rendered.only('AWS::Lambda::Function', (properties) => properties.FunctionName === namesOf(d.prefix)[role]);

const roleOf = (rendered: Rendered, role: FunctionRole, d: Deployment) => {
  const roleArn = functionOf(rendered, role, d).Properties.Role;
  return rendered.only(
    'AWS::IAM::Role',
    (properties) => `arn:aws:iam::${accountId}:role/${properties.RoleName}` === roleArn,
  );
};

/** The role's inline policies, merged: what the function may do. */
const statementsOf = (rendered: Rendered, role: FunctionRole, d: Deployment) => {
  const { Properties } = roleOf(rendered, role, d);
  const policies = (Properties.Policies ?? []) as { PolicyDocument: JsonObject }[];
  return normalizePolicy({
    Statement: policies.flatMap((policy) => policy.PolicyDocument.Statement as JsonObject[]),
  });
};

/** Queue properties as SQS reports them back: attribute strings, the JSON policies as JSON text. */
const queueAttributes = (properties: JsonObject): Record<string, string> => {
  const { QueueName: _name, RedrivePolicy, RedriveAllowPolicy, ...rest } = properties;
  const attributes = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, String(value)]));
  if (RedrivePolicy) {
    const { deadLetterTargetArn, maxReceiveCount } = RedrivePolicy as JsonObject;
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn,
      maxReceiveCount: Number(maxReceiveCount),
    });
  }
  if (RedriveAllowPolicy) attributes.RedriveAllowPolicy = JSON.stringify(RedriveAllowPolicy);
  return attributes;
};

const queuesOf = (rendered: Rendered) =>
  Object.fromEntries(
    Object.values(rendered.ofType('AWS::SQS::Queue')).map(({ Properties }) => [
      String(Properties.QueueName),
      queueAttributes(Properties),
    ]),
  );

const queuePoliciesOf = (rendered: Rendered) =>
  Object.fromEntries(
    Object.values(rendered.ofType('AWS::SQS::QueuePolicy')).map(({ Properties }) => {
      const [url] = Properties.Queues as string[];
      return [String(url).split('/').at(-1), normalizePolicy(Properties.PolicyDocument)];
    }),
  );

/** The statement Lambda adds to the function's resource policy for an AWS::Lambda::Permission. */
const permissionStatement = (properties: JsonObject) => ({
  Effect: 'Allow',
  Action: properties.Action,
  Principal: { Service: properties.Principal },
  Resource: properties.FunctionName,
  Condition: {
    ArnLike: { 'AWS:SourceArn': properties.SourceArn },
    ...(properties.SourceAccount !== undefined && {
      StringEquals: { 'AWS:SourceAccount': properties.SourceAccount },
    }),
  },
});

const eventSourcesOf = (rendered: Rendered) =>
  Object.values(rendered.ofType('AWS::Lambda::EventSourceMapping')).map(({ Properties }) => {
    const scaling = Properties.ScalingConfig as JsonObject;
    // As Lambda reports it back: the function's ARN, numbers as numbers.
    return {
      ...Properties,
      FunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${Properties.FunctionName}`,
      BatchSize: Number(Properties.BatchSize),
      ScalingConfig: { MaximumConcurrency: Number(scaling.MaximumConcurrency) },
    };
  });

/** Each function's asynchronous-invocation settings (on its unpublished version), by function name. */
const eventInvokeConfigsOf = (rendered: Rendered) =>
  Object.fromEntries(
    Object.values(rendered.ofType('AWS::Lambda::EventInvokeConfig')).map(({ Properties }) => {
      expect(Properties.Qualifier).toBe('$LATEST');
      return [
        String(Properties.FunctionName),
        {
          MaximumRetryAttempts: Number(Properties.MaximumRetryAttempts),
          MaximumEventAgeInSeconds: Number(Properties.MaximumEventAgeInSeconds),
        },
      ];
    }),
  );

const tablesOf = (rendered: Rendered) =>
  Object.values(rendered.ofType('AWS::DynamoDB::Table')).map(({ Properties }) =>
    tableSettingsOfTemplate(Properties),
  );

const alarmsOf = (rendered: Rendered) =>
  Object.values(rendered.ofType('AWS::CloudWatch::Alarm')).map((alarm) => normalizeAlarm(alarm.Properties));

const queryDefinitionsOf = (rendered: Rendered): QueryDefinition[] =>
  Object.values(rendered.ofType('AWS::Logs::QueryDefinition')).map(({ Properties }) => ({
    Name: String(Properties.Name),
    QueryString: String(Properties.QueryString),
    LogGroupNames: (Properties.LogGroupNames as string[]).map(String),
  }));

const dashboardBodyOf = (rendered: Rendered) =>
  JSON.parse(String(rendered.only('AWS::CloudWatch::Dashboard').Properties.DashboardBody)) as unknown;

const ruleOf = (rendered: Rendered, name: string) => {
  const { Properties } = rendered.only('AWS::Events::Rule', (properties) => properties.Name === name);
  return {
    rule: { ...Properties, Name: String(Properties.Name) },
    targets: (Properties.Targets as { Id: string; Arn: string }[]) ?? [],
  };
};

beforeAll(async () => {
  template = await transformTemplate({ region });
});

describe('template.yaml (SAM)', () => {
  describe('with a new user pool, both secrets, an alarm topic and user changes', () => {
    let rendered: Rendered;
    beforeAll(() => {
      rendered = render(newPool, { newPool: true });
    });

    it('deploys each function from its own zip: nodejs22.x, arm64, index.handler, active tracing, the environment it reads', () => {
      expect(Object.keys(rendered.ofType('AWS::Lambda::Function'))).toHaveLength(3);
      for (const role of functionsOf(newPool)) {
        const { Properties } = functionOf(rendered, role, newPool);

        expectFunctionAsSpecified(functionSettings(Properties), role, newPool);
        expect(Properties.Code).toMatchObject({ S3Key: ZIP_OF[role] });
      }
    });

    it('gives each function its own log group with the chosen retention, removed with the stack', () => {
      for (const role of functionsOf(newPool)) {
        const logGroupName = `/aws/lambda/${namesOf(newPool.prefix)[role]}`;
        const logGroup = rendered.only(
          'AWS::Logs::LogGroup',
          (properties) => properties.LogGroupName === logGroupName,
        );

        expect(Number(logGroup.Properties.RetentionInDays)).toBe(newPool.logRetentionDays);
        expect(logGroup.Properties.KmsKeyId).toBeUndefined();
        expect(logGroup.DeletionPolicy).toBe('Delete');
        expect(functionOf(rendered, role, newPool).Properties.LoggingConfig).toEqual({
          LogGroup: logGroupName,
        });
      }
    });

    it('encrypts every queue, keeps messages 14 days, redrives each to its DLQ, and lets only its source queue use a DLQ', () => {
      expectQueuesAsSpecified(queuesOf(rendered), newPool);
    });

    it('denies SendMessage on each queue to every principal but its own senders; EventBridge may send changes for the rule only', () => {
      expect(queuePoliciesOf(rendered)).toEqual(expectedQueuePolicies(newPool));
    });

    it('feeds the retry and changes queues to their workers ten at a time, with partial batch failures and bounded concurrency', () => {
      expectEventSourcesAsSpecified(eventSourcesOf(rendered), newPool);
    });

    it('routes exactly the Cognito user-change events of the pool (and the token calls) from the default bus to the changes queue', () => {
      const { rule, targets } = ruleOf(rendered, namesOf(newPool.prefix).userChangesRule);

      expectUserChangesRuleAsSpecified(rule, targets, newPool);
    });

    it('creates the pool with the function as its PostConfirmation trigger, and keeps it (and its users) when the stack goes', () => {
      const pool = rendered.only('AWS::Cognito::UserPool');

      expect(pool.Properties.LambdaConfig).toEqual({ PostConfirmation: arnsOf(newPool).postConfirmation });
      expect(pool.DeletionPolicy).toBe('Retain');
      expect(rendered.outputs.UserPoolId).toBe(`${region}_UserPool`);
    });

    it('lets Cognito invoke the function only for the created pool, in this account', () => {
      const { Properties } = rendered.only('AWS::Lambda::Permission');

      expectCognitoPermissionAsSpecified(permissionStatement(Properties), newPool);
    });

    it('grants each function exactly what it needs, with no wildcard beyond X-Ray, no managed policy and no boundary', () => {
      for (const role of functionsOf(newPool)) {
        const statements = statementsOf(rendered, role, newPool);
        const { Properties } = roleOf(rendered, role, newPool);

        expect(wildcardViolations(statements)).toEqual([]);
        expect(statements).toEqual(expectedStatements(role, newPool));
        expect(Properties.ManagedPolicyArns).toBeUndefined();
        expect(Properties.PermissionsBoundary).toBeUndefined();
      }
    });

    it('plots every metric of the deployed parts, the User Service per function, the queues, the functions and every alarm on the dashboard', () => {
      const body = dashboardBodyOf(rendered);

      expect(rendered.only('AWS::CloudWatch::Dashboard').Properties.DashboardName).toBe(newPool.prefix);
      expectDashboardAsSpecified(
        dashboardMetrics(body),
        dashboardAlarmArns(body),
        newPool,
        dashboardExpressions(body),
      );
    });

    it('alarms on failing sign-ups, retries and changes, dropped users, non-empty DLQs, lost events, function errors and throttles, each saying what broke, the first command and the runbook, notifying the topic', () => {
      expectAlarmsAsSpecified(alarmsOf(rendered), newPool);
    });

    it("saves the Logs Insights queries of docs/deploy.md, each on the deployed functions' log groups", () => {
      expectQueryDefinitionsAsSpecified(queryDefinitionsOf(rendered), newPool);
    });

    it('creates no trail, and no reconcile when its schedule is empty (the opt-out)', () => {
      for (const type of ['AWS::CloudTrail::Trail', 'AWS::S3::Bucket', 'AWS::S3::BucketPolicy']) {
        expect(rendered.ofType(type), type).toEqual({});
      }
      expect(Object.keys(rendered.resources).filter((id) => id.startsWith('Reconcile'))).toEqual([]);
      expectTablesAsSpecified(tablesOf(rendered), newPool);
      expectEventInvokeConfigsAsSpecified(eventInvokeConfigsOf(rendered), newPool);
    });

    it("outputs the functions, the queues, the rule, the dashboard and the operators' policy", () => {
      const arns = arnsOf(newPool);
      const names = namesOf(newPool.prefix);

      expect(rendered.outputs).toMatchObject({
        PostConfirmationFunctionArn: arns.postConfirmation,
        RetryWorkerFunctionArn: arns.retryWorker,
        UserChangesFunctionArn: arns.function('userChanges'),
        RetryQueueUrl: newPool.queueUrl(names.retryQueue),
        DeadLetterQueueUrl: newPool.queueUrl(names.deadLetterQueue),
        ChangesQueueUrl: newPool.queueUrl(names.changesQueue),
        ChangesDeadLetterQueueUrl: newPool.queueUrl(names.changesDeadLetterQueue),
        UserChangesRuleArn: arns.userChangesRule,
        DashboardName: newPool.prefix,
      });
      expect(Object.keys(rendered.outputs).filter((key) => /Reconcile|Trail/.test(key))).toEqual([]);
      expect(normalizePolicy(rendered.outputs.OperatorPolicy)).toEqual(expectedOperatorStatements(newPool));
    });
  });

  describe('with an existing user pool, no secret, no alarm topic and user changes off', () => {
    let rendered: Rendered;
    beforeAll(() => {
      rendered = render(bare);
    });

    it('creates no pool and lets Cognito invoke the function only for the given pool, in this account', () => {
      expect(rendered.ofType('AWS::Cognito::UserPool')).toEqual({});
      expectCognitoPermissionAsSpecified(
        permissionStatement(rendered.only('AWS::Lambda::Permission').Properties),
        bare,
      );
      expect(rendered.outputs.UserPoolId).toBe(existingPoolId);
    });

    it('deploys nothing of the user-changes part: no function, queue, rule, alarm or output', () => {
      const names = namesOf(bare.prefix);

      expect(
        Object.values(rendered.ofType('AWS::Lambda::Function')).map((fn) => fn.Properties.FunctionName),
      ).toEqual([names.postConfirmation, names.retryWorker]);
      expect(rendered.ofType('AWS::Events::Rule')).toEqual({});
      expect(Object.keys(rendered.resources).filter((id) => /Changes|Reconcile|Trail/.test(id))).toEqual([]);
      expect(Object.keys(rendered.outputs).filter((key) => /Changes|Reconcile|Trail/.test(key))).toEqual([]);
      expectQueuesAsSpecified(queuesOf(rendered), bare);
      expectTablesAsSpecified(tablesOf(rendered), bare);
      expect(queuePoliciesOf(rendered)).toEqual(expectedQueuePolicies(bare));
      expectEventSourcesAsSpecified(eventSourcesOf(rendered), bare);
    });

    it('grants no access to any secret', () => {
      for (const role of functionsOf(bare)) {
        const statements = statementsOf(rendered, role, bare);

        expect(statements.flatMap((statement) => statement.Action)).not.toContain(
          'secretsmanager:GetSecretValue',
        );
        expect(statements).toEqual(expectedStatements(role, bare));
      }
      expect(normalizePolicy(rendered.outputs.OperatorPolicy)).toEqual(expectedOperatorStatements(bare));
    });

    it('leaves the secret variables empty, which the functions read as unset', () => {
      for (const role of functionsOf(bare)) {
        expectFunctionAsSpecified(functionSettings(functionOf(rendered, role, bare).Properties), role, bare);
      }
    });

    it('keeps the alarms silent (no action without a topic), and the dashboard and saved queries to the deployed parts', () => {
      const body = dashboardBodyOf(rendered);

      expectAlarmsAsSpecified(alarmsOf(rendered), bare);
      expectQueryDefinitionsAsSpecified(queryDefinitionsOf(rendered), bare);
      expectDashboardAsSpecified(
        dashboardMetrics(body),
        dashboardAlarmArns(body),
        bare,
        dashboardExpressions(body),
      );
    });
  });

  describe('with an existing pool, the scheduled reconcile, the trail and every adoption option', () => {
    let rendered: Rendered;
    beforeAll(() => {
      rendered = render(everything);
    });

    it('deploys the four functions with their memory, reserved concurrency, subnets and security groups, the user policy, the attempt timeout and the log level', () => {
      expect(Object.keys(rendered.ofType('AWS::Lambda::Function'))).toHaveLength(4);
      for (const role of functionsOf(everything)) {
        const { Properties } = functionOf(rendered, role, everything);

        expectFunctionAsSpecified(functionSettings(Properties), role, everything);
        expect(Properties.Code).toMatchObject({ S3Key: ZIP_OF[role] });
      }
    });

    it('encrypts every queue and log group with the customer-managed key', () => {
      const queues = queuesOf(rendered);

      expectQueuesAsSpecified(queues, everything);
      for (const [name, attributes] of Object.entries(queues)) {
        expect(attributes.SqsManagedSseEnabled, name).toBeUndefined();
      }
      for (const { Properties } of Object.values(rendered.ofType('AWS::Logs::LogGroup'))) {
        expect(Properties.KmsKeyId, String(Properties.LogGroupName)).toBe(everything.kmsKeyArn);
      }
    });

    // moto's CloudFormation keeps neither the table's TimeToLiveSpecification nor its
    // SSESpecification (it reads `Enabled` where CloudFormation has `SSEEnabled`): both are
    // checked here, and on what Terraform applies to moto.
    it("keeps reconcile's run ledger in an on-demand table keyed by pool, expiring through expiresAt, under the key, deleted with the stack", () => {
      const table = rendered.only('AWS::DynamoDB::Table');

      expectTablesAsSpecified(tablesOf(rendered), everything);
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.UpdateReplacePolicy).toBe('Delete');
      expect(rendered.outputs.ReconcileTableName).toBe(namesOf(everything.prefix).reconcileTable);
    });

    it('lets the reconcile role and the operators send changes, only the reconcile role hand a run on, and the operators replay dead letters', () => {
      expect(queuePoliciesOf(rendered)).toEqual(expectedQueuePolicies(everything));
    });

    it('feeds the reconcile queue to reconcile one message at a time, at most two at once', () => {
      expectEventSourcesAsSpecified(eventSourcesOf(rendered), everything);
    });

    it("retries a scheduled start of reconcile twice at most, and drops one older than an hour (Lambda's asynchronous invocation settings)", () => {
      expectEventInvokeConfigsAsSpecified(eventInvokeConfigsOf(rendered), everything);
    });

    it('starts reconcile on the schedule, and lets EventBridge invoke it for that rule only', () => {
      const names = namesOf(everything.prefix);
      const { rule, targets } = ruleOf(rendered, names.reconcileRule);
      const permission = rendered.only(
        'AWS::Lambda::Permission',
        (properties) => properties.Principal === 'events.amazonaws.com',
      );

      expectReconcileScheduleAsSpecified(rule, targets, everything);
      // SAM writes the function's name; Lambda reports its ARN.
      expectSchedulePermissionAsSpecified(
        { ...permissionStatement(permission.Properties), Resource: arnsOf(everything).function('reconcile') },
        everything,
      );
    });

    it('grants the key (through SQS and Secrets Manager only, and DynamoDB for the run ledger) and the network interfaces, under the boundary', () => {
      for (const role of functionsOf(everything)) {
        const statements = statementsOf(rendered, role, everything);

        expect(wildcardViolations(statements)).toEqual([]);
        expect(statements).toEqual(expectedStatements(role, everything));
        expect(roleOf(rendered, role, everything).Properties.PermissionsBoundary).toBe(
          everything.permissionsBoundaryArn,
        );
      }
    });

    it('creates a single-region trail of write management events in a private, encrypted bucket only CloudTrail writes to', () => {
      const trail = rendered.only('AWS::CloudTrail::Trail');
      const bucket = rendered.only('AWS::S3::Bucket');
      const [bucketName] = Object.keys(rendered.ofType('AWS::S3::Bucket')).map(
        (id) => `stack-${id.toLowerCase()}-generated`,
      );
      const { Properties } = trail;

      expectTrailAsSpecified(
        {
          Name: String(Properties.TrailName),
          IsMultiRegionTrail: Properties.IsMultiRegionTrail === true,
          IncludeGlobalServiceEvents: Properties.IncludeGlobalServiceEvents === true,
          LogFileValidationEnabled: Properties.EnableLogFileValidation === true,
          IsLogging: Properties.IsLogging === true,
          EventSelectors: Properties.EventSelectors as {
            ReadWriteType: string;
            IncludeManagementEvents: boolean;
          }[],
        },
        everything,
      );
      expect(Properties.S3BucketName).toBe(bucketName);
      expect(bucket.Properties).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
      expect(bucket.DeletionPolicy).toBe('Delete');
      expect(normalizePolicy(rendered.only('AWS::S3::BucketPolicy').Properties.PolicyDocument)).toEqual(
        expectedTrailBucketStatements(String(bucketName), everything),
      );
      expect(rendered.outputs.TrailArn).toBe(arnsOf(everything).trail);
    });

    it('alarms on drift, errors, a stopped run and runs that stop completing, and plots its metrics', () => {
      const body = dashboardBodyOf(rendered);

      expectAlarmsAsSpecified(alarmsOf(rendered), everything);
      expectQueryDefinitionsAsSpecified(queryDefinitionsOf(rendered), everything);
      expectDashboardAsSpecified(
        dashboardMetrics(body),
        dashboardAlarmArns(body),
        everything,
        dashboardExpressions(body),
      );
    });

    it("outputs the operators' policy: the pool, every queue's attributes, the dead letters, the secret and the key", () => {
      expect(normalizePolicy(rendered.outputs.OperatorPolicy)).toEqual(
        expectedOperatorStatements(everything),
      );
      expect(rendered.outputs).toMatchObject({
        ReconcileFunctionArn: arnsOf(everything).function('reconcile'),
        ReconcileQueueUrl: everything.queueUrl(namesOf(everything.prefix).reconcileQueue),
      });
    });
  });

  describe('with every optional parameter at its default', () => {
    let rendered: Rendered;
    beforeAll(() => {
      rendered = renderTemplate(template, { UserServiceUrl: defaults.userServiceUrl }, { region, accountId });
    });

    it('runs reconcile daily at 5 ListUsers a second, deleting at most 10 users a run', () => {
      const { rule, targets } = ruleOf(rendered, namesOf(defaults.prefix).reconcileRule);

      expect(defaults.reconcile).toMatchObject({ schedule: 'rate(1 day)', maxRps: 5, maxDeletes: 10 });
      expectReconcileScheduleAsSpecified(rule, targets, defaults);
      expectEventInvokeConfigsAsSpecified(eventInvokeConfigsOf(rendered), defaults);
      for (const role of functionsOf(defaults)) {
        expectFunctionAsSpecified(
          functionSettings(functionOf(rendered, role, defaults).Properties),
          role,
          defaults,
        );
      }
    });

    it("alarms on runs that stop completing after 2 days, and links every runbook into the installed package's docs", () => {
      expectAlarmsAsSpecified(alarmsOf(rendered), defaults);
      expectQueryDefinitionsAsSpecified(queryDefinitionsOf(rendered), defaults);
    });
  });

  // The alarms as CloudFormation would create them, evaluated against the datapoints our functions
  // emit through outages and normal traffic, and AWS's through silent loss (tests/alarms).
  describe('alarm evaluation, with every optional parameter at its default', () => {
    itPagesOnCall(
      () =>
        alarmsOf(
          renderTemplate(template, { UserServiceUrl: defaults.userServiceUrl }, { region, accountId }),
        ),
      () => defaults,
    );
  });

  describe('alarm evaluation, with user changes and reconcile off', () => {
    itPagesOnCall(
      () => alarmsOf(render(bare)),
      () => bare,
    );
  });

  describe('alarm evaluation, with every adoption option and reconcile overdue after 3 days', () => {
    itPagesOnCall(
      () => alarmsOf(render(everything)),
      () => everything,
    );
  });

  it("points every alarm's runbook link at a section of docs/deploy.md that exists", async () => {
    const text = await readFile(join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    // GitHub's anchor of a heading: lower case, punctuation but - and _ dropped, spaces to -.
    const anchors = [...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) =>
      (match[1] ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
    for (const alarm of ALARMS) expect(anchors, alarm.suffix).toContain(`alarm-${alarm.suffix}`);
  });

  it('refuses a reconcile schedule without user changes, and subnets without security groups (template rules)', () => {
    expect(() => render(bare, {}, { ReconcileSchedule: 'rate(1 day)' })).toThrow(/ReconcileNeedsUserChanges/);
    expect(() => render(newPool, {}, { SubnetIds: 'subnet-0a1b2c3d' })).toThrow(/SubnetsNeedSecurityGroups/);
  });

  // CloudFormation's rule functions compare by equality and membership only (CloudFormation
  // Template Reference, "Rule functions"): a rule cannot compare two numbers, so it refuses what is
  // below every event source's maximum concurrency (AWS's least is 2), which for reconcile (its
  // queue's is 2) is the whole bound. The Terraform module compares them (its preconditions).
  it("refuses a consumer's reserved concurrency of 0 or 1, below any event source's maximum concurrency (template rules)", () => {
    for (const [parameter, rule] of [
      ['RetryWorkerReservedConcurrency', 'RetryWorkerReservedConcurrencyCoversItsEventSource'],
      ['UserChangesReservedConcurrency', 'UserChangesReservedConcurrencyCoversItsEventSource'],
      ['ReconcileReservedConcurrency', 'ReconcileReservedConcurrencyCoversItsEventSource'],
    ] as const) {
      for (const low of ['0', '1']) {
        expect(() => render(everything, {}, { [parameter]: low }), `${parameter} ${low}`).toThrow(rule);
      }
      expect(() => render(everything, {}, { [parameter]: '01' }), `${parameter} 01`).toThrow(/01/);
    }
    expect(() =>
      render(everything, {}, { RetryWorkerReservedConcurrency: '3', UserChangesReservedConcurrency: '6' }),
    ).not.toThrow();
    // A post-confirmation function has no event source; 0 stops it, as Lambda allows.
    expect(() => render(everything, {}, { PostConfirmationReservedConcurrency: '0' })).not.toThrow();
  });

  it('refuses a log level Powertools does not take, and an attempt timeout outside 50-30000 ms (parameter constraints)', () => {
    for (const [parameter, value] of [
      ['LogLevel', 'TRACE'],
      ['LogLevel', 'info'],
      ['UserServiceTimeoutMs', '49'],
      ['UserServiceTimeoutMs', '30001'],
      ['UserServiceTimeoutMs', '0100'],
    ] as const) {
      expect(() => render(everything, {}, { [parameter]: value }), `${parameter} ${value}`).toThrow(
        /CloudFormation refuses the parameter/,
      );
    }
    for (const value of ['50', '99', '100', '9999', '10000', '29999', '30000']) {
      expect(() => render(everything, {}, { UserServiceTimeoutMs: value }), value).not.toThrow();
    }
  });

  it('takes the zips from S3 when CodeUri names an object instead of a local path', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cognito-user-sync-template-'));
    try {
      const source = await readFile(join(REPO_ROOT, 'template.yaml'), 'utf8');
      const s3 = source.replace(
        /CodeUri: dist\/([\w-]+\.zip)/g,
        'CodeUri: { Bucket: my-artifacts, Key: cognito-user-sync/1.4.0/$1 }',
      );
      expect(s3).not.toBe(source);
      const file = join(scratch, 'template.yaml');
      await writeFile(file, s3);

      const fromS3 = renderTemplate(
        await transformTemplate({ region, template: file }),
        samParametersOf(everything),
        { region, accountId },
      );

      for (const role of functionsOf(everything)) {
        expect(functionOf(fromS3, role, everything).Properties.Code).toEqual({
          S3Bucket: 'my-artifacts',
          S3Key: `cognito-user-sync/1.4.0/${ZIP_OF[role]}`,
        });
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('names every resource from NamePrefix, so two stacks live side by side in one account and region', () => {
    const namesFor = (prefix: string) => {
      const rendered = render({ ...everything, prefix });
      return Object.values(rendered.resources).map(({ Type, Properties }) => {
        const nameKey = Object.keys(Properties).find(
          (key) => /^(\w+Name)$/.test(key) && !['PolicyName', 'S3BucketName'].includes(key),
        );
        return `${Type} ${nameKey ? String(Properties[nameKey]) : '(unnamed)'}`;
      });
    };
    const first = namesFor('first');
    const second = namesFor('second');

    const named = first.filter((name) => !name.endsWith('(unnamed)'));
    expect(named.length).toBeGreaterThanOrEqual(30);
    expect(named.filter((name) => second.includes(name))).toEqual([]);
  });
});
