// Finding a deployment from what an operator has: Terraform's outputs (the module's, an example's,
// one output holding the module, a part's outputs null), a SAM stack (CloudFormation mocked at the
// SDK: its parameters, outputs and resources over more than one page), or a prefix and a pool.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  deploymentFromPrefix,
  deploymentFromStack,
  deploymentFromTerraform,
  resolveDeployment,
} from '../../src/clients/deployment.js';
import { ConfigError, UsageError } from '../../src/errors.js';

const ARN = (name: string) => `arn:aws:lambda:eu-central-1:111122223333:function:${name}`;
const QUEUE = (name: string) => `https://sqs.eu-central-1.amazonaws.com/111122223333/${name}`;

const outputsFile = async (outputs: Record<string, unknown>) => {
  const file = join(await mkdtemp(join(tmpdir(), 'outputs-')), 'outputs.json');
  await writeFile(
    file,
    JSON.stringify(
      Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, { value, sensitive: false }])),
    ),
  );
  return file;
};

const MODULE_OUTPUTS = {
  post_confirmation_function_arn: ARN('prod-sync-post-confirmation'),
  retry_worker_function_arn: ARN('prod-sync-retry-worker'),
  user_changes_function_arn: ARN('prod-sync-user-changes'),
  reconcile_function_arn: null,
  retry_queue_url: QUEUE('prod-sync-retry'),
  dead_letter_queue_url: QUEUE('prod-sync-dead-letter'),
  changes_queue_url: QUEUE('prod-sync-changes'),
  changes_dead_letter_queue_url: QUEUE('prod-sync-changes-dead-letter'),
  reconcile_queue_url: null,
  reconcile_dead_letter_queue_url: null,
  user_changes_rule_arn: 'arn:aws:events:eu-central-1:111122223333:rule/prod-sync-user-changes',
  user_pool_id: 'eu-central-1_Qx7Lm2Rt9',
  alarm_names: ['prod-sync-user-sync-dropped'],
  trail_arn: null,
};

describe('deploymentFromTerraform', () => {
  it("reads the module's outputs: the prefix, region and pool, what is named, and a part whose outputs are null as absent", async () => {
    const deployment = await deploymentFromTerraform(await outputsFile(MODULE_OUTPUTS));

    expect(deployment).toMatchObject({
      prefix: 'prod-sync',
      region: 'eu-central-1',
      userPoolId: 'eu-central-1_Qx7Lm2Rt9',
      alarmNames: ['prod-sync-user-sync-dropped'],
      functions: {
        postConfirmation: { id: ARN('prod-sync-post-confirmation'), given: true },
        userChanges: { id: ARN('prod-sync-user-changes'), given: true },
        reconcile: null,
      },
      queues: { changes: { id: QUEUE('prod-sync-changes'), given: true }, reconcile: null },
      rules: { userChanges: { given: true }, reconcile: null },
    });
    expect(deployment.trailArn).toBeUndefined();
  });

  it("derives from the prefix what an example's outputs leave out", async () => {
    const { reconcile_function_arn: _, reconcile_queue_url: __, ...example } = MODULE_OUTPUTS;
    const deployment = await deploymentFromTerraform(
      await outputsFile({ ...example, user_changes_rule_arn: undefined }),
    );

    expect(deployment.functions.reconcile).toEqual({ id: 'prod-sync-reconcile', given: false });
    expect(deployment.queues.reconcile).toEqual({ id: 'prod-sync-reconcile', given: false });
    expect(deployment.rules.reconcile).toEqual({ id: 'prod-sync-reconcile', given: false });
  });

  it('reads one output holding the whole module, and --prefix overrides the prefix', async () => {
    const deployment = await deploymentFromTerraform(await outputsFile({ user_sync: MODULE_OUTPUTS }), {
      prefix: 'other',
    });

    expect(deployment.prefix).toBe('other');
    expect(deployment.userPoolId).toBe('eu-central-1_Qx7Lm2Rt9');
  });

  it.each([
    ['not JSON', 'not json', /is not JSON \(write it with `terraform output -json > /],
    [
      'without the module',
      JSON.stringify({ vpc_id: { value: 'vpc-1' } }),
      /has no post_confirmation_function_arn/,
    ],
  ])('refuses a file %s as a usage error', async (_, text, message) => {
    const file = join(await mkdtemp(join(tmpdir(), 'outputs-')), 'outputs.json');
    await writeFile(file, text);

    await expect(deploymentFromTerraform(file)).rejects.toThrow(message);
    await expect(deploymentFromTerraform(file)).rejects.toBeInstanceOf(UsageError);
  });

  it('asks for --prefix when the function is not named <prefix>-post-confirmation', async () => {
    await expect(
      deploymentFromTerraform(
        await outputsFile({ ...MODULE_OUTPUTS, post_confirmation_function_arn: ARN('trigger') }),
      ),
    ).rejects.toThrow(/is not named <prefix>-post-confirmation: give --prefix/);
  });
});

describe('deploymentFromStack', () => {
  const cloudformation = mockClient(CloudFormationClient);
  beforeEach(() => cloudformation.reset());

  it('reads the stack by the logical ids of template.yaml, over every page of its resources', async () => {
    cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'user-sync',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Parameters: [
            { ParameterKey: 'NamePrefix', ParameterValue: 'prod-sync' },
            { ParameterKey: 'UserPoolId', ParameterValue: 'eu-central-1_Qx7Lm2Rt9' },
          ],
          Outputs: [{ OutputKey: 'UserPoolId', OutputValue: 'eu-central-1_Qx7Lm2Rt9' }],
        },
      ],
    });
    const resource = (LogicalResourceId: string, PhysicalResourceId: string, ResourceType: string) => ({
      LogicalResourceId,
      PhysicalResourceId,
      ResourceType,
      LastUpdatedTimestamp: new Date(),
      ResourceStatus: 'CREATE_COMPLETE' as const,
    });
    const filler = Array.from({ length: 100 }, (_, n) =>
      resource(`Thing${n}`, `thing-${n}`, 'AWS::IAM::Role'),
    );
    cloudformation
      .on(ListStackResourcesCommand, { StackName: 'user-sync', NextToken: undefined })
      .resolves({
        StackResourceSummaries: [
          ...filler,
          resource('PostConfirmationFunction', 'prod-sync-post-confirmation', 'AWS::Lambda::Function'),
          resource('RetryQueue', QUEUE('prod-sync-retry'), 'AWS::SQS::Queue'),
        ],
        NextToken: 'page-2',
      })
      .on(ListStackResourcesCommand, { StackName: 'user-sync', NextToken: 'page-2' })
      .resolves({
        StackResourceSummaries: [
          resource('UserChangesFunction', 'prod-sync-user-changes', 'AWS::Lambda::Function'),
          resource('UserChangesRule', 'prod-sync-user-changes', 'AWS::Events::Rule'),
          resource('ReconcileFunction', 'prod-sync-reconcile', 'AWS::Lambda::Function'),
          resource('ReconcileFunctionSchedule', 'prod-sync-reconcile', 'AWS::Events::Rule'),
          resource('UserSyncDroppedAlarm', 'prod-sync-user-sync-dropped', 'AWS::CloudWatch::Alarm'),
        ],
      });

    const deployment = await deploymentFromStack(
      new CloudFormationClient({ region: 'eu-central-1' }),
      'user-sync',
      'eu-central-1',
    );

    expect(deployment).toMatchObject({
      source: 'stack user-sync',
      prefix: 'prod-sync',
      userPoolId: 'eu-central-1_Qx7Lm2Rt9',
      functions: {
        postConfirmation: { id: 'prod-sync-post-confirmation', given: true },
        retryWorker: null,
        userChanges: { id: 'prod-sync-user-changes', given: true },
        reconcile: { id: 'prod-sync-reconcile', given: true },
      },
      queues: { retry: { id: QUEUE('prod-sync-retry'), given: true }, changes: null },
      rules: { userChanges: { id: 'prod-sync-user-changes' }, reconcile: { id: 'prod-sync-reconcile' } },
      alarmNames: ['prod-sync-user-sync-dropped'],
    });
  });

  /** An error as the AWS SDK raises it for an answer of AWS's. */
  const awsError = (name: string, message: string) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 }, $fault: 'client' });
  const fromStack = () =>
    deploymentFromStack(new CloudFormationClient({ region: 'eu-central-1' }), 'nosuch', 'eu-central-1');

  it('a stack that does not exist is a usage error naming the stack and the region', async () => {
    cloudformation
      .on(DescribeStacksCommand)
      .rejects(awsError('ValidationError', 'Stack with id nosuch does not exist'));

    const error = await fromStack().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      '--stack nosuch: no such stack in eu-central-1 (CloudFormation: Stack with id nosuch does not exist)',
    );
  });

  it.each(['cloudformation:DescribeStacks', 'cloudformation:ListStackResources'])(
    'a stack read refused stops the run with one line naming the action (%s)',
    async (action) => {
      const refusal = awsError('AccessDenied', `not authorized to perform: ${action}`);
      const stacks = cloudformation.on(DescribeStacksCommand);
      if (action.endsWith('DescribeStacks')) stacks.rejects(refusal);
      else
        stacks.resolves({
          Stacks: [{ StackName: 'nosuch', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE' }],
        });
      cloudformation.on(ListStackResourcesCommand).rejects(refusal);

      const error = await fromStack().catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        `--stack nosuch could not be read: ${action} answered AccessDenied: not authorized to perform: ${action}. Everything else is found from the stack, so nothing was checked: allow ${action}, or name the deployment with --terraform-outputs or --prefix and --user-pool-id`,
      );
    },
  );

  it('credentials that are expired or wrong pass through as they are, for the one line that says so', async () => {
    const expired = awsError('ExpiredToken', 'The security token included in the request is expired');
    cloudformation.on(DescribeStacksCommand).rejects(expired);

    await expect(fromStack()).rejects.toBe(expired);
  });
});

describe('resolveDeployment', () => {
  it("a prefix and a pool: every resource derived, the region the pool's", async () => {
    expect(await resolveDeployment({ prefix: 'p', userPoolId: 'ap-south-2_AbC' })).toEqual(
      deploymentFromPrefix('p', 'ap-south-2_AbC'),
    );
    expect(deploymentFromPrefix('p', 'ap-south-2_AbC').region).toBe('ap-south-2');
  });

  it.each([
    [{}, /which deployment\? Give --stack NAME/],
    [{ stack: 's', terraformOutputs: 'f' }, /give one of --stack and --terraform-outputs/],
    [{ prefix: 'p' }, /which deployment\?/],
    [{ stack: 's' }, /--stack needs a region/],
    // A flag the source would ignore is a clash, named before anything else (the region).
    [{ stack: 's', prefix: 'p' }, /^--stack and --prefix together: the stack gives the prefix/],
    [
      { stack: 's', userPoolId: 'eu-west-1_Qx7Lm2Rt9', region: 'eu-west-1' },
      /^--stack and --user-pool-id together: the stack gives the prefix and the pool/,
    ],
    [
      { stack: 's', prefix: 'p', userPoolId: 'eu-west-1_Qx7Lm2Rt9' },
      /^--stack and --prefix and --user-pool-id together/,
    ],
    [
      { terraformOutputs: 'f', userPoolId: 'eu-west-1_Qx7Lm2Rt9' },
      /^--terraform-outputs and --user-pool-id together: the outputs give the pool/,
    ],
  ])('refuses %o as a usage error', async (source, message) => {
    await expect(resolveDeployment(source, {})).rejects.toThrow(message);
  });
});
