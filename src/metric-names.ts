// The EMF metric names: the code emits these, and the dashboards and alarms of both IaC
// flavours are checked against this list.

export const MetricName = {
  UserSynced: 'UserSynced',
  UserAlreadyExists: 'UserAlreadyExists',
  UserSyncSkipped: 'UserSyncSkipped',
  UserSyncQueued: 'UserSyncQueued',
  UserSyncDropped: 'UserSyncDropped',
  UserServiceLatency: 'UserServiceLatency',
  UserServiceAttempts: 'UserServiceAttempts',
  RetrySucceeded: 'RetrySucceeded',
  RetryDeferred: 'RetryDeferred',
  RetryDeadLettered: 'RetryDeadLettered',
  RetryUserGone: 'RetryUserGone',
  UserChangeCreated: 'UserChangeCreated',
  UserChangeUpdated: 'UserChangeUpdated',
  UserChangeDeleted: 'UserChangeDeleted',
  UserChangeSkipped: 'UserChangeSkipped',
  UserChangeDeferred: 'UserChangeDeferred',
  UserChangeDeadLettered: 'UserChangeDeadLettered',
  ReconcileUsersChecked: 'ReconcileUsersChecked',
  ReconcileMissing: 'ReconcileMissing',
  ReconcileDifferent: 'ReconcileDifferent',
  ReconcileOrphaned: 'ReconcileOrphaned',
  ReconcileExcluded: 'ReconcileExcluded',
  ReconcileDeletesCapped: 'ReconcileDeletesCapped',
  ReconcileRunCompleted: 'ReconcileRunCompleted',
} as const;

export type MetricName = (typeof MetricName)[keyof typeof MetricName];

export const DEFAULT_NAMESPACE = 'CognitoUserSync';
export const DEFAULT_SERVICE_NAME = 'cognito-user-sync';
