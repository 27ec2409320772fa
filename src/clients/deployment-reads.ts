// What an account holds of a deployment, read through the AWS APIs into one inventory that
// src/core/doctor.ts judges: the pool's trigger, each function's configuration, role, event
// sources and concurrency, the queues and their policies and keys, the trails, the rules, the
// alarms, and the IAM policy simulator's answer for each role's secrets and keys. Read-only. A
// read that fails is kept as Unreadable (the API and why), so one missing permission costs one
// check, not the run; credentials that are missing, expired or invalid fail every read alike,
// and stop the reads at the first (the command says so in one line). Each AWS answer relied on
// names the API reference page it follows.

import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isRecord } from '../guards.js';
import { AWS_CLIENT_PROFILES, isCredentialsRefusal } from './aws.js';
import {
  type Deployment,
  FUNCTION_ROLES,
  type FunctionRole,
  functionNameOf,
  QUEUE_ROLES,
  type QueueRole,
  type Resource,
} from './deployment.js';

/** A read that failed: the IAM action it needed and AWS's answer. Judged as a failed check. */
export class Unreadable {
  constructor(
    /** The IAM action of the call, e.g. `lambda:GetFunctionConfiguration`. */
    readonly action: string,
    /** AWS's error name and message. */
    readonly reason: string,
  ) {}
}

/** Named resources that are not there: a part not deployed when derived, a broken deployment when given. */
export const ABSENT = 'absent' as const;
export type Absent = typeof ABSENT;

export type Read<T> = T | Unreadable;

const NOT_FOUND = new Set([
  'ResourceNotFoundException',
  'NotFoundException',
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NoSuchEntity',
  'NoSuchEntityException',
  'TrailNotFoundException',
]);

const isNotFound = (error: unknown): boolean => {
  const { name, code, Code } = error as { name?: string; code?: string; Code?: string };
  return [name, code, Code].some((value) => value !== undefined && NOT_FOUND.has(value));
};

/** Rethrows a refusal of the credentials themselves: no read after it could succeed. */
const unlessCredentialsRefused = (error: unknown): void => {
  if (isCredentialsRefusal(error)) throw error;
};

const reasonOf = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Runs a read; its failure is kept as Unreadable, a missing resource as ABSENT. */
const attempt = async <T>(action: string, read: () => Promise<T>): Promise<Read<T> | Absent> => {
  try {
    return await read();
  } catch (error) {
    unlessCredentialsRefused(error);
    if (isNotFound(error)) return ABSENT;
    return new Unreadable(action, reasonOf(error));
  }
};

/** Like attempt, where "not found" is itself an answer the caller reads (no policy, no mapping). */
const attemptRead = async <T>(action: string, read: () => Promise<T>): Promise<Read<T>> => {
  try {
    return await read();
  } catch (error) {
    unlessCredentialsRefused(error);
    return new Unreadable(action, reasonOf(error));
  }
};

export interface DoctorClients {
  cognito: CognitoIdentityProviderClient;
  lambda: LambdaClient;
  sqs: SQSClient;
  events: EventBridgeClient;
  /** CloudTrail in a region: a trail's status and selectors are read in its home region. */
  cloudtrail: (region: string) => CloudTrailClient;
  kms: KMSClient;
  iam: IAMClient;
  cloudwatch: CloudWatchClient;
  secrets: SecretsManagerClient;
}

/** The clients of the command line (AWS_CLIENT_PROFILES.cli), for the deployment's region. */
export const doctorClients = (region: string): DoctorClients => {
  const config = { ...AWS_CLIENT_PROFILES.cli, region };
  const trails = new Map<string, CloudTrailClient>();
  return {
    cognito: new CognitoIdentityProviderClient(config),
    lambda: new LambdaClient(config),
    sqs: new SQSClient(config),
    events: new EventBridgeClient(config),
    cloudtrail: (home) => {
      let client = trails.get(home);
      if (!client) {
        client = new CloudTrailClient({ ...AWS_CLIENT_PROFILES.cli, region: home });
        trails.set(home, client);
      }
      return client;
    },
    kms: new KMSClient(config),
    // IAM is global; the SDK signs for it whatever region it is given.
    iam: new IAMClient(config),
    cloudwatch: new CloudWatchClient(config),
    secrets: new SecretsManagerClient(config),
  };
};

// ---------------------------------------------------------------------------------------------
// The inventory.

export interface PoolView {
  arn: string | undefined;
  /** LambdaConfig.PostConfirmation: the ARN Cognito invokes, with a version or alias when qualified. */
  postConfirmation: string | undefined;
  usernameAttributes: string[];
}

export interface EventSourceView {
  uuid: string;
  eventSourceArn: string;
  state: string;
  functionResponseTypes: string[];
  maximumConcurrency: number | undefined;
}

export interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  Action?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}

export interface FunctionView {
  name: string;
  arn: string;
  roleArn: string;
  environment: Record<string, string>;
  /** Active, Pending, Inactive, Failed (Lambda API Reference, FunctionConfiguration). */
  state: string | undefined;
  lastUpdateStatus: string | undefined;
  codeSha256: string | undefined;
  /** Reserved concurrency, when one is set. */
  reservedConcurrency: Read<number | undefined>;
  /** The event source mappings that invoke it (consumers only). */
  eventSources: Read<EventSourceView[]>;
}

export interface TriggerTargetView {
  /** What Cognito invokes, as LambdaConfig names it. */
  arn: string;
  /** The version or alias, when the ARN is qualified. */
  qualifier: string | undefined;
  /** The code of what Cognito invokes (a version's or alias's own, or $LATEST's). */
  codeSha256: Read<string | undefined> | Absent;
  /** Its resource policy's statements; [] when it has none. */
  policy: Read<PolicyStatement[]>;
}

export interface QueueView {
  url: string;
  arn: string;
  /** The queue policy, parsed; undefined when the queue has none. */
  policy: PolicyStatement[] | undefined;
  /** KmsMasterKeyId as SQS holds it (an id, ARN or alias); undefined for SQS-managed or no encryption. */
  kmsMasterKeyId: string | undefined;
  sqsManagedSse: boolean;
}

export interface KeyView {
  arn: string;
  /** Enabled, Disabled, PendingDeletion … (KMS API Reference, KeyMetadata). */
  state: string | undefined;
  /** CUSTOMER or AWS: an AWS managed key's policy cannot be changed. */
  manager: string | undefined;
  policy: Read<PolicyStatement[]>;
}

export interface RuleView {
  name: string;
  arn: string;
  state: string | undefined;
  eventPattern: unknown;
  scheduleExpression: string | undefined;
  eventBusName: string | undefined;
  targets: Read<{ id: string; arn: string }[]>;
}

export interface TrailView {
  name: string;
  arn: string;
  homeRegion: string | undefined;
  multiRegion: boolean;
  organization: boolean;
  isLogging: Read<boolean>;
  selectors: Read<TrailSelectors>;
}

/** GetEventSelectors' answer: basic selectors, or advanced ones (a trail has one kind). */
export interface TrailSelectors {
  basic: {
    ReadWriteType?: string;
    IncludeManagementEvents?: boolean;
    ExcludeManagementEventSources?: string[];
  }[];
  advanced: { Name?: string; FieldSelectors?: AdvancedField[] }[];
}

export interface AdvancedField {
  Field?: string;
  Equals?: string[];
  NotEquals?: string[];
  StartsWith?: string[];
  NotStartsWith?: string[];
  EndsWith?: string[];
  NotEndsWith?: string[];
}

export interface AlarmView {
  name: string;
  actionsEnabled: boolean;
  alarmActions: string[];
}

/** One answer of the IAM policy simulator: may this role do this action on this resource? */
export interface Simulation {
  role: FunctionRole;
  roleArn: string;
  /** What it is for, in words: "read its API key", "use the queues' key through SQS". */
  purpose: string;
  action: string;
  resource: string;
  /** allowed, explicitDeny or implicitDeny (IAM API Reference, EvaluationResult). */
  decision: Read<string>;
}

export interface SecretView {
  variable: string;
  id: string;
  arn: Read<string> | Absent;
  /** The customer-managed key it is encrypted with, when not Secrets Manager's own. */
  kmsKeyArn: string | undefined;
}

export interface Inventory {
  deployment: Deployment;
  pool: Read<PoolView> | Absent;
  trigger: TriggerTargetView | undefined;
  functions: Record<FunctionRole, Read<FunctionView> | Absent | null>;
  secrets: Partial<Record<FunctionRole, SecretView[]>>;
  queues: Record<QueueRole, Read<QueueView> | Absent | null>;
  keys: Record<string, Read<KeyView>>;
  rules: { userChanges: Read<RuleView> | Absent | null; reconcile: Read<RuleView> | Absent | null };
  trails: Read<TrailView[]>;
  alarms: Read<AlarmView[]>;
  simulations: Simulation[];
}

const parseJson = (text: string | undefined): unknown => {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const statementsOf = (document: unknown): PolicyStatement[] => {
  const statements = isRecord(document) ? document.Statement : undefined;
  const list = Array.isArray(statements) ? statements : statements === undefined ? [] : [statements];
  return list.filter(isRecord) as PolicyStatement[];
};

// ---------------------------------------------------------------------------------------------
// The reads, one per kind of resource.

/**
 * The pool and its trigger: DescribeUserPool's UserPool.LambdaConfig.PostConfirmation (Amazon
 * Cognito API Reference, DescribeUserPool and LambdaConfigType:
 * https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_LambdaConfigType.html).
 */
const readPool = (clients: DoctorClients, userPoolId: string) =>
  attempt('cognito-idp:DescribeUserPool', async (): Promise<PoolView> => {
    const { UserPool } = await clients.cognito.send(new DescribeUserPoolCommand({ UserPoolId: userPoolId }));
    return {
      arn: UserPool?.Arn,
      postConfirmation: UserPool?.LambdaConfig?.PostConfirmation,
      usernameAttributes: UserPool?.UsernameAttributes ?? [],
    };
  });

/**
 * A function's configuration (Lambda API Reference, GetFunctionConfiguration: Role, Environment,
 * State, LastUpdateStatus, CodeSha256:
 * https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html), its reserved
 * concurrency (GetFunctionConcurrency; none set: no ReservedConcurrentExecutions:
 * https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConcurrency.html) and, for a
 * consumer, its event source mappings (ListEventSourceMappings: State, FunctionResponseTypes,
 * ScalingConfig.MaximumConcurrency:
 * https://docs.aws.amazon.com/lambda/latest/api/API_ListEventSourceMappings.html).
 */
const readFunction = (clients: DoctorClients, resource: Resource, consumer: boolean) =>
  resource === null
    ? Promise.resolve(null)
    : attempt('lambda:GetFunctionConfiguration', async (): Promise<FunctionView> => {
        const name = functionNameOf(resource.id);
        const configuration = await clients.lambda.send(
          new GetFunctionConfigurationCommand({ FunctionName: name }),
        );
        const reservedConcurrency = await attemptRead('lambda:GetFunctionConcurrency', async () => {
          const { ReservedConcurrentExecutions } = await clients.lambda.send(
            new GetFunctionConcurrencyCommand({ FunctionName: name }),
          );
          return ReservedConcurrentExecutions ?? undefined;
        });
        const eventSources = consumer
          ? await attemptRead('lambda:ListEventSourceMappings', async () => {
              const { EventSourceMappings = [] } = await clients.lambda.send(
                new ListEventSourceMappingsCommand({ FunctionName: name }),
              );
              return EventSourceMappings.map(
                (mapping): EventSourceView => ({
                  uuid: mapping.UUID ?? '',
                  eventSourceArn: mapping.EventSourceArn ?? '',
                  state: mapping.State ?? '',
                  functionResponseTypes: mapping.FunctionResponseTypes ?? [],
                  maximumConcurrency: mapping.ScalingConfig?.MaximumConcurrency,
                }),
              );
            })
          : [];
        return {
          name: configuration.FunctionName ?? name,
          arn: configuration.FunctionArn ?? resource.id,
          roleArn: configuration.Role ?? '',
          environment: configuration.Environment?.Variables ?? {},
          state: configuration.State,
          lastUpdateStatus: configuration.LastUpdateStatus,
          codeSha256: configuration.CodeSha256,
          reservedConcurrency,
          eventSources,
        };
      });

/**
 * What Cognito invokes: the ARN of LambdaConfig.PostConfirmation, with its version or alias when
 * qualified (`…:function:name:qualifier`), its code (GetFunctionConfiguration with the qualified
 * ARN) and the resource policy of that version or alias (Lambda API Reference, GetPolicy with
 * Qualifier: https://docs.aws.amazon.com/lambda/latest/api/API_GetPolicy.html). A function without
 * a policy answers ResourceNotFoundException: no statement.
 */
const readTriggerTarget = async (clients: DoctorClients, arn: string): Promise<TriggerTargetView> => {
  const qualifier = arn.split(':')[7];
  const codeSha256 = await attempt('lambda:GetFunctionConfiguration', async () => {
    const { CodeSha256 } = await clients.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: arn }),
    );
    return CodeSha256;
  });
  const policy = await attemptRead('lambda:GetPolicy', async () => {
    try {
      const { Policy } = await clients.lambda.send(
        new GetPolicyCommand({
          FunctionName: functionNameOf(arn),
          ...(qualifier && { Qualifier: qualifier }),
        }),
      );
      return statementsOf(parseJson(Policy));
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  });
  return { arn, qualifier, codeSha256, policy };
};

/**
 * A queue's URL (GetQueueUrl, for a name) and attributes (SQS API Reference, GetQueueAttributes:
 * QueueArn, Policy, KmsMasterKeyId, SqsManagedSseEnabled:
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html).
 */
const readQueue = (clients: DoctorClients, resource: Resource) =>
  resource === null
    ? Promise.resolve(null)
    : attempt('sqs:GetQueueAttributes', async (): Promise<QueueView> => {
        const url = /^https?:\/\//.test(resource.id)
          ? resource.id
          : ((await clients.sqs.send(new GetQueueUrlCommand({ QueueName: resource.id }))).QueueUrl ?? '');
        const { Attributes = {} } = await clients.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
        );
        const policy = parseJson(Attributes.Policy);
        return {
          url,
          arn: Attributes.QueueArn ?? '',
          policy: policy === undefined ? undefined : statementsOf(policy),
          kmsMasterKeyId: Attributes.KmsMasterKeyId || undefined,
          sqsManagedSse: Attributes.SqsManagedSseEnabled === 'true',
        };
      });

/**
 * A KMS key: DescribeKey (KeyMetadata: Arn, KeyState, KeyManager:
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html) and its key policy, GetKeyPolicy
 * with the policy name `default`, the only one a key has (AWS KMS API Reference, GetKeyPolicy:
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html).
 */
const readKey = (clients: DoctorClients, keyId: string) =>
  attemptRead('kms:DescribeKey', async (): Promise<KeyView> => {
    const { KeyMetadata } = await clients.kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    const arn = KeyMetadata?.Arn ?? keyId;
    const policy = await attemptRead('kms:GetKeyPolicy', async () => {
      const { Policy } = await clients.kms.send(
        new GetKeyPolicyCommand({ KeyId: arn, PolicyName: 'default' }),
      );
      return statementsOf(parseJson(Policy));
    });
    return { arn, state: KeyMetadata?.KeyState, manager: KeyMetadata?.KeyManager, policy };
  });

/**
 * A rule (EventBridge API Reference, DescribeRule: State, EventPattern, ScheduleExpression:
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DescribeRule.html) and
 * its targets (ListTargetsByRule:
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_ListTargetsByRule.html).
 */
const readRule = (clients: DoctorClients, resource: Resource) =>
  resource === null
    ? Promise.resolve(null)
    : attempt('events:DescribeRule', async (): Promise<RuleView> => {
        // An ARN (Terraform's output) names the rule after its last slash.
        const name = resource.id.startsWith('arn:')
          ? (resource.id.split('/').at(-1) ?? resource.id)
          : resource.id;
        const rule = await clients.events.send(new DescribeRuleCommand({ Name: name }));
        const targets = await attemptRead('events:ListTargetsByRule', async () => {
          const { Targets = [] } = await clients.events.send(new ListTargetsByRuleCommand({ Rule: name }));
          return Targets.map((target) => ({ id: target.Id ?? '', arn: target.Arn ?? '' }));
        });
        return {
          name,
          arn: rule.Arn ?? resource.id,
          state: rule.State,
          eventPattern: parseJson(rule.EventPattern),
          scheduleExpression: rule.ScheduleExpression,
          eventBusName: rule.EventBusName,
          targets,
        };
      });

/**
 * The trails that log this region: DescribeTrails with includeShadowTrails (a multi-region trail
 * homed elsewhere, an organization trail), each one's GetTrailStatus (IsLogging) and
 * GetEventSelectors (EventSelectors or AdvancedEventSelectors), asked in its home region by its
 * ARN, as a shadow trail must be (AWS CloudTrail API Reference, DescribeTrails:
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html, GetTrailStatus:
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html,
 * GetEventSelectors: https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetEventSelectors.html).
 */
const readTrails = (clients: DoctorClients, region: string) =>
  attemptRead('cloudtrail:DescribeTrails', async (): Promise<TrailView[]> => {
    const { trailList = [] } = await clients
      .cloudtrail(region)
      .send(new DescribeTrailsCommand({ includeShadowTrails: true }));
    const views: TrailView[] = [];
    for (const trail of trailList) {
      const arn = trail.TrailARN ?? trail.Name ?? '';
      const client = clients.cloudtrail(trail.HomeRegion ?? region);
      const isLogging = await attemptRead('cloudtrail:GetTrailStatus', async () => {
        const { IsLogging } = await client.send(new GetTrailStatusCommand({ Name: arn }));
        return IsLogging === true;
      });
      const selectors = await attemptRead(
        'cloudtrail:GetEventSelectors',
        async (): Promise<TrailSelectors> => {
          const answer = await client.send(new GetEventSelectorsCommand({ TrailName: arn }));
          return {
            basic: answer.EventSelectors ?? [],
            advanced: (answer.AdvancedEventSelectors ?? []) as TrailSelectors['advanced'],
          };
        },
      );
      views.push({
        name: trail.Name ?? arn,
        arn,
        homeRegion: trail.HomeRegion,
        multiRegion: trail.IsMultiRegionTrail === true,
        organization: trail.IsOrganizationTrail === true,
        isLogging,
        selectors,
      });
    }
    return views;
  });

/**
 * The deployment's alarms (CloudWatch API Reference, DescribeAlarms: MetricAlarms' ActionsEnabled
 * and AlarmActions: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html),
 * by the names the source gave, else by the prefix.
 */
const readAlarms = (clients: DoctorClients, deployment: Deployment) =>
  attemptRead('cloudwatch:DescribeAlarms', async (): Promise<AlarmView[]> => {
    const alarms: AlarmView[] = [];
    const pages = deployment.alarmNames
      ? Array.from({ length: Math.ceil(deployment.alarmNames.length / 100) }, (_, index) => ({
          AlarmNames: deployment.alarmNames?.slice(index * 100, index * 100 + 100),
        }))
      : [{ AlarmNamePrefix: `${deployment.prefix}-` }];
    for (const page of pages) {
      let NextToken: string | undefined;
      for (let count = 0; count < 50; count++) {
        const answer = await clients.cloudwatch.send(new DescribeAlarmsCommand({ ...page, NextToken }));
        for (const alarm of [...(answer.MetricAlarms ?? []), ...(answer.CompositeAlarms ?? [])]) {
          alarms.push({
            name: alarm.AlarmName ?? '',
            actionsEnabled: alarm.ActionsEnabled !== false,
            alarmActions: alarm.AlarmActions ?? [],
          });
        }
        NextToken = answer.NextToken;
        if (!NextToken) break;
      }
    }
    return alarms;
  });

/**
 * The IAM policy simulator: whether the role's policies (inline and attached, its permissions
 * boundary and the organization's SCPs) allow the action on the resource, with the context keys
 * given (IAM API Reference, SimulatePrincipalPolicy and EvaluationResult.EvalDecision: allowed,
 * explicitDeny, implicitDeny: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html).
 * It evaluates identity policies; a KMS key policy must also let IAM policies grant the key, which
 * src/core/doctor.ts checks on the key policy itself.
 */
const simulate = async (
  clients: DoctorClients,
  roleArn: string,
  actions: string[],
  resource: string,
  context: Record<string, string> = {},
): Promise<Map<string, Read<string>>> => {
  const decisions = new Map<string, Read<string>>();
  try {
    const { EvaluationResults = [] } = await clients.iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: roleArn,
        ActionNames: actions,
        ResourceArns: [resource],
        ContextEntries: Object.entries(context).map(([ContextKeyName, value]) => ({
          ContextKeyName,
          ContextKeyType: 'string',
          ContextKeyValues: [value],
        })),
      }),
    );
    for (const action of actions) {
      const result = EvaluationResults.find((candidate) => candidate.EvalActionName === action);
      decisions.set(
        action,
        result?.EvalDecision ?? new Unreadable('iam:SimulatePrincipalPolicy', 'no answer for the action'),
      );
    }
  } catch (error) {
    unlessCredentialsRefused(error);
    for (const action of actions)
      decisions.set(action, new Unreadable('iam:SimulatePrincipalPolicy', reasonOf(error)));
  }
  return decisions;
};

const SECRET_VARIABLES = {
  USER_SERVICE_API_KEY_SECRET_ID: 'read its API key',
  USER_SERVICE_SIGNING_SECRET_ID: 'read its signing secret',
} as const;

/**
 * A secret named by a function's variable: DescribeSecret gives its ARN and the key it is
 * encrypted with (Secrets Manager API Reference, DescribeSecret: KmsKeyId, absent for the AWS
 * managed key aws/secretsmanager:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html).
 */
const readSecret = async (clients: DoctorClients, variable: string, id: string): Promise<SecretView> => {
  const described = await attempt('secretsmanager:DescribeSecret', () =>
    clients.secrets.send(new DescribeSecretCommand({ SecretId: id })),
  );
  if (described === ABSENT || described instanceof Unreadable) {
    return { variable, id, arn: described, kmsKeyArn: undefined };
  }
  let kmsKeyArn: string | undefined;
  if (described.KmsKeyId && !described.KmsKeyId.endsWith('alias/aws/secretsmanager')) {
    const key = await readKey(clients, described.KmsKeyId);
    if (!(key instanceof Unreadable) && key.manager !== 'AWS') kmsKeyArn = key.arn;
  }
  return { variable, id, arn: described.ARN ?? id, kmsKeyArn };
};

const CONSUMERS: readonly FunctionRole[] = ['retryWorker', 'userChanges', 'reconcile'];

/** What a change travels after sign-up, and the trigger: what smoke reads (the rest left as not deployed). */
const PATH_FUNCTIONS: readonly FunctionRole[] = ['postConfirmation', 'userChanges'];
const PATH_QUEUES: readonly QueueRole[] = ['changes', 'changesDeadLetter'];

/**
 * Reads everything doctor judges, for one deployment; with scope `path`, only the trigger and what
 * a change travels (the trail, the rule, the changes queues and key, the user-changes function).
 */
export const readInventory = async (
  clients: DoctorClients,
  deployment: Deployment,
  { scope = 'all' }: { scope?: 'all' | 'path' } = {},
): Promise<Inventory> => {
  const inScope = <R extends string>(role: R, path: readonly R[]) => scope === 'all' || path.includes(role);
  const pool = await readPool(clients, deployment.userPoolId);
  const functions = {} as Inventory['functions'];
  for (const role of FUNCTION_ROLES) {
    functions[role] = inScope(role, PATH_FUNCTIONS)
      ? await readFunction(clients, deployment.functions[role], CONSUMERS.includes(role))
      : null;
  }
  const queues = {} as Inventory['queues'];
  for (const role of QUEUE_ROLES) {
    queues[role] = inScope(role, PATH_QUEUES) ? await readQueue(clients, deployment.queues[role]) : null;
  }
  const trigger =
    pool !== ABSENT && !(pool instanceof Unreadable) && pool.postConfirmation
      ? await readTriggerTarget(clients, pool.postConfirmation)
      : undefined;

  const keys: Inventory['keys'] = {};
  const keyOfQueue = new Map<string, string>();
  for (const queue of Object.values(queues)) {
    if (queue === null || queue === ABSENT || queue instanceof Unreadable || !queue.kmsMasterKeyId) continue;
    const id = queue.kmsMasterKeyId;
    if (!(id in keys)) keys[id] = await readKey(clients, id);
    keyOfQueue.set(queue.arn, id);
  }

  const simulations: Simulation[] = [];
  const secrets: Inventory['secrets'] = {};
  for (const role of FUNCTION_ROLES) {
    const fn = functions[role];
    if (fn === null || fn === ABSENT || fn instanceof Unreadable || !fn.roleArn) continue;
    const views: SecretView[] = [];
    for (const [variable, purpose] of Object.entries(SECRET_VARIABLES)) {
      const id = fn.environment[variable]?.trim();
      if (!id) continue;
      const secret = await readSecret(clients, variable, id);
      views.push(secret);
      const arn = typeof secret.arn === 'string' && secret.arn !== ABSENT ? secret.arn : id;
      const decision = (await simulate(clients, fn.roleArn, ['secretsmanager:GetSecretValue'], arn)).get(
        'secretsmanager:GetSecretValue',
      ) as Read<string>;
      simulations.push({
        role,
        roleArn: fn.roleArn,
        purpose,
        action: 'secretsmanager:GetSecretValue',
        resource: arn,
        decision,
      });
      if (secret.kmsKeyArn) {
        const viaSecrets = { 'kms:ViaService': `secretsmanager.${deployment.region}.amazonaws.com` };
        const decided = await simulate(clients, fn.roleArn, ['kms:Decrypt'], secret.kmsKeyArn, viaSecrets);
        simulations.push({
          role,
          roleArn: fn.roleArn,
          purpose: `decrypt ${variable}'s secret (its key)`,
          action: 'kms:Decrypt',
          resource: secret.kmsKeyArn,
          decision: decided.get('kms:Decrypt') as Read<string>,
        });
      }
    }
    secrets[role] = views;
    // The queues' key, through SQS: a sender needs GenerateDataKey and Decrypt, a receiver Decrypt.
    for (const keyId of new Set(keyOfQueue.values())) {
      const key = keys[keyId];
      if (key === undefined || key instanceof Unreadable || key.manager === 'AWS') continue;
      const actions = ['kms:Decrypt', 'kms:GenerateDataKey'];
      const decided = await simulate(clients, fn.roleArn, actions, key.arn, {
        'kms:ViaService': `sqs.${deployment.region}.amazonaws.com`,
      });
      for (const action of actions) {
        simulations.push({
          role,
          roleArn: fn.roleArn,
          purpose: "use the queues' key through SQS",
          action,
          resource: key.arn,
          decision: decided.get(action) as Read<string>,
        });
      }
    }
  }

  return {
    deployment,
    pool,
    trigger,
    functions,
    secrets,
    queues,
    keys,
    rules: {
      userChanges: await readRule(clients, deployment.rules.userChanges),
      reconcile: scope === 'all' ? await readRule(clients, deployment.rules.reconcile) : null,
    },
    trails: await readTrails(clients, deployment.region),
    alarms: scope === 'all' ? await readAlarms(clients, deployment) : [],
    simulations,
  };
};
