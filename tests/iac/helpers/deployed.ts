// The checks every deployment on the emulator passes, whichever flavour made it and whatever parts
// it has: each is an `it` registered by `itChecksTheDeployment` in the describe block of a deploy
// test, reading the account back through the AWS APIs and comparing it with the spec.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { itPagesOnCall } from '../../alarms/scenarios.js';
import {
  readAlarms,
  readDashboardBody,
  readEventSourceMappings,
  readFunction,
  readInvokePermissions,
  readQueues,
  readRolePolicies,
  readRule,
  readTables,
} from './inventory.js';
import { dashboardAlarmArns, dashboardExpressions, dashboardMetrics } from './metrics.js';
import type { Emulator } from './moto.js';
import { normalizePolicy, wildcardViolations } from './policies.js';
import { REPO_ROOT } from './run.js';
import {
  arnsOf,
  type Deployment,
  type EventInvokeSettings,
  expectAlarmsAsSpecified,
  expectDashboardAsSpecified,
  expectEventInvokeConfigsAsSpecified,
  expectEventSourcesAsSpecified,
  expectedQueuePolicies,
  expectedStatements,
  expectFunctionAsSpecified,
  expectQueryDefinitionsAsSpecified,
  expectQueuesAsSpecified,
  expectReconcileScheduleAsSpecified,
  expectSchedulePermissionAsSpecified,
  expectTablesAsSpecified,
  expectUserChangesRuleAsSpecified,
  type FunctionRole,
  type FunctionSettings,
  functionsOf,
  namesOf,
  type QueryDefinition,
  queuesOf,
  type TableSettings,
} from './spec.js';

export const ZIP_OF: Record<FunctionRole, string> = {
  postConfirmation: 'post-confirmation.zip',
  retryWorker: 'retry-worker.zip',
  userChanges: 'user-changes.zip',
  reconcile: 'reconcile.zip',
};

export interface DeployedContext {
  emulator: Emulator;
  deployment: Deployment;
  /** The saved Logs Insights queries, where the emulator cannot hold them (read from a plan instead). */
  queryDefinitions?: () => Promise<QueryDefinition[]>;
}

export interface EmulatorGaps {
  /** Function settings the emulator does not keep (moto's CloudFormation drops some). */
  unreportedSettings?: (keyof FunctionSettings)[];
  /** Table settings the emulator does not keep (moto's CloudFormation drops the TTL). */
  unreportedTableSettings?: (keyof TableSettings)[];
  /** moto's CloudFormation has no AWS::SQS::QueuePolicy: the policies are checked on the rendered template. */
  queuePolicies?: boolean;
  /** moto's CloudFormation has no AWS::CloudWatch::Alarm: checked on the rendered template. */
  alarms?: boolean;
  /** moto's CloudFormation has no AWS::Lambda::EventInvokeConfig: checked on the rendered template. */
  eventInvokeConfigs?: boolean;
  /** moto has no CloudWatch Logs query definitions: Terraform's are read from a plan, SAM's on the rendered template. */
  queryDefinitions?: boolean;
  /** moto's CloudFormation gives a log group's ARN without the ":*" CloudFormation adds, and keeps
   * AWS::NoValue list items as nulls. */
  cloudFormationPolicies?: boolean;
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('base64');

export const itChecksTheDeployment = (context: () => DeployedContext, gaps: EmulatorGaps = {}) => {
  const {
    unreportedSettings = [],
    unreportedTableSettings = [],
    queuePolicies = true,
    alarms = true,
    eventInvokeConfigs = true,
    queryDefinitions = true,
    cloudFormationPolicies = false,
  } = gaps;

  it('deploys each function from its zip, with its code hash: nodejs22.x, arm64, index.handler, active tracing, the environment it reads', async () => {
    const { emulator, deployment } = context();
    const names = namesOf(deployment.prefix);
    const { Functions } = await emulator.aws<{ Functions: { FunctionName: string }[] }>(
      'lambda',
      'list-functions',
    );

    expect(
      Functions.map((fn) => fn.FunctionName)
        .filter((name) => name.startsWith(`${deployment.prefix}-`))
        .sort(),
    ).toEqual(
      functionsOf(deployment)
        .map((role) => names[role])
        .sort(),
    );
    for (const role of functionsOf(deployment)) {
      const { raw, settings } = await readFunction(emulator.aws, names[role]);

      expectFunctionAsSpecified(settings, role, deployment, { unreported: unreportedSettings });
      expect(raw.CodeSha256, role).toBe(await sha256(join(REPO_ROOT, 'dist', ZIP_OF[role])));
    }
  });

  it('gives each function its own log group with the chosen retention (and key)', async () => {
    const { emulator, deployment } = context();
    const names = namesOf(deployment.prefix);
    const { logGroups } = await emulator.aws<{
      logGroups: { logGroupName: string; retentionInDays: number; kmsKeyId?: string }[];
    }>('logs', 'describe-log-groups', '--log-group-name-prefix', `/aws/lambda/${deployment.prefix}-`);

    expect(
      logGroups.map(({ logGroupName, retentionInDays, kmsKeyId }) => ({
        logGroupName,
        retentionInDays,
        kmsKeyId,
      })),
    ).toEqual(
      functionsOf(deployment)
        .map((role) => ({
          logGroupName: `/aws/lambda/${names[role]}`,
          retentionInDays: deployment.logRetentionDays,
          kmsKeyId: deployment.kmsKeyArn,
        }))
        .sort((a, b) => a.logGroupName.localeCompare(b.logGroupName)),
    );
  });

  it('encrypts every queue, keeps messages 14 days, redrives each to its DLQ, and lets only its source queue use a DLQ', async () => {
    const { emulator, deployment } = context();

    expectQueuesAsSpecified(await readQueues(emulator.aws, deployment.prefix), deployment);
  });

  it("keeps reconcile's run ledger (when reconcile is on) in an on-demand table keyed by pool, expiring through expiresAt, under the key when given", async () => {
    const { emulator, deployment } = context();

    expectTablesAsSpecified(await readTables(emulator.aws, deployment.prefix), deployment, {
      unreported: unreportedTableSettings,
    });
  });

  if (queuePolicies) {
    it('denies SendMessage on each queue to every principal but its own senders; EventBridge may send changes for the rule only', async () => {
      const { emulator, deployment } = context();
      const queues = await readQueues(emulator.aws, deployment.prefix);
      const policies = Object.fromEntries(
        Object.entries(queues)
          .filter(([, attributes]) => attributes.Policy)
          .map(([name, attributes]) => [name, normalizePolicy(attributes.Policy)]),
      );

      expect(policies).toEqual(expectedQueuePolicies(deployment));
    });
  }

  it('feeds each queue to its function with the batch size, partial batch failures and bounded concurrency it needs', async () => {
    const { emulator, deployment } = context();
    const arns = arnsOf(deployment);
    const mappings = [];
    for (const queue of queuesOf(deployment)) {
      mappings.push(...(await readEventSourceMappings(emulator.aws, arns.queue(queue))));
    }

    expectEventSourcesAsSpecified(mappings, deployment);
  });

  if (eventInvokeConfigs) {
    it("retries a scheduled start of reconcile twice at most, and drops one older than an hour (Lambda's asynchronous invocation settings)", async () => {
      const { emulator, deployment } = context();
      const names = namesOf(deployment.prefix);
      const configs: Record<string, EventInvokeSettings> = {};
      for (const role of functionsOf(deployment)) {
        const { FunctionEventInvokeConfigs = [] } = await emulator.aws<{
          FunctionEventInvokeConfigs?: EventInvokeSettings[];
        }>('lambda', 'list-function-event-invoke-configs', '--function-name', names[role]);
        for (const { MaximumRetryAttempts, MaximumEventAgeInSeconds } of FunctionEventInvokeConfigs) {
          configs[names[role]] = { MaximumRetryAttempts, MaximumEventAgeInSeconds };
        }
      }

      expectEventInvokeConfigsAsSpecified(configs, deployment);
    });
  }

  it('grants each function exactly what it needs, with no wildcard beyond X-Ray and the network interfaces, and no managed policy', async () => {
    const { emulator, deployment } = context();
    for (const role of functionsOf(deployment)) {
      const { raw } = await readFunction(emulator.aws, namesOf(deployment.prefix)[role]);
      const { statements, managed } = await readRolePolicies(emulator.aws, String(raw.Role), {
        dropNullStatements: cloudFormationPolicies,
      });
      const { Role } = await emulator.aws<{
        Role: { PermissionsBoundary?: { PermissionsBoundaryArn: string } };
      }>('iam', 'get-role', '--role-name', String(raw.Role).split('/').at(-1) ?? '');
      const expected = expectedStatements(role, deployment).map((statement) =>
        cloudFormationPolicies && statement.Sid === 'WriteOwnLogs'
          ? { ...statement, Resource: statement.Resource.map((arn) => arn.replace(/:\*$/, '')) }
          : statement,
      );

      expect(String(raw.Role)).toBe(arnsOf(deployment).role(role));
      expect(wildcardViolations(statements)).toEqual([]);
      expect(statements, role).toEqual(expected);
      expect(managed).toEqual([]);
      expect(Role.PermissionsBoundary?.PermissionsBoundaryArn, role).toBe(deployment.permissionsBoundaryArn);
    }
  });

  it('routes the Cognito user-change events to the changes queue (when user changes are on), and starts reconcile on its schedule (when set)', async () => {
    const { emulator, deployment } = context();
    const names = namesOf(deployment.prefix);
    const { Rules } = await emulator.aws<{ Rules: { Name: string }[] }>(
      'events',
      'list-rules',
      '--name-prefix',
      `${deployment.prefix}-`,
    );

    expect(Rules.map((rule) => rule.Name).sort()).toEqual(
      [
        ...(deployment.userChanges ? [names.userChangesRule] : []),
        ...(deployment.reconcile ? [names.reconcileRule] : []),
      ].sort(),
    );
    if (deployment.userChanges) {
      const { rule, targets } = await readRule(emulator.aws, names.userChangesRule);
      expectUserChangesRuleAsSpecified(rule, targets, deployment);
    }
    if (deployment.reconcile) {
      const { rule, targets } = await readRule(emulator.aws, names.reconcileRule);
      const statements = await readInvokePermissions(emulator.aws, names.reconcile);

      expectReconcileScheduleAsSpecified(rule, targets, deployment);
      expect(statements).toHaveLength(1);
      expectSchedulePermissionAsSpecified(statements[0] as Record<string, unknown>, deployment);
    }
  });

  it('plots every metric of the deployed parts, the User Service per function, the queues, the functions and every alarm on the dashboard', async () => {
    const { emulator, deployment } = context();
    const body = await readDashboardBody(emulator.aws, namesOf(deployment.prefix).dashboard);

    expectDashboardAsSpecified(
      dashboardMetrics(body),
      dashboardAlarmArns(body),
      deployment,
      dashboardExpressions(body),
    );
  });

  if (queryDefinitions) {
    it("saves the Logs Insights queries of docs/deploy.md on the deployed functions' log groups (from the plan: moto has no query definitions)", async () => {
      const { deployment, queryDefinitions: planned } = context();
      if (!planned) throw new Error('a deployment with saved queries says where to read them');

      expectQueryDefinitionsAsSpecified(await planned(), deployment);
    });
  }

  if (alarms) {
    it('alarms on failing sign-ups, retries and changes, dead letters, lost events, errors and throttles, a p99 near the deadline (and drift and runs that stop), each saying what broke, the first command and the runbook', async () => {
      const { emulator, deployment } = context();

      expectAlarmsAsSpecified(await readAlarms(emulator.aws, deployment.prefix), deployment);
    });

    // The alarms as CloudWatch holds them (DescribeAlarms), evaluated against outages and silent loss.
    itPagesOnCall(
      () => readAlarms(context().emulator.aws, context().deployment.prefix),
      () => context().deployment,
    );
  }
};
