// What a worker does with a message when Cognito could not say whether a user is in the pool: the
// one rule for the user-changes function and the retry worker alike.

import { errorCode, failureCode } from '../errors.js';

export type CognitoFailure<K> =
  | { outcome: 'dead-lettered'; reason: 'pool-not-found'; keys: K }
  | { outcome: 'deferred'; reason: string; keys: K };

/**
 * Cognito refused to say (a throttle, a timeout, a permission): try again later, never guess. The
 * pool itself not existing is a misconfiguration no wait will mend: kept for an operator.
 * AdminGetUser and ListUsers answer ResourceNotFoundException when "the Amazon Cognito service
 * can't find the requested resource" (Amazon Cognito API Reference, AdminGetUser and ListUsers,
 * Errors); a user it cannot find is UserNotFoundException, never this.
 */
export const cognitoFailure = <K>(error: unknown, keys: K): CognitoFailure<K> => {
  if (errorCode(error) === 'ResourceNotFoundException')
    return { outcome: 'dead-lettered', reason: 'pool-not-found', keys };
  return { outcome: 'deferred', reason: `cognito-${failureCode(error).replace(/^error-/, '')}`, keys };
};
