// One retry-queue message, one more try: send the stored body with the same idempotency key,
// then say what becomes of the message: done, dead-lettered, or deferred by the backoff schedule.

import type { RetryQueueOps } from '../clients/user-queue.js';
import type { CreateUserResult, Credentials, UserServiceClient } from '../clients/user-service.js';
import { retryDelaySeconds } from './backoff.js';
import type { Deadline } from './deadline.js';
import { errorCode } from './sync-user.js';
import { MalformedMessageError, parseUnsyncedUser } from './unsynced-user.js';

export interface QueueRecord {
  messageId: string;
  body: string;
  receiptHandle: string;
  /** How many times SQS has delivered this message, this delivery included. */
  receiveCount: number;
}

export type RetryDisposition = 'succeeded' | 'deferred' | 'dead-lettered';

export interface RetryReport {
  disposition: RetryDisposition;
  reason: string;
  userPoolId?: string;
  cognitoSub?: string;
  /** The invisibility given to a deferred message. */
  delaySeconds?: number;
  /** Why the deferral failed, if it did: the queue's own visibility timeout then applies. */
  deferFailure?: string;
  result?: CreateUserResult;
}

export interface RetryDeps {
  userService: UserServiceClient;
  credentials: Credentials;
  deadline: Deadline;
  queue: RetryQueueOps;
  random?: () => number;
}

export const retryRecord = async (record: QueueRecord, deps: RetryDeps): Promise<RetryReport> => {
  let message: ReturnType<typeof parseUnsyncedUser>;
  try {
    message = parseUnsyncedUser(record.body);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    // Round and round it would go: straight to the dead-letter queue, the problem attached.
    await deps.queue.deadLetter(record.body, 'malformed-message', error.message);
    return { disposition: 'dead-lettered', reason: 'malformed-message' };
  }
  const keys = { userPoolId: message.userPoolId, cognitoSub: message.body.cognitoSub };

  const result = await deps.userService.createUser(message.body, {
    idempotencyKey: message.idempotencyKey,
    credentials: deps.credentials,
    deadline: deps.deadline,
    retryLimit: 2,
  });
  switch (result.outcome) {
    case 'created':
    case 'exists':
      return { disposition: 'succeeded', reason: result.reason, result, ...keys };
    case 'rejected':
    case 'redirect':
      await deps.queue.deadLetter(record.body, result.reason, result.detail);
      return { disposition: 'dead-lettered', reason: result.reason, result, ...keys };
    case 'transient':
    case 'unauthorized':
      return { ...(await deferRecord(record, result.reason, deps)), result, ...keys };
  }
};

/** Hides a message for the next step of the backoff schedule; SQS brings it back then. */
export const deferRecord = async (
  record: QueueRecord,
  reason: string,
  deps: Pick<RetryDeps, 'queue' | 'random'>,
): Promise<RetryReport> => {
  const delaySeconds = retryDelaySeconds(record.receiveCount, deps.random);
  const deferFailure = await deps.queue.defer(record.receiptHandle, delaySeconds).then(
    () => undefined,
    (error: unknown) => errorCode(error),
  );
  return { disposition: 'deferred', reason, delaySeconds, ...(deferFailure && { deferFailure }) };
};
