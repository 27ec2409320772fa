// Reading a dead-letter queue without taking its messages: each stays hidden until the read ends
// (so the next receive brings new ones), then all are shown again with their latest receipt
// handle; a queue that redrives is refused before one receive.

import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { holdingRead, refuseRedrivingQueue } from '../../src/clients/dead-letter-read.js';
import { ConfigError } from '../../src/errors.js';

const sqs = mockClient(SQSClient);
const client = sqs as unknown as SQSClient;
const QueueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq';
const message = (id: string, handle = `r-${id}`) => ({ MessageId: id, ReceiptHandle: handle, Body: id });

const readAll = async (read: ReturnType<typeof holdingRead>) => {
  const ids: string[] = [];
  for (let batch = await read.next(); batch; batch = await read.next()) {
    ids.push(...batch.map((each) => each.MessageId ?? ''));
  }
  return ids;
};

describe('holdingRead', () => {
  beforeEach(() => {
    sqs.reset();
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
  });

  it('asks SQS to hold each message for the read, and ends after two empty receives', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('a'), message('b')] })
      .resolvesOnce({ Messages: [message('c')] })
      .resolves({ Messages: [] });
    const read = holdingRead(client, QueueUrl, { holdSeconds: 900 });

    expect(await readAll(read)).toEqual(['a', 'b', 'c']);
    expect(read.incomplete).toBe(false);
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(4);
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toMatchObject({
      VisibilityTimeout: 900,
      WaitTimeSeconds: 1,
      MaxNumberOfMessages: 10,
    });
    // Nothing shown again while the read goes on.
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(0);
  });

  it('shows every message not taken again at once, ten to a call, with its latest receipt handle', async () => {
    const first = Array.from({ length: 10 }, (_, index) => message(`m${index}`));
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: first })
      // m0's hold ran out and it came back under a new handle, with m10.
      .resolvesOnce({ Messages: [message('m0', 'r-m0-again'), message('m10')] })
      .resolves({ Messages: [] });
    const read = holdingRead(client, QueueUrl, { holdSeconds: 60 });

    expect(await readAll(read)).toHaveLength(11);
    read.taken([message('m5')]);
    expect(await read.release()).toBe(0);

    const released = sqs
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .map((call) =>
        call.args[0].input.Entries?.map((entry) => [entry.ReceiptHandle, entry.VisibilityTimeout]),
      );
    expect(released.map((entries) => entries?.length)).toEqual([10]);
    expect(released.flat()).toContainEqual(['r-m0-again', 0]);
    expect(released.flat()).not.toContainEqual(['r-m0', 0]);
    expect(released.flat()).not.toContainEqual(['r-m5', 0]);
  });

  it('ends when receives bring only messages read before, and says it may be incomplete', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('a')] })
      .resolves({ Messages: [message('a', 'r-a-2')] });
    const read = holdingRead(client, QueueUrl, { holdSeconds: 60 });

    expect(await readAll(read)).toEqual(['a']);
    expect(read.incomplete).toBe(true);
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(3);
  });

  it('stops at maxRead, asking no more than it may read', async () => {
    sqs.on(ReceiveMessageCommand).callsFake(async ({ MaxNumberOfMessages = 10 }) => ({
      Messages: Array.from({ length: MaxNumberOfMessages }, () => message(crypto.randomUUID())),
    }));
    const read = holdingRead(client, QueueUrl, { holdSeconds: 60, maxRead: 25 });

    expect(await readAll(read)).toHaveLength(25);
    expect(read.incomplete).toBe(true);
    expect(
      sqs.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input.MaxNumberOfMessages),
    ).toEqual([10, 10, 5]);
  });

  it('counts the messages it could not show again', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('a'), message('b'), message('c')] })
      .resolves({ Messages: [] });
    sqs
      .on(ChangeMessageVisibilityBatchCommand)
      .resolves({ Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] });
    const read = holdingRead(client, QueueUrl, { holdSeconds: 60 });
    await readAll(read);

    expect(await read.release()).toBe(1);
  });
});

describe('refuseRedrivingQueue', () => {
  beforeEach(() => sqs.reset());

  it('lets a queue without a redrive policy be read', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });

    await expect(refuseRedrivingQueue(client, QueueUrl, 'DEAD_LETTER_QUEUE_URL')).resolves.toBeUndefined();
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]?.args[0].input.AttributeNames).toEqual([
      'RedrivePolicy',
    ]);
  });

  it('refuses a queue that redrives, naming where its URL came from and its maxReceiveCount', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq',
          maxReceiveCount: 12,
        }),
      },
    });

    const refusal = refuseRedrivingQueue(client, QueueUrl, '--dead-letter-queue-url');

    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    await expect(refusal).rejects.toThrow(
      /^--dead-letter-queue-url names a queue that redrives to a dead-letter queue after 12 receives/,
    );
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });
});
