// template.yaml through the SAM transform (scripts/iac-sam-transform.py, aws-sam-translator), as
// CloudFormation would receive it after `sam package`, and a deployment's template parameters.

import type { CfnTemplate } from './cloudformation.js';
import { runOk } from './run.js';
import { DEFAULT_RECONCILE, type Deployment, userPoolIdOf } from './spec.js';

export const transformTemplate = async ({
  bucket,
  region = 'eu-west-1',
  template = 'template.yaml',
}: {
  bucket?: string;
  region?: string;
  template?: string;
} = {}): Promise<CfnTemplate> => {
  const args = ['scripts/iac-sam-transform.py', '--template', template, '--region', region];
  if (bucket) args.push('--bucket', bucket);
  return JSON.parse(await runOk('python3', args)) as CfnTemplate;
};

/** The template's parameters for a deployment; `newPool` leaves UserPoolId empty. */
export const samParametersOf = (d: Deployment, { newPool = false } = {}): Record<string, string | number> => {
  const optional = (value: number | undefined) => (value === undefined ? '' : value);
  return {
    NamePrefix: d.prefix,
    UserServiceUrl: d.userServiceUrl,
    UserServiceTimeoutMs: optional(d.userServiceTimeoutMs),
    LogLevel: d.logLevel,
    ApiKeySecretArn: d.apiKeySecretArn ?? '',
    SigningSecretArn: d.signingSecretArn ?? '',
    UserPoolId: newPool ? '' : userPoolIdOf(d),
    AlarmTopicArn: d.alarmTopicArn ?? '',
    LogRetentionDays: d.logRetentionDays,
    SyncDeadlineMs: d.syncDeadlineMs,
    RetryWorkerMaximumConcurrency: d.maximumConcurrency,
    MaxReceiveCount: d.maxReceiveCount,
    SyncUserStatuses: d.userPolicy.syncUserStatuses,
    DefaultUserStatus: d.userPolicy.defaultUserStatus,
    DefaultUserRole: d.userPolicy.defaultUserRole,
    DisabledUserStatus: d.userPolicy.disabledUserStatus,
    OperatorRoleArns: d.operatorRoleArns.join(','),
    EnableUserChanges: d.userChanges ? 'true' : 'false',
    UserChangesMaximumConcurrency: d.userChanges ? d.userChanges.maximumConcurrency : 2,
    CreateTrail: d.createTrail ? 'true' : 'false',
    // Reconcile is on by default: an empty schedule is the opt-out.
    ReconcileSchedule: d.reconcile ? d.reconcile.schedule : '',
    ReconcileMaxRps: d.reconcile ? d.reconcile.maxRps : DEFAULT_RECONCILE.maxRps,
    ReconcileMaxDeletes: d.reconcile ? d.reconcile.maxDeletes : DEFAULT_RECONCILE.maxDeletes,
    ReconcileOverdueDays:
      (d.reconcile ? d.reconcile.overdueDays : undefined) ?? DEFAULT_RECONCILE.overdueDays,
    RunbookUrl: d.runbookUrl,
    SubnetIds: d.vpc?.subnetIds.join(',') ?? '',
    SecurityGroupIds: d.vpc?.securityGroupIds.join(',') ?? '',
    KmsKeyArn: d.kmsKeyArn ?? '',
    PermissionsBoundaryArn: d.permissionsBoundaryArn ?? '',
    PostConfirmationMemorySize: d.memorySize.postConfirmation,
    RetryWorkerMemorySize: d.memorySize.retryWorker,
    UserChangesMemorySize: d.memorySize.userChanges,
    ReconcileMemorySize: d.memorySize.reconcile,
    PostConfirmationReservedConcurrency: optional(d.reservedConcurrency.postConfirmation),
    RetryWorkerReservedConcurrency: optional(d.reservedConcurrency.retryWorker),
    UserChangesReservedConcurrency: optional(d.reservedConcurrency.userChanges),
    ReconcileReservedConcurrency: optional(d.reservedConcurrency.reconcile),
  };
};
