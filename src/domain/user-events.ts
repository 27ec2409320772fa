// What reaches the changes queue, and what it means: CloudTrail's Cognito management events (as
// EventBridge delivers them, routed by the rule both IaC flavours make from USER_EVENTS) and
// reconcile's repair messages, each read into a UserChange ("user X changed", or "was deleted").
// The list of events lives here, once: the rule's pattern in template.yaml and the Terraform module
// is checked against it.

import { isRecord, nonEmptyString } from '../guards.js';
import { isUserPoolId } from './user-pool-id.js';

/**
 * The CloudTrail events (eventName) of a user pool that change a user the User Service holds: what
 * each does to the user, and who makes the call. An admin's call (Admin*) names the pool in
 * `requestParameters.userPoolId`; a call made with a user's own access token names no pool
 * anywhere in its CloudTrail record (events/README.md has the records and where they come from).
 * In the order the rule lists them.
 */
const EVENTS = [
  { eventName: 'AdminCreateUser', kind: 'changed', caller: 'admin' },
  { eventName: 'AdminUpdateUserAttributes', kind: 'changed', caller: 'admin' },
  { eventName: 'UpdateUserAttributes', kind: 'changed', caller: 'user' },
  { eventName: 'VerifyUserAttribute', kind: 'changed', caller: 'user' },
  { eventName: 'AdminDeleteUserAttributes', kind: 'changed', caller: 'admin' },
  { eventName: 'DeleteUserAttributes', kind: 'changed', caller: 'user' },
  { eventName: 'AdminDisableUser', kind: 'changed', caller: 'admin' },
  { eventName: 'AdminEnableUser', kind: 'changed', caller: 'admin' },
  { eventName: 'AdminDeleteUser', kind: 'deleted', caller: 'admin' },
  { eventName: 'DeleteUser', kind: 'deleted', caller: 'user' },
] as const satisfies readonly { eventName: string; kind: 'changed' | 'deleted'; caller: 'admin' | 'user' }[];

type UserEvent = (typeof EVENTS)[number];
const namesOf = (match: (event: UserEvent) => boolean): string[] =>
  EVENTS.filter(match).map((event) => event.eventName);

/** The events that change a user, and those that delete one. */
export const USER_EVENTS = {
  changed: namesOf((event) => event.kind === 'changed'),
  deleted: namesOf((event) => event.kind === 'deleted'),
} as const;

const CHANGED: readonly string[] = USER_EVENTS.changed;
const DELETED: readonly string[] = USER_EVENTS.deleted;

/**
 * The EventBridge rule's pattern for a pool, as both IaC flavours must render it: CloudTrail's
 * Cognito management events (`source` aws.cognito-idp, `detail-type` "AWS API Call via CloudTrail"),
 * successful calls only (no `errorCode`); an admin's call of this pool, or a user's own call (which
 * names no pool: the function checks the user against its pool). Content filtering per the
 * EventBridge user guide, "Event patterns" (`exists`, `$or`).
 */
export const userChangesRulePattern = (userPoolId: string) => ({
  source: ['aws.cognito-idp'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['cognito-idp.amazonaws.com'],
    errorCode: [{ exists: false }],
    $or: [
      {
        eventName: namesOf((event) => event.caller === 'admin'),
        requestParameters: { userPoolId: [userPoolId] },
      },
      { eventName: namesOf((event) => event.caller === 'user') },
    ],
  },
});

export const REPAIR_TYPE = 'cognito-user-sync.repair';

/**
 * What reconcile puts on the changes queue for a user it found out of step. Version 1 (0.2.0) has
 * `sync` and `delete`; version 2 adds `remove`. Reconcile sends a `sync` or `delete` as version 1,
 * so a user-changes function of 0.2.0 still reads them during an upgrade.
 */
export type RepairMessage =
  | {
      type: 'cognito-user-sync.repair';
      version: 1;
      userPoolId: string;
      sub: string;
      action: 'sync' | 'delete';
    }
  | { type: 'cognito-user-sync.repair'; version: 2; userPoolId: string; sub: string; action: RepairAction };

/**
 * `sync`: write the user's current state; `delete`: the user looked gone, delete if Cognito
 * confirms it; `remove`: the user's status looked like one the policy leaves out, delete unless
 * Cognito now holds them as a user (then sync).
 */
export type RepairAction = 'sync' | 'delete' | 'remove';

/** The repair message of one action: the oldest version that has it. */
export const repairMessage = (userPoolId: string, sub: string, action: RepairAction): RepairMessage =>
  action === 'remove'
    ? { type: REPAIR_TYPE, version: 2, userPoolId, sub, action }
    : { type: REPAIR_TYPE, version: 1, userPoolId, sub, action };

/** One user that changed, as one record of the changes queue says. */
export interface UserChange {
  sub: string;
  /** The pool the event names; undefined when it names none (a call made with a user's token). */
  userPoolId: string | undefined;
  /**
   * `deleted` when the event deletes the user, `removed` when reconcile found the user's status one
   * the policy leaves out: the only kinds that may lead to a DELETE.
   */
  kind: 'changed' | 'deleted' | 'removed';
  /** The eventName, or `reconcile`. */
  source: string;
}

export type ParsedRecord =
  | { change: UserChange }
  /** Nothing to do for this record (another pool, a failed call, an event that changes no user). */
  | { ignore: string; source?: string }
  /** Not a message this version can act on: to the dead-letter queue, unread. */
  | { malformed: string };

const REPAIR_KINDS: Readonly<Record<RepairAction, UserChange['kind']>> = {
  sync: 'changed',
  delete: 'deleted',
  remove: 'removed',
};

const parseRepair = (value: Record<string, unknown>): ParsedRecord => {
  const keys = Object.keys(value).sort().join(',');
  if (keys !== 'action,sub,type,userPoolId,version' || (value.version !== 1 && value.version !== 2)) {
    return { malformed: 'a repair message has exactly type, version (1 or 2), userPoolId, sub and action' };
  }
  const { userPoolId, sub, action } = value;
  if (!isUserPoolId(userPoolId)) return { malformed: 'no valid userPoolId' };
  if (!nonEmptyString(sub)) return { malformed: 'no sub' };
  const actions = value.version === 1 ? ['sync', 'delete'] : Object.keys(REPAIR_KINDS);
  if (typeof action !== 'string' || !actions.includes(action))
    return { malformed: `an action that is not one of ${actions.join(', ')} (version ${value.version})` };
  return {
    change: {
      sub: sub as string,
      userPoolId,
      kind: REPAIR_KINDS[action as RepairAction],
      source: 'reconcile',
    },
  };
};

/**
 * A CloudTrail management event of Cognito as EventBridge delivers it (`detail-type` "AWS API Call
 * via CloudTrail", `source` aws.cognito-idp): the sub is `detail.additionalEventData.sub`, the pool
 * (for the admin calls) `detail.requestParameters.userPoolId`. See events/README.md for the
 * shapes and where they come from.
 */
const parseCloudTrailEvent = (value: Record<string, unknown>): ParsedRecord => {
  const { detail } = value;
  if (value.source !== 'aws.cognito-idp' || !isRecord(detail)) return { malformed: 'not a Cognito event' };
  const eventName = typeof detail.eventName === 'string' ? detail.eventName : undefined;
  if (eventName === undefined) return { malformed: 'an event without an eventName' };
  // A failed call changed nothing. (The rule filters them out; an empty errorCode is a success.)
  if (nonEmptyString(detail.errorCode)) return { ignore: 'failed-call', source: eventName };
  const kind = DELETED.includes(eventName) ? 'deleted' : CHANGED.includes(eventName) ? 'changed' : undefined;
  if (kind === undefined) return { ignore: 'not-a-user-change', source: eventName };
  const request = isRecord(detail.requestParameters) ? detail.requestParameters : {};
  const extra = isRecord(detail.additionalEventData) ? detail.additionalEventData : {};
  const sub = nonEmptyString(extra.sub);
  if (sub === undefined) return { ignore: 'no-sub', source: eventName };
  const userPoolId = nonEmptyString(request.userPoolId);
  return { change: { sub, userPoolId, kind, source: eventName } };
};

/** Reads one changes-queue message body; never throws. */
export const parseChangeRecord = (body: string): ParsedRecord => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { malformed: 'the message is not JSON' };
  }
  if (!isRecord(value)) return { malformed: 'the message is not a JSON object' };
  if (value.type === REPAIR_TYPE) return parseRepair(value);
  if (value['detail-type'] === 'AWS API Call via CloudTrail') return parseCloudTrailEvent(value);
  return { malformed: 'neither a CloudTrail event nor a repair message' };
};
