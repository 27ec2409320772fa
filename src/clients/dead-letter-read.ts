// Reading a dead-letter queue without taking its messages, for `status` and `replay`. Each message
// read stays hidden until the whole read ends, so that the next receive brings messages not read
// yet rather than the same ten again; then every message still held is shown again at once.
// A queue that redrives is never read: each receive counts toward its maxReceiveCount, and would
// move the messages of a live queue closer to its own dead-letter queue.
//
// SQS facts (Amazon SQS Developer Guide, "Amazon SQS visibility timeout" and "Amazon SQS message
// quotas"): a received message stays hidden for the VisibilityTimeout the receive asks (at most
// 12 hours), ChangeMessageVisibility with 0 shows it again at once, and a standard queue holds at
// most about 120,000 messages in flight: a read holds fewer than that.

import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageSystemAttributeName,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ConfigError } from '../errors.js';

/** Most messages a read holds at once: below a standard queue's 120,000 in flight, with room for the workers'. */
const MAX_HELD = 100_000;

/**
 * Refuses a queue with a redrive policy: it is no dead-letter queue (or one that redrives on), and
 * reading it would count toward its maxReceiveCount. `source` names where its URL came from.
 */
export const refuseRedrivingQueue = async (sqs: SQSClient, QueueUrl: string, source: string) => {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  if (!Attributes.RedrivePolicy) return;
  let maxReceiveCount: unknown;
  try {
    maxReceiveCount = (JSON.parse(Attributes.RedrivePolicy) as { maxReceiveCount?: unknown }).maxReceiveCount;
  } catch {
    // Its words are SQS's; the count only makes the message plainer.
  }
  throw new ConfigError(
    source,
    `names a queue that redrives to a dead-letter queue${maxReceiveCount === undefined ? '' : ` after ${maxReceiveCount} receives`}: it is not read, because each receive would move its messages closer to that queue. Give the dead-letter queue's URL.`,
  );
};

export interface HeldRead {
  /** The next messages not read before in this read; undefined once the queue has nothing new. */
  next(): Promise<Message[] | undefined>;
  /** These left the queue (deleted): they are not shown again at the end. */
  taken(messages: readonly Message[]): void;
  /** True when the read stopped before the queue was surely read through: at its limit, or as holds ran out. */
  readonly incomplete: boolean;
  /** Shows every message still held again at once; how many could not be (they show again when their hold ends). */
  release(): Promise<number>;
}

export interface HeldReadOptions {
  /** How long each message read stays hidden at most, should the read never end (a killed process). */
  holdSeconds: number;
  /** Most messages read in all. */
  maxRead?: number;
  messageAttributeNames?: string[];
  systemAttributeNames?: MessageSystemAttributeName[];
  /** Ends the read between two receives (Ctrl-C): what is held is then shown again by release(). */
  signal?: AbortSignal | undefined;
}

/**
 * A read of the queue that holds what it reads. It ends after two receives in a row that bring
 * nothing new (long polling asks every SQS server, so an empty answer means an empty queue, not an
 * unlucky server), or at `maxRead`. Receives that bring only messages read before (their hold ran
 * out while the read went on) end it too, marked incomplete: more may be left unread; so does the
 * signal.
 */
export const holdingRead = (
  sqs: SQSClient,
  QueueUrl: string,
  {
    holdSeconds,
    maxRead = MAX_HELD,
    messageAttributeNames = ['All'],
    systemAttributeNames = [],
    signal,
  }: HeldReadOptions,
): HeldRead => {
  /** MessageId → the latest receipt handle: a handle from an earlier receive no longer works. */
  const held = new Map<string, string>();
  const seen = new Set<string>();
  const limit = Math.min(maxRead, MAX_HELD);
  let quiet = 0;
  let cameAgain = false;
  return {
    get incomplete() {
      return seen.size >= limit || cameAgain || signal?.aborted === true;
    },
    async next() {
      while (quiet < 2 && seen.size < limit && !signal?.aborted) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: Math.min(10, limit - seen.size),
            VisibilityTimeout: holdSeconds,
            WaitTimeSeconds: 1,
            MessageAttributeNames: messageAttributeNames,
            ...(systemAttributeNames.length > 0 && { MessageSystemAttributeNames: systemAttributeNames }),
          }),
        );
        const fresh: Message[] = [];
        for (const message of Messages) {
          if (!message.MessageId || !message.ReceiptHandle) continue;
          held.set(message.MessageId, message.ReceiptHandle);
          if (seen.has(message.MessageId)) continue;
          seen.add(message.MessageId);
          fresh.push(message);
        }
        if (fresh.length > 0) {
          quiet = 0;
          return fresh;
        }
        quiet++;
        if (Messages.length > 0) cameAgain = true;
      }
      return undefined;
    },
    taken(messages) {
      for (const message of messages) if (message.MessageId) held.delete(message.MessageId);
    },
    async release() {
      const handles = [...held.values()];
      held.clear();
      let failed = 0;
      for (let start = 0; start < handles.length; start += 10) {
        const batch = handles.slice(start, start + 10);
        try {
          const { Failed = [] } = await sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl,
              Entries: batch.map((ReceiptHandle, index) => ({
                Id: String(index),
                ReceiptHandle,
                VisibilityTimeout: 0,
              })),
            }),
          );
          failed += Failed.length;
        } catch {
          failed += batch.length;
        }
      }
      return failed;
    },
  };
};
