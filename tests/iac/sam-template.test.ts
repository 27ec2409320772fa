// template.yaml as CloudFormation receives it: through cfn-lint, then through the SAM transform
// and rendered for given parameters, checked against what issue 4 asks of a deployment.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  type JsonObject,
  type Rendered,
  renderTemplate,
} from './helpers/cloudformation.js';
import { dashboardMetrics, normalizeAlarm } from './helpers/metrics.js';
import { normalizePolicy, wildcardViolations } from './helpers/policies.js';
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
  type FunctionRole,
  functionSettings,
  namesOf,
} from './helpers/spec.js';

const region = 'eu-west-1';
const accountId = '111122223333';
const secret = (name: string) => `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-AbCdEf`;

// Cognito's pool id is only known once the pool exists; the renderer names it <region>_<logical id>.
const createdPoolArn = `arn:aws:cognito-idp:${region}:${accountId}:userpool/${region}_UserPool`;
const queueUrl = (name: string) => `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;

const newPool: Deployment = {
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
  retryQueueUrl: queueUrl('sync-a-retry'),
  deadLetterQueueUrl: queueUrl('sync-a-dead-letter'),
};

const existingPoolId = `${region}_Qx7Lm2Rt9`;
const existingPool: Deployment = {
  prefix: 'cognito-user-sync',
  region,
  accountId,
  userServiceUrl: 'https://users.internal.example.com/api/v1/users',
  syncDeadlineMs: 3500,
  maxReceiveCount: 12,
  maximumConcurrency: 2,
  logRetentionDays: 30,
  userPoolArn: `arn:aws:cognito-idp:${region}:${accountId}:userpool/${existingPoolId}`,
  retryQueueUrl: queueUrl('cognito-user-sync-retry'),
  deadLetterQueueUrl: queueUrl('cognito-user-sync-dead-letter'),
};

let template: CfnTemplate;

const render = (parameters: Record<string, string | number>) =>
  renderTemplate(template, parameters, { region, accountId });

const parametersOf = (d: Deployment, userPoolId = ''): Record<string, string | number> => ({
  NamePrefix: d.prefix,
  UserServiceUrl: d.userServiceUrl,
  ApiKeySecretArn: d.apiKeySecretArn ?? '',
  SigningSecretArn: d.signingSecretArn ?? '',
  UserPoolId: userPoolId,
  AlarmTopicArn: d.alarmTopicArn ?? '',
  LogRetentionDays: d.logRetentionDays,
  SyncDeadlineMs: d.syncDeadlineMs,
  RetryWorkerMaximumConcurrency: d.maximumConcurrency,
  MaxReceiveCount: d.maxReceiveCount,
});

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

/** Queue properties as SQS reports them back: attribute strings, the redrive policy as JSON. */
const queueAttributes = (properties: JsonObject): Record<string, string> => {
  const { QueueName: _name, RedrivePolicy, ...rest } = properties;
  const attributes = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, String(value)]));
  if (RedrivePolicy) {
    const { deadLetterTargetArn, maxReceiveCount } = RedrivePolicy as JsonObject;
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn,
      maxReceiveCount: Number(maxReceiveCount),
    });
  }
  return attributes;
};

/** The statement Lambda adds to the function's resource policy for an AWS::Lambda::Permission. */
const permissionStatement = (properties: JsonObject) => ({
  Effect: 'Allow',
  Action: properties.Action,
  Principal: { Service: properties.Principal },
  Resource: properties.FunctionName,
  Condition: {
    ArnLike: { 'AWS:SourceArn': properties.SourceArn },
    StringEquals: { 'AWS:SourceAccount': properties.SourceAccount },
  },
});

beforeAll(async () => {
  template = await transformTemplate({ region });
});

describe('template.yaml (SAM)', () => {
  describe('with a new user pool, both secrets and an alarm topic', () => {
    let rendered: Rendered;
    beforeAll(() => {
      rendered = render(parametersOf(newPool));
    });

    it('deploys each function from its own zip: nodejs22.x, arm64, index.handler, active tracing, the project environment', () => {
      for (const role of ['postConfirmation', 'retryWorker'] as const) {
        const { Properties } = functionOf(rendered, role, newPool);

        expectFunctionAsSpecified(functionSettings(Properties), role, newPool);
        expect(Properties.Code).toMatchObject({
          S3Key: role === 'postConfirmation' ? 'post-confirmation.zip' : 'retry-worker.zip',
        });
      }
    });

    it('gives each function its own log group with the chosen retention, removed with the stack', () => {
      for (const role of ['postConfirmation', 'retryWorker'] as const) {
        const logGroupName = `/aws/lambda/${namesOf(newPool.prefix)[role]}`;
        const logGroup = rendered.only(
          'AWS::Logs::LogGroup',
          (properties) => properties.LogGroupName === logGroupName,
        );

        expect(Number(logGroup.Properties.RetentionInDays)).toBe(newPool.logRetentionDays);
        expect(logGroup.DeletionPolicy).toBe('Delete');
        expect(functionOf(rendered, role, newPool).Properties.LoggingConfig).toEqual({
          LogGroup: logGroupName,
        });
      }
    });

    it('encrypts both queues, keeps messages 14 days and redrives the retry queue to the DLQ after MaxReceiveCount receives', () => {
      const names = namesOf(newPool.prefix);
      const queue = (name: string) =>
        queueAttributes(
          rendered.only('AWS::SQS::Queue', (properties) => properties.QueueName === name).Properties,
        );

      expectQueuesAsSpecified(queue(names.retryQueue), queue(names.deadLetterQueue), newPool);
    });

    it('feeds the retry queue to the worker ten at a time, with partial batch failures and bounded concurrency', () => {
      const { Properties } = rendered.only('AWS::Lambda::EventSourceMapping');
      const scaling = Properties.ScalingConfig as JsonObject;

      // As Lambda reports it back: the function's ARN, numbers as numbers.
      expectEventSourceAsSpecified(
        {
          ...Properties,
          FunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${Properties.FunctionName}`,
          ScalingConfig: { MaximumConcurrency: Number(scaling.MaximumConcurrency) },
        },
        newPool,
      );
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

    it('grants each function exactly what it needs, with no wildcard beyond the X-Ray permissions and no managed policy', () => {
      for (const role of ['postConfirmation', 'retryWorker'] as const) {
        const statements = statementsOf(rendered, role, newPool);

        expect(wildcardViolations(statements)).toEqual([]);
        expect(statements).toEqual(expectedStatements(role, newPool));
        expect(roleOf(rendered, role, newPool).Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('plots every metric the code emits, the User Service latency p50/p99, the queues and the functions on the dashboard', () => {
      const dashboard = rendered.only('AWS::CloudWatch::Dashboard');

      expect(dashboard.Properties.DashboardName).toBe(newPool.prefix);
      expectDashboardAsSpecified(dashboardMetrics(dashboard.Properties.DashboardBody), newPool);
    });

    it('alarms on dropped users, a non-empty DLQ, an hour-old retry, function errors and a p99 near the deadline, notifying the topic', () => {
      const alarms = Object.values(rendered.ofType('AWS::CloudWatch::Alarm')).map((alarm) =>
        normalizeAlarm(alarm.Properties),
      );

      expectAlarmsAsSpecified(alarms, newPool);
    });

    it('outputs the function ARNs, the queue URLs and the dashboard name', () => {
      const arns = arnsOf(newPool);

      expect(rendered.outputs).toMatchObject({
        PostConfirmationFunctionArn: arns.postConfirmation,
        RetryWorkerFunctionArn: arns.retryWorker,
        RetryQueueUrl: newPool.retryQueueUrl,
        DeadLetterQueueUrl: newPool.deadLetterQueueUrl,
        DashboardName: newPool.prefix,
      });
    });
  });

  describe('with an existing user pool, no secret and no alarm topic', () => {
    let rendered: Rendered;
    beforeAll(() => {
      rendered = render(parametersOf(existingPool, existingPoolId));
    });

    it('creates no pool and lets Cognito invoke the function only for the given pool, in this account', () => {
      expect(rendered.ofType('AWS::Cognito::UserPool')).toEqual({});
      expectCognitoPermissionAsSpecified(
        permissionStatement(rendered.only('AWS::Lambda::Permission').Properties),
        existingPool,
      );
      expect(rendered.outputs.UserPoolId).toBe(existingPoolId);
    });

    it('grants no access to any secret', () => {
      for (const role of ['postConfirmation', 'retryWorker'] as const) {
        const statements = statementsOf(rendered, role, existingPool);

        expect(statements.flatMap((statement) => statement.Action)).not.toContain(
          'secretsmanager:GetSecretValue',
        );
        expect(statements).toEqual(expectedStatements(role, existingPool));
      }
    });

    it('leaves the secret variables empty, which the functions read as unset', () => {
      for (const role of ['postConfirmation', 'retryWorker'] as const) {
        expectFunctionAsSpecified(
          functionSettings(functionOf(rendered, role, existingPool).Properties),
          role,
          existingPool,
        );
      }
    });

    it('keeps the alarms silent: no action without a topic', () => {
      const alarms = Object.values(rendered.ofType('AWS::CloudWatch::Alarm')).map((alarm) =>
        normalizeAlarm(alarm.Properties),
      );

      expectAlarmsAsSpecified(alarms, existingPool);
    });
  });

  it('names every resource from NamePrefix, so two stacks live side by side in one account and region', () => {
    const namesFor = (prefix: string) => {
      const rendered = render({ ...parametersOf(existingPool, existingPoolId), NamePrefix: prefix });
      return Object.values(rendered.resources).map(({ Type, Properties }) => {
        const nameKey = Object.keys(Properties).find(
          (key) => /^(\w+Name)$/.test(key) && key !== 'PolicyName',
        );
        return `${Type} ${nameKey ? String(Properties[nameKey]) : '(unnamed)'}`;
      });
    };
    const first = namesFor('first');
    const second = namesFor('second');

    const named = first.filter((name) => !name.endsWith('(unnamed)'));
    expect(named.length).toBeGreaterThanOrEqual(16);
    expect(named.filter((name) => second.includes(name))).toEqual([]);
  });
});
