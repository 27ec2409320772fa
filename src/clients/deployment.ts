// A deployment of cognito-user-sync, found from what an operator has at hand: a SAM (CloudFormation)
// stack's name, the `terraform output -json` of the module (or of an example), or the name prefix
// and the pool. Both IaC flavours name every resource `<prefix>-…`, so what a source does not say
// is derived from the prefix; a part a source says is absent (user changes off, no reconcile) is
// not looked for. Read-only.

import { readFile } from 'node:fs/promises';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import type { Parser } from '../config.js';
import { parseUserPoolId } from '../domain/user-pool-id.js';
import { ConfigError, UsageError } from '../errors.js';
import { isRecord } from '../guards.js';
import { AWS_CLIENT_PROFILES, isCredentialsRefusal } from './aws.js';

export const FUNCTION_ROLES = ['postConfirmation', 'retryWorker', 'userChanges', 'reconcile'] as const;
export type FunctionRole = (typeof FUNCTION_ROLES)[number];

export const QUEUE_ROLES = [
  'retry',
  'deadLetter',
  'changes',
  'changesDeadLetter',
  'reconcile',
  'reconcileDeadLetter',
] as const;
export type QueueRole = (typeof QUEUE_ROLES)[number];

/** The part of the deployment a function or queue belongs to: user changes and reconcile are optional. */
export type Part = 'core' | 'userChanges' | 'reconcile';

export const PART_OF_FUNCTION: Record<FunctionRole, Part> = {
  postConfirmation: 'core',
  retryWorker: 'core',
  userChanges: 'userChanges',
  reconcile: 'reconcile',
};

export const PART_OF_QUEUE: Record<QueueRole, Part> = {
  retry: 'core',
  deadLetter: 'core',
  changes: 'userChanges',
  changesDeadLetter: 'userChanges',
  reconcile: 'reconcile',
  reconcileDeadLetter: 'reconcile',
};

/** The names both IaC flavours give (template.yaml, terraform/modules/cognito-user-sync). */
export const NAME_SUFFIX = {
  functions: {
    postConfirmation: 'post-confirmation',
    retryWorker: 'retry-worker',
    userChanges: 'user-changes',
    reconcile: 'reconcile',
  } satisfies Record<FunctionRole, string>,
  queues: {
    retry: 'retry',
    deadLetter: 'dead-letter',
    changes: 'changes',
    changesDeadLetter: 'changes-dead-letter',
    reconcile: 'reconcile',
    reconcileDeadLetter: 'reconcile-dead-letter',
  } satisfies Record<QueueRole, string>,
  userChangesRule: 'user-changes',
  reconcileRule: 'reconcile',
} as const;

/**
 * A resource of the deployment: its name, ARN or (for a queue) URL; `given` when the source named
 * it, else derived from the prefix (and then a resource that is not there is a part not deployed).
 * `null`: the source says the part is not deployed.
 */
export type Resource = { id: string; given: boolean } | null;

export interface Deployment {
  /** How it was found, for the report's heading: "stack prod-sync", "Terraform outputs out.json", "prefix p". */
  source: string;
  region: string;
  prefix: string;
  userPoolId: string;
  functions: Record<FunctionRole, Resource>;
  queues: Record<QueueRole, Resource>;
  rules: { userChanges: Resource; reconcile: Resource };
  /** The alarms the source names (Terraform's alarm_names, the stack's alarms); else found by the prefix. */
  alarmNames?: string[];
  /** The trail the deployment made, when it made one. */
  trailArn?: string;
}

const derived = (id: string): Resource => ({ id, given: false });
const given = (id: string): Resource => ({ id, given: true });

/** Every resource named from the prefix: what a source that says nothing more gives. */
export const byPrefix = (prefix: string, userPoolId: string, region: string, source: string): Deployment => ({
  source,
  region,
  prefix,
  userPoolId,
  functions: Object.fromEntries(
    FUNCTION_ROLES.map((role) => [role, derived(`${prefix}-${NAME_SUFFIX.functions[role]}`)]),
  ) as Record<FunctionRole, Resource>,
  queues: Object.fromEntries(
    QUEUE_ROLES.map((role) => [role, derived(`${prefix}-${NAME_SUFFIX.queues[role]}`)]),
  ) as Record<QueueRole, Resource>,
  rules: {
    userChanges: derived(`${prefix}-${NAME_SUFFIX.userChangesRule}`),
    reconcile: derived(`${prefix}-${NAME_SUFFIX.reconcileRule}`),
  },
});

/** The region of an ARN (`arn:partition:service:region:account:…`), if it has one. */
export const regionOfArn = (arn: string): string | undefined => arn.split(':')[3] || undefined;

/** The name at the end of a Lambda function's ARN (a version or alias after it left out). */
export const functionNameOf = (nameOrArn: string): string =>
  nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? nameOrArn) : nameOrArn;

const prefixOfFunction = (nameOrArn: string): string | undefined => {
  const name = functionNameOf(nameOrArn);
  const suffix = `-${NAME_SUFFIX.functions.postConfirmation}`;
  return name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
};

const regionOfPool = (userPoolId: string, flag: string): string => {
  const parsed = parseUserPoolId(userPoolId);
  if (!parsed) throw new UsageError(`${flag}: "${userPoolId}" is not a user pool id`);
  return parsed.region;
};

// ---------------------------------------------------------------------------------------------
// Terraform: `terraform output -json`, of the module's outputs (terraform/modules/cognito-user-sync/
// outputs.tf) as the examples pass them on, or as one output holding the whole module.

const TERRAFORM_FUNCTIONS: Record<FunctionRole, string> = {
  postConfirmation: 'post_confirmation_function',
  retryWorker: 'retry_worker_function',
  userChanges: 'user_changes_function',
  reconcile: 'reconcile_function',
};

const TERRAFORM_QUEUES: Record<QueueRole, string> = {
  retry: 'retry_queue_url',
  deadLetter: 'dead_letter_queue_url',
  changes: 'changes_queue_url',
  changesDeadLetter: 'changes_dead_letter_queue_url',
  reconcile: 'reconcile_queue_url',
  reconcileDeadLetter: 'reconcile_dead_letter_queue_url',
};

/** The outputs' values by name: `{name: {value}}` as `terraform output -json` writes them. */
const terraformValues = (parsed: unknown, path: string): Record<string, unknown> => {
  if (!isRecord(parsed)) throw new UsageError(`${path} is not the JSON of \`terraform output -json\``);
  const values = Object.fromEntries(
    Object.entries(parsed).map(([name, output]) => [name, isRecord(output) ? output.value : undefined]),
  );
  if ('post_confirmation_function_arn' in values || 'post_confirmation_function_name' in values)
    return values;
  // A root module that passes the whole module on as one output (`value = module.cognito_user_sync`).
  const nested = Object.values(values).find(
    (value): value is Record<string, unknown> => isRecord(value) && 'post_confirmation_function_arn' in value,
  );
  if (nested) return nested;
  throw new UsageError(
    `${path} has no post_confirmation_function_arn: give the \`terraform output -json\` of the root module that uses terraform/modules/cognito-user-sync (its outputs, or one output holding the module)`,
  );
};

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/**
 * A deployment from Terraform's outputs. An output that is null says the part is absent (the
 * module's outputs are null without enable_user_changes or reconcile_schedule); an output the root
 * module does not pass on is derived from the prefix.
 */
export const deploymentFromTerraform = async (
  path: string,
  overrides: { prefix?: string | undefined; region?: string | undefined } = {},
): Promise<Deployment> => {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--terraform-outputs ${path}: ${(error as { code?: string }).code ?? 'unreadable'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UsageError(
      `--terraform-outputs ${path} is not JSON (write it with \`terraform output -json > ${path}\`)`,
    );
  }
  const values = terraformValues(parsed, path);
  const functionOf = (role: FunctionRole) =>
    text(values[`${TERRAFORM_FUNCTIONS[role]}_arn`]) ?? text(values[`${TERRAFORM_FUNCTIONS[role]}_name`]);
  const postConfirmation = functionOf('postConfirmation');
  const userPoolId = text(values.user_pool_id);
  if (!postConfirmation || !userPoolId) {
    throw new UsageError(`${path}: post_confirmation_function_arn and user_pool_id must be set`);
  }
  const prefix = overrides.prefix ?? prefixOfFunction(postConfirmation);
  if (!prefix) {
    throw new UsageError(
      `${path}: the post-confirmation function "${functionNameOf(postConfirmation)}" is not named <prefix>-post-confirmation: give --prefix`,
    );
  }
  const region =
    overrides.region ?? regionOfArn(postConfirmation) ?? regionOfPool(userPoolId, 'user_pool_id');
  const deployment = byPrefix(prefix, userPoolId, region, `Terraform outputs ${path}`);
  /** An output's resource: named, null (the part is absent), or not passed on (derived). */
  const resourceOf = (keys: string[], fallback: Resource): Resource => {
    const present = keys.filter((key) => key in values);
    if (present.length === 0) return fallback;
    const value = present.map((key) => text(values[key])).find(Boolean);
    return value ? given(value) : null;
  };
  for (const role of FUNCTION_ROLES) {
    deployment.functions[role] = resourceOf(
      [`${TERRAFORM_FUNCTIONS[role]}_arn`, `${TERRAFORM_FUNCTIONS[role]}_name`],
      deployment.functions[role],
    );
  }
  for (const role of QUEUE_ROLES) {
    deployment.queues[role] = resourceOf([TERRAFORM_QUEUES[role]], deployment.queues[role]);
  }
  deployment.rules.userChanges = resourceOf(['user_changes_rule_arn'], deployment.rules.userChanges);
  // The schedule rule is not an output: it goes with the reconcile function.
  if (deployment.functions.reconcile === null) deployment.rules.reconcile = null;
  if (deployment.functions.userChanges === null) deployment.rules.userChanges = null;
  const alarms = values.alarm_names;
  if (Array.isArray(alarms)) deployment.alarmNames = alarms.filter((name) => typeof name === 'string');
  const trail = text(values.trail_arn);
  if (trail) deployment.trailArn = trail;
  return deployment;
};

// ---------------------------------------------------------------------------------------------
// SAM: the stack's parameters, outputs and resources, by the logical ids of template.yaml.

const STACK_FUNCTIONS: Record<FunctionRole, string> = {
  postConfirmation: 'PostConfirmationFunction',
  retryWorker: 'RetryWorkerFunction',
  userChanges: 'UserChangesFunction',
  reconcile: 'ReconcileFunction',
};

const STACK_QUEUES: Record<QueueRole, string> = {
  retry: 'RetryQueue',
  deadLetter: 'DeadLetterQueue',
  changes: 'ChangesQueue',
  changesDeadLetter: 'ChangesDeadLetterQueue',
  reconcile: 'ReconcileQueue',
  reconcileDeadLetter: 'ReconcileDeadLetterQueue',
};

/**
 * A read of the stack, which everything else is found from: a stack that does not exist is a
 * usage error (CloudFormation API Reference, DescribeStacks: ValidationError "Stack with id … does
 * not exist"), any other answer of AWS's stops the run in one line naming the action; the
 * credentials' own refusal, and no answer at all, go on as they are (src/cli/operator-errors.ts).
 */
const readStack = async <T>(
  stackName: string,
  region: string,
  action: string,
  read: () => Promise<T>,
): Promise<T> => {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof Error) || !('$metadata' in error) || isCredentialsRefusal(error)) throw error;
    if (error.name === 'ValidationError' && /does not exist/.test(error.message)) {
      throw new UsageError(
        `--stack ${stackName}: no such stack in ${region} (CloudFormation: ${error.message})`,
      );
    }
    throw new ConfigError(
      `--stack ${stackName}`,
      `could not be read: ${action} answered ${error.name}: ${error.message}. Everything else is found from the stack, so nothing was checked: allow ${action}, or name the deployment with --terraform-outputs or --prefix and --user-pool-id`,
    );
  }
};

/**
 * A deployment from a CloudFormation stack made from template.yaml. Its resources are read with
 * ListStackResources, paged: DescribeStackResources returns only the first 100 resources of a
 * stack (AWS CloudFormation API Reference, DescribeStackResources:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html,
 * and ListStackResources), and a stack with every part holds more. A resource the template makes
 * only for a part (Condition) is absent from a stack without that part.
 */
export const deploymentFromStack = async (
  client: CloudFormationClient,
  stackName: string,
  region: string,
): Promise<Deployment> => {
  const { Stacks = [] } = await readStack(stackName, region, 'cloudformation:DescribeStacks', () =>
    client.send(new DescribeStacksCommand({ StackName: stackName })),
  );
  const stack = Stacks[0];
  if (!stack) throw new UsageError(`--stack ${stackName}: no such stack in ${region}`);
  const parameter = (key: string) => stack.Parameters?.find((p) => p.ParameterKey === key)?.ParameterValue;
  const output = (key: string) => stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
  const resources: StackResourceSummary[] = [];
  let NextToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const answer = await readStack(stackName, region, 'cloudformation:ListStackResources', () =>
      client.send(new ListStackResourcesCommand({ StackName: stackName, NextToken })),
    );
    resources.push(...(answer.StackResourceSummaries ?? []));
    NextToken = answer.NextToken;
    if (!NextToken) break;
  }
  const physical = (logicalId: string) =>
    resources.find((resource) => resource.LogicalResourceId === logicalId)?.PhysicalResourceId;
  const userPoolId = output('UserPoolId') || parameter('UserPoolId') || physical('UserPool');
  if (!userPoolId)
    throw new UsageError(`--stack ${stackName}: the stack names no user pool (output UserPoolId)`);
  const prefix = parameter('NamePrefix') || 'cognito-user-sync';
  const deployment = byPrefix(prefix, userPoolId, region, `stack ${stackName}`);
  const fromStack = (logicalId: string): Resource => {
    const id = physical(logicalId);
    return id ? given(id) : null;
  };
  for (const role of FUNCTION_ROLES) deployment.functions[role] = fromStack(STACK_FUNCTIONS[role]);
  for (const role of QUEUE_ROLES) deployment.queues[role] = fromStack(STACK_QUEUES[role]);
  deployment.rules.userChanges = fromStack('UserChangesRule');
  // SAM makes the schedule's rule from the function's `Schedule` event: ReconcileFunctionSchedule.
  const schedule = resources.find(
    (resource) =>
      resource.ResourceType === 'AWS::Events::Rule' &&
      resource.LogicalResourceId?.startsWith('ReconcileFunction'),
  );
  deployment.rules.reconcile = schedule?.PhysicalResourceId ? given(schedule.PhysicalResourceId) : null;
  deployment.alarmNames = resources
    .filter((resource) => resource.ResourceType === 'AWS::CloudWatch::Alarm' && resource.PhysicalResourceId)
    .map((resource) => resource.PhysicalResourceId as string);
  const trail = output('TrailArn');
  if (trail) deployment.trailArn = trail;
  return deployment;
};

/** A deployment named by its prefix and pool (the region is the pool's unless given). */
export const deploymentFromPrefix = (prefix: string, userPoolId: string, region?: string): Deployment =>
  byPrefix(prefix, userPoolId, region ?? regionOfPool(userPoolId, '--user-pool-id'), `prefix ${prefix}`);

/** The parts a deployment has, or may have (a derived resource may turn out absent). */
export const mayHave = (deployment: Deployment, part: Part): boolean =>
  part === 'core' ||
  FUNCTION_ROLES.some((role) => PART_OF_FUNCTION[role] === part && deployment.functions[role] !== null);

/** An AWS region's name, as a flag gives it: lowercase words joined by hyphens, ending in a number. */
export const parseRegion: Parser<string> = (name, raw) => {
  if (!/^[a-z]{2,}(?:-[a-z0-9]+)*-\d+$/.test(raw))
    throw new ConfigError(name, `is not an AWS region, got "${raw}"`);
  return raw;
};

export interface DeploymentSource {
  stack?: string | undefined;
  terraformOutputs?: string | undefined;
  prefix?: string | undefined;
  userPoolId?: string | undefined;
  region?: string | undefined;
}

/**
 * The deployment one source names: a stack, Terraform's outputs (--prefix then overrides the
 * prefix they give), or a prefix and a pool. Exactly one source, or a usage error: a flag the
 * source would ignore (the stack's or the outputs' own pool, the stack's prefix) is named as a
 * clash before anything is read.
 */
export const resolveDeployment = async (
  source: DeploymentSource,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Deployment> => {
  const given = [source.stack && '--stack', source.terraformOutputs && '--terraform-outputs'].filter(Boolean);
  if (given.length > 1) throw new UsageError('give one of --stack and --terraform-outputs');
  const clash = (flag: string, others: (string | false | undefined)[], why: string) => {
    const named = others.filter(Boolean);
    if (named.length > 0)
      throw new UsageError(`${[flag, ...named].join(' and ')} together: ${why}; give one source`);
  };
  if (source.stack) {
    clash(
      '--stack',
      [source.prefix && '--prefix', source.userPoolId && '--user-pool-id'],
      'the stack gives the prefix and the pool (its NamePrefix parameter, its UserPoolId output)',
    );
    const region = source.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new UsageError('--stack needs a region: --region, or AWS_REGION');
    return deploymentFromStack(
      new CloudFormationClient({ ...AWS_CLIENT_PROFILES.cli, region }),
      source.stack,
      region,
    );
  }
  if (source.terraformOutputs) {
    clash(
      '--terraform-outputs',
      [source.userPoolId && '--user-pool-id'],
      'the outputs give the pool (user_pool_id); only --prefix may override what they give',
    );
    return deploymentFromTerraform(source.terraformOutputs, { prefix: source.prefix, region: source.region });
  }
  if (source.prefix && source.userPoolId)
    return deploymentFromPrefix(source.prefix, source.userPoolId, source.region);
  throw new UsageError(
    'which deployment? Give --stack NAME (SAM), --terraform-outputs FILE (terraform output -json), or --prefix PREFIX with --user-pool-id ID',
  );
};
