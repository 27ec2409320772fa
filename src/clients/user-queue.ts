// Where unsynced users wait: the retry queue, or the dead-letter queue for a payload the User
// Service refused outright. Both are SQS queues; the message is an UnsyncedUser as JSON.

import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueConfig } from '../config.js';
import type { UnsyncedUser } from '../core/unsynced-user.js';

export type QueueName = 'retry' | 'dead-letter';

export interface UserQueue {
  /**
   * Sends the message to the dead-letter queue when `deadLetter` is asked for and one is
   * configured, else to the retry queue; resolves with the queue it went to.
   */
  send(message: UnsyncedUser, options: { deadLetter: boolean; signal?: AbortSignal }): Promise<QueueName>;
}

/** `client` is called at the first send only: no SQS client is made for a user that syncs. */
export const createUserQueue = (client: () => SQSClient, config: QueueConfig): UserQueue | undefined => {
  const { retryQueueUrl, deadLetterQueueUrl } = config;
  if (retryQueueUrl === undefined && deadLetterQueueUrl === undefined) return undefined;

  return {
    async send(message, { deadLetter, signal }) {
      const queue: QueueName =
        (deadLetter && deadLetterQueueUrl) || retryQueueUrl === undefined ? 'dead-letter' : 'retry';
      const QueueUrl = queue === 'dead-letter' ? deadLetterQueueUrl : retryQueueUrl;
      await client().send(
        new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(message) }),
        signal ? { abortSignal: signal } : {},
      );
      return queue;
    },
  };
};
