// Where unsynced users wait: the retry queue, or the dead-letter queue for a payload the User
// Service refused outright. Both are SQS queues; the message body is a RetryMessage as JSON and
// a `reason` message attribute says why it is there.

import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueueConfig } from '../config.js';
import type { RetryMessage } from '../core/retry-message.js';

export type QueueName = 'retry' | 'dead-letter';

export interface UserQueue {
  /**
   * Sends the message to the dead-letter queue when `deadLetter` is asked for and one is
   * configured, else to the retry queue; resolves with the queue it went to.
   */
  send(message: RetryMessage, options: { deadLetter: boolean; signal?: AbortSignal }): Promise<QueueName>;
}

/** Message attributes saying why a message is where it is; `detail` may hold PII (SQS is encrypted). */
export const reasonAttributes = (reason: string, detail?: string): Record<string, MessageAttributeValue> => ({
  reason: { DataType: 'String', StringValue: reason },
  ...(detail && { detail: { DataType: 'String', StringValue: detail } }),
});

/** `client` is called at the first send only: no SQS client is made for a user that syncs. */
export const createUserQueue = (client: () => SQSClient, config: QueueConfig): UserQueue | undefined => {
  const { retryQueueUrl, deadLetterQueueUrl } = config;
  if (retryQueueUrl === undefined && deadLetterQueueUrl === undefined) return undefined;

  return {
    async send(message, { deadLetter, signal }) {
      const queue: QueueName =
        (deadLetter && deadLetterQueueUrl) || retryQueueUrl === undefined ? 'dead-letter' : 'retry';
      await client().send(
        new SendMessageCommand({
          QueueUrl: queue === 'dead-letter' ? deadLetterQueueUrl : retryQueueUrl,
          MessageBody: JSON.stringify(message),
          MessageAttributes: reasonAttributes(message.reason),
        }),
        signal ? { abortSignal: signal } : {},
      );
      return queue;
    },
  };
};

export interface RetryQueueOps {
  /** Moves a message's body, unchanged, to the dead-letter queue, with the reason. */
  deadLetter(body: string, reason: string, detail?: string): Promise<void>;
  /** Keeps a message invisible on the retry queue for `seconds`: the backoff. */
  defer(receiptHandle: string, seconds: number): Promise<void>;
}

export const createRetryQueueOps = (
  client: () => SQSClient,
  { retryQueueUrl, deadLetterQueueUrl }: { retryQueueUrl: string; deadLetterQueueUrl: string },
): RetryQueueOps => ({
  async deadLetter(body, reason, detail) {
    await client().send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: body,
        MessageAttributes: reasonAttributes(reason, detail),
      }),
    );
  },
  async defer(receiptHandle, seconds) {
    await client().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: retryQueueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  },
});
