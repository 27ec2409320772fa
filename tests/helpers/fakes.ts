// Plain-object stand-ins for the User Service client and the user queue, for the unit tests of the
// core: each answers as the test says and keeps what it was asked.

import type { QueueName, UserQueue } from '../../src/clients/user-queue.js';
import type { UserServiceClient, WriteFailure } from '../../src/clients/user-service.js';
import type { UserRecord } from '../../src/domain/contract.js';
import type { RetryMessage } from '../../src/domain/retry-message.js';

export type CreateUserOptions = Parameters<UserServiceClient['createUser']>[1];
export type CreateUserResult = Awaited<ReturnType<UserServiceClient['createUser']>>;

/** What a User Service call measured, for the results the fakes give: three attempts. */
export const MEASURED = { attempts: 3, attemptLatenciesMs: [120, 80, 95], durationMs: 640 };

/** A createUser result that is not done: why, with the measurements. */
export const failedWrite = (
  failure: WriteFailure,
  reason: string,
  extra: { httpStatus?: number; detail?: string } = {},
): CreateUserResult => ({ failure, reason, ...MEASURED, ...extra });

const unexpected = (what: string) => () => Promise.reject(new Error(`${what} was not expected`));

/** A User Service client whose every createUser answers `result`; any other call fails the test. */
export const fakeUserService = (result: CreateUserResult) => {
  const calls: { body: UserRecord; options: CreateUserOptions }[] = [];
  const client: UserServiceClient = {
    createUser: async (body, options) => {
      calls.push({ body, options });
      return result;
    },
    patchUser: unexpected('patchUser'),
    deleteUser: unexpected('deleteUser'),
    listUsers: unexpected('listUsers'),
  };
  return { client, calls };
};

export interface QueueSend {
  message: RetryMessage;
  deadLetter: boolean;
  signal: AbortSignal | undefined;
}

const takeEverything = async (send: QueueSend): Promise<QueueName> =>
  send.deadLetter ? 'dead-letter' : 'retry';

/**
 * A queue that takes every message (or answers as `answer` says), and the lookup that hands it
 * out, counting how often it was looked up.
 */
export const fakeQueue = (answer: (send: QueueSend) => Promise<QueueName> = takeEverything) => {
  const sends: QueueSend[] = [];
  const queue: UserQueue = {
    send: (message, { deadLetter, signal }) => {
      const send = { message, deadLetter, signal };
      sends.push(send);
      return answer(send);
    },
  };
  let lookups = 0;
  const lookup = (): UserQueue => {
    lookups += 1;
    return queue;
  };
  return { lookup, sends, lookups: () => lookups };
};
