// What Cognito hands the trigger, narrowed from `unknown`: Cognito's own events are trusted no
// further than their shape, and anything else (a test event typed by hand, a new trigger source)
// is skipped rather than guessed at.

import { isRecord, nonEmptyString } from '../guards.js';
import { isUserPoolId } from './user-pool-id.js';

export const TRIGGER_SOURCES = {
  confirmSignUp: 'PostConfirmation_ConfirmSignUp',
  confirmForgotPassword: 'PostConfirmation_ConfirmForgotPassword',
} as const;

/** The user a post-confirmation event is about; attributes are the string-valued ones only. */
export interface CognitoUser {
  userPoolId: string;
  triggerSource: string;
  sub: string;
  attributes: Readonly<Record<string, string>>;
}

export type SkipReason = 'forgot-password' | 'unsupported-trigger' | 'not-a-cognito-event';

export type TriggerDecision =
  | { action: 'sync'; user: CognitoUser }
  | { action: 'skip'; reason: SkipReason; triggerSource?: string }
  /** A ConfirmSignUp event we cannot make a user of; `userPoolId`/`sub` are kept when present. */
  | { action: 'invalid'; problem: string; triggerSource: string; userPoolId?: string; sub?: string };

/** Keeps the string-valued attributes; Cognito sends nothing else, a hand-made event might. */
export const stringAttributes = (value: unknown): Record<string, string> => {
  const attributes: Record<string, string> = {};
  if (!isRecord(value)) return attributes;
  for (const [name, attribute] of Object.entries(value)) {
    if (typeof attribute === 'string') attributes[name] = attribute;
  }
  return attributes;
};

/**
 * Decides what to do with a post-confirmation event: sync on ConfirmSignUp (which also covers
 * AdminConfirmSignUp, where `callerContext.clientId` is null, and a federated user's first
 * sign-in), skip a password reset and any other source.
 */
export const decide = (event: unknown): TriggerDecision => {
  if (!isRecord(event) || typeof event.triggerSource !== 'string') {
    return { action: 'skip', reason: 'not-a-cognito-event' };
  }
  const { triggerSource } = event;
  if (triggerSource === TRIGGER_SOURCES.confirmForgotPassword) {
    return { action: 'skip', reason: 'forgot-password', triggerSource };
  }
  if (triggerSource !== TRIGGER_SOURCES.confirmSignUp) {
    return { action: 'skip', reason: 'unsupported-trigger', triggerSource };
  }

  // Read with the one pool-id parser, as everywhere: a pool id Cognito could not have made is none.
  const userPoolId = isUserPoolId(event.userPoolId) ? event.userPoolId : undefined;
  const attributes = stringAttributes(isRecord(event.request) ? event.request.userAttributes : undefined);
  const sub = nonEmptyString(attributes.sub);
  if (userPoolId === undefined || sub === undefined) {
    return {
      action: 'invalid',
      problem: userPoolId === undefined ? 'event has no valid userPoolId' : 'event has no sub attribute',
      triggerSource,
      ...(userPoolId !== undefined && { userPoolId }),
      ...(sub !== undefined && { sub }),
    };
  }
  return { action: 'sync', user: { userPoolId, triggerSource, sub, attributes } };
};
