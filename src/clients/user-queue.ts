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
import type { RetryMessage } from '../domain/retry-message.js';

export type QueueName = 'retry' | 'dead-letter';

export interface UserQueue {
  /**
   * Sends the message to the dead-letter queue when `deadLetter` is asked for and one is
   * configured, else to the retry queue; resolves with the queue it went to.
   */
  send(message: RetryMessage, options: { deadLetter: boolean; signal?: AbortSignal }): Promise<QueueName>;
}

// What SQS accepts as text, from the SendMessage API reference: "#x9 | #xA | #xD | #x20 to
// #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. If a message contains characters outside
// this range, it is rejected." String message attribute values follow the same rule.
const NOT_SQS_TEXT = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text SQS accepts: each character it would refuse replaced by U+FFFD. */
export const sqsText = (text: string): string => text.replace(NOT_SQS_TEXT, '\uFFFD');

/**
 * JSON SQS accepts, that parses back to exactly `value`: JSON.stringify escapes control characters
 * and lone surrogates already; the two noncharacters it leaves (U+FFFE, U+FFFF) are escaped here.
 */
export const sqsJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);

/** Message attributes saying why a message is where it is; `detail` may hold PII (SQS is encrypted). */
export const reasonAttributes = (reason: string, detail?: string): Record<string, MessageAttributeValue> => ({
  reason: { DataType: 'String', StringValue: sqsText(reason) },
  ...(detail && { detail: { DataType: 'String', StringValue: sqsText(detail) } }),
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
          MessageBody: sqsJson(message),
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
