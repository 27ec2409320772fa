// The user queue and the retry worker's queue operations against the SQS API as
// aws-sdk-client-mock plays it: which queue, which body, which attributes.

import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createRetryQueueOps, createUserQueue } from '../../src/clients/user-queue.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import type { RetryMessage } from '../../src/domain/retry-message.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { isRecord } from '../../src/guards.js';
import { DEAD_LETTER_QUEUE_URL, RETRY_QUEUE_URL } from '../helpers/aws-mocks.js';

const sqs = mockClient(SQSClient);

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const message: RetryMessage = {
  version: 1,
  idempotencyKey: idempotencyKey(POOL, SUB),
  userPoolId: POOL,
  triggerSource: 'PostConfirmation_ConfirmSignUp',
  body: toUserRecord(
    SUB,
    { email: 'ada.lovelace@example.com', name: 'Ada Lovelace' },
    { status: 'ACTIVE', role: 'USER' },
  ),
  reason: 'http-503',
  detail: '{"error":"unavailable"}',
  attempts: 3,
  firstFailedAt: '2026-11-26T10:00:00.000Z',
};

/** The SQS client factory, counting the clients it was asked for. */
const clientFactory = () => {
  let made = 0;
  const client = new SQSClient({ region: 'eu-west-1' });
  return {
    client: () => {
      made += 1;
      return client;
    },
    made: () => made,
  };
};

const sent = () =>
  sqs.commandCalls(SendMessageCommand).map((call) => {
    // The tuple is typed with the command alone; the options ride second.
    const args: readonly unknown[] = call.args;
    const options = args[1];
    return {
      input: call.args[0].input,
      abortSignal: isRecord(options) ? options.abortSignal : undefined,
    };
  });

describe('createUserQueue', () => {
  beforeEach(() => {
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'message-1' });
  });

  it('is undefined when neither queue is configured, and makes no client', () => {
    const factory = clientFactory();

    const queue = createUserQueue(factory.client, {
      retryQueueUrl: undefined,
      deadLetterQueueUrl: undefined,
    });

    expect(queue).toBeUndefined();
    expect(factory.made()).toBe(0);
  });

  it('makes no SQS client until the first send', async () => {
    const factory = clientFactory();

    const queue = createUserQueue(factory.client, {
      retryQueueUrl: RETRY_QUEUE_URL,
      deadLetterQueueUrl: undefined,
    });
    const madeBeforeSend = factory.made();
    await queue?.send(message, { deadLetter: false });

    expect(madeBeforeSend).toBe(0);
    expect(factory.made()).toBe(1);
  });

  it.each([
    { retry: RETRY_QUEUE_URL, deadLetterQueue: undefined, deadLetter: false, to: 'retry' },
    { retry: RETRY_QUEUE_URL, deadLetterQueue: undefined, deadLetter: true, to: 'retry' },
    { retry: RETRY_QUEUE_URL, deadLetterQueue: DEAD_LETTER_QUEUE_URL, deadLetter: false, to: 'retry' },
    { retry: RETRY_QUEUE_URL, deadLetterQueue: DEAD_LETTER_QUEUE_URL, deadLetter: true, to: 'dead-letter' },
    { retry: undefined, deadLetterQueue: DEAD_LETTER_QUEUE_URL, deadLetter: false, to: 'dead-letter' },
    { retry: undefined, deadLetterQueue: DEAD_LETTER_QUEUE_URL, deadLetter: true, to: 'dead-letter' },
  ] as const)(
    'sends to the $to queue with retry $retry, dead-letter $deadLetterQueue, deadLetter $deadLetter',
    async ({ retry, deadLetterQueue, deadLetter, to }) => {
      const queue = createUserQueue(clientFactory().client, {
        retryQueueUrl: retry,
        deadLetterQueueUrl: deadLetterQueue,
      });

      const sentTo = await queue?.send(message, { deadLetter });

      expect(sentTo).toBe(to);
      expect(sent().map(({ input }) => input.QueueUrl)).toEqual([
        to === 'retry' ? RETRY_QUEUE_URL : DEAD_LETTER_QUEUE_URL,
      ]);
    },
  );

  it('sends the message as its JSON, with the reason as a message attribute', async () => {
    const queue = createUserQueue(clientFactory().client, {
      retryQueueUrl: RETRY_QUEUE_URL,
      deadLetterQueueUrl: DEAD_LETTER_QUEUE_URL,
    });

    await queue?.send(message, { deadLetter: false });

    const [send] = sent();
    expect(JSON.parse(send?.input.MessageBody ?? 'null')).toEqual(message);
    expect(send?.input.MessageBody).toBe(JSON.stringify(message));
    expect(send?.input.MessageAttributes).toEqual({
      reason: { DataType: 'String', StringValue: 'http-503' },
    });
  });

  it('sends text SQS accepts that parses back to exactly the message, noncharacters included', async () => {
    const queue = createUserQueue(clientFactory().client, {
      retryQueueUrl: RETRY_QUEUE_URL,
      deadLetterQueueUrl: undefined,
    });
    const odd: RetryMessage = { ...message, body: { ...message.body, fullName: 'Ada\uFFFF\uFFFE Lovelace' } };

    await queue?.send(odd, { deadLetter: false });

    const body = sent()[0]?.input.MessageBody ?? '';
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(body)).toEqual(odd);
  });

  it('passes the abort signal on to the SDK, and none when it is given none', async () => {
    const queue = createUserQueue(clientFactory().client, {
      retryQueueUrl: RETRY_QUEUE_URL,
      deadLetterQueueUrl: undefined,
    });
    const signal = new AbortController().signal;

    await queue?.send(message, { deadLetter: false, signal });
    await queue?.send(message, { deadLetter: false });

    expect(sent().map(({ abortSignal }) => abortSignal)).toEqual([signal, undefined]);
  });

  it('rejects when SQS refuses the message', async () => {
    sqs
      .on(SendMessageCommand)
      .rejects(Object.assign(new Error('no such queue'), { name: 'QueueDoesNotExist' }));
    const queue = createUserQueue(clientFactory().client, {
      retryQueueUrl: RETRY_QUEUE_URL,
      deadLetterQueueUrl: undefined,
    });

    await expect(queue?.send(message, { deadLetter: false })).rejects.toThrow('no such queue');
  });
});

describe('createRetryQueueOps', () => {
  const queues = { retryQueueUrl: RETRY_QUEUE_URL, deadLetterQueueUrl: DEAD_LETTER_QUEUE_URL };
  const storedBody = JSON.stringify(message);

  beforeEach(() => {
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'message-2' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
  });

  it('dead-letters the body unchanged to the dead-letter queue, with the reason and detail attributes', async () => {
    const ops = createRetryQueueOps(clientFactory().client, queues);

    await ops.deadLetter(storedBody, 'http-422', '{"error":"email is invalid"}');

    expect(sent().map(({ input }) => input)).toEqual([
      {
        QueueUrl: DEAD_LETTER_QUEUE_URL,
        MessageBody: storedBody,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: 'http-422' },
          detail: { DataType: 'String', StringValue: '{"error":"email is invalid"}' },
        },
      },
    ]);
  });

  it('replaces the characters SQS refuses in the reason and detail attributes', async () => {
    const ops = createRetryQueueOps(clientFactory().client, queues);

    await ops.deadLetter(storedBody, 'http-422', 'null\u0000byte and \uFFFF');

    expect(sent()[0]?.input.MessageAttributes?.detail).toEqual({
      DataType: 'String',
      StringValue: 'null\uFFFDbyte and \uFFFD',
    });
  });

  it('leaves the detail attribute out when there is no detail', async () => {
    const ops = createRetryQueueOps(clientFactory().client, queues);

    await ops.deadLetter('not json at all', 'malformed-message');

    expect(sent().map(({ input }) => input)).toEqual([
      {
        QueueUrl: DEAD_LETTER_QUEUE_URL,
        MessageBody: 'not json at all',
        MessageAttributes: { reason: { DataType: 'String', StringValue: 'malformed-message' } },
      },
    ]);
  });

  it('defers with ChangeMessageVisibility on the retry queue, for the receipt handle and the seconds', async () => {
    const ops = createRetryQueueOps(clientFactory().client, queues);

    await ops.defer('receipt-1', 315);

    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: RETRY_QUEUE_URL, ReceiptHandle: 'receipt-1', VisibilityTimeout: 315 },
    ]);
    expect(sent()).toEqual([]);
  });

  it('rejects when ChangeMessageVisibility fails', async () => {
    sqs
      .on(ChangeMessageVisibilityCommand)
      .rejects(Object.assign(new Error('expired'), { name: 'ReceiptHandleIsInvalid' }));
    const ops = createRetryQueueOps(clientFactory().client, queues);

    await expect(ops.defer('receipt-1', 60)).rejects.toThrow('expired');
  });
});
