// replay's two ways to move dead letters, against the SQS API as aws-sdk-client-mock plays it
// (moto, in the AWS tier, has no message move tasks: the one-by-one way is proven there).

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { fallbackReasonOf, moveDeadLetters } from '../../src/clients/dead-letters.js';

const sqs = mockClient(SQSClient);
const from = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq';
const to = 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry';

describe('moveDeadLetters', () => {
  beforeEach(() => {
    sqs.reset();
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: from })
      .resolves({ Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq' } })
      .on(GetQueueAttributesCommand, { QueueUrl: to })
      .resolves({ Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:retry' } });
  });

  it('moves everything with a message move task, and waits for it to finish', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({
        Results: [
          { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 7 },
        ],
      })
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 7 }] });

    const progress: [number, number | undefined][] = [];

    await expect(
      moveDeadLetters(sqs as unknown as SQSClient, {
        from,
        to,
        pollMs: 0,
        onProgress: (moved, total) => progress.push([moved, total]),
      }),
    ).resolves.toEqual({
      moved: 7,
      method: 'message-move-task',
    });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq',
      DestinationArn: 'arn:aws:sqs:eu-west-1:123456789012:retry',
    });
    expect(progress).toEqual([[3, 7]]);
  });

  it('reports a move task that failed, rather than moving one by one behind its back', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolves({ Results: [{ Status: 'FAILED', FailureReason: 'AccessDenied' }] });

    await expect(moveDeadLetters(sqs as unknown as SQSClient, { from, to })).rejects.toThrow(
      'the message move task ended FAILED: AccessDenied',
    );
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('falls back to one by one when the endpoint has no move tasks, deleting only what was sent', async () => {
    sqs
      .on(StartMessageMoveTaskCommand)
      .rejects(Object.assign(new Error('not implemented'), { name: 'UnsupportedOperation' }));
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'a',
            ReceiptHandle: 'ra',
            Body: 'A',
            MessageAttributes: { reason: { DataType: 'String', StringValue: 'http-422' } },
          },
          { MessageId: 'b', ReceiptHandle: 'rb', Body: 'B' },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'x', MD5OfMessageBody: '' }],
      Failed: [{ Id: '1', Code: 'x', SenderFault: false }],
    });
    sqs.on(DeleteMessageBatchCommand).resolves({});
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});

    const result = await moveDeadLetters(sqs as unknown as SQSClient, { from, to });

    expect(result).toEqual({
      moved: 1,
      method: 'one-by-one',
      fallbackReason: 'this SQS endpoint offers no message move tasks',
      reasons: { 'http-422': 1, none: 1 },
    });
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries).toEqual([
      {
        Id: '0',
        MessageBody: 'A',
        MessageAttributes: { reason: { DataType: 'String', StringValue: 'http-422' } },
      },
      { Id: '1', MessageBody: 'B' },
    ]);
    expect(sqs.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'ra' },
    ]);
    // B, not sent, is shown again when the read ends.
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0]?.args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'rb', VisibilityTimeout: 0 },
    ]);
  });

  const message = (id: string, reason?: string) => ({
    MessageId: id,
    ReceiptHandle: `r${id}`,
    Body: id,
    ...(reason && { MessageAttributes: { reason: { DataType: 'String' as const, StringValue: reason } } }),
  });

  it('a dry run counts the dead letters by reason, shows each again when the read ends, and moves nothing', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('a', 'http-422'), message('b', 'http-422'), message('c')] })
      .resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});

    const result = await moveDeadLetters(sqs as unknown as SQSClient, { from, to, dryRun: true });

    expect(result).toEqual({ moved: 0, method: 'dry-run', reasons: { 'http-422': 2, none: 1 } });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0]?.args[0].input.Entries).toHaveLength(3);
  });

  it('--reason moves only the messages of that reason, and shows the others again when the read ends', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('a', 'http-422'), message('b', 'http-409')] })
      .resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: '0', MessageId: 'x', MD5OfMessageBody: '' }] });
    sqs.on(DeleteMessageBatchCommand).resolves({});

    const result = await moveDeadLetters(sqs as unknown as SQSClient, { from, to, reason: 'http-422' });

    expect(result).toEqual({ moved: 1, method: 'one-by-one', reasons: { 'http-422': 1, 'http-409': 1 } });
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries).toEqual([
      {
        Id: '0',
        MessageBody: 'a',
        MessageAttributes: { reason: { DataType: 'String', StringValue: 'http-422' } },
      },
    ]);
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0]?.args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'rb', VisibilityTimeout: 0 },
    ]);
  });

  it('ends when what it moves comes back to the dead-letter queue (its cause not fixed), and says how many did', async () => {
    // The worker dead-letters each user it is given again at once: the same body, a new MessageId.
    let waiting = 1;
    let receives = 0;
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      receives++;
      if (receives > 100) throw new Error(`still going after ${receives - 1} receives`);
      if (waiting === 0) return { Messages: [] };
      waiting--;
      return {
        Messages: [
          { ...message('same user', 'http-422'), MessageId: `m-${receives}`, ReceiptHandle: `r-${receives}` },
        ],
      };
    });
    sqs.on(SendMessageBatchCommand).callsFake(async ({ Entries = [] }) => {
      waiting += Entries.length;
      return {
        Successful: Entries.map(({ Id }: { Id: string }) => ({ Id, MessageId: 'x', MD5OfMessageBody: '' })),
      };
    });
    sqs.on(DeleteMessageBatchCommand).resolves({});
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});

    const result = await moveDeadLetters(sqs as unknown as SQSClient, { from, to, reason: 'http-422' });

    expect(result).toMatchObject({ moved: 1, method: 'one-by-one', cameBack: 1 });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it.each([
    [
      { name: 'AccessDeniedException', message: 'not authorized to perform sqs:StartMessageMoveTask' },
      /^not allowed to start a message move task/,
    ],
    [
      { name: 'SyntaxError', message: 'Unexpected token <' },
      /^this SQS endpoint offers no message move tasks$/,
    ],
    [
      { name: 'InvalidParameterValue', message: 'Source queue must be configured as a Dead Letter Queue.' },
      /no dead-letter queue of the target/,
    ],
  ])('says plainly why it fell back: %j', (error, reason) => {
    expect(fallbackReasonOf(Object.assign(new Error(error.message), { name: error.name }))).toMatch(reason);
  });
});
