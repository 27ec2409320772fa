// replay's two ways to move dead letters, against the SQS API as aws-sdk-client-mock plays it
// (moto, in the AWS tier, has no message move tasks: the one-by-one way is proven there).

import {
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
import { moveDeadLetters } from '../../src/clients/dead-letters.js';

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
      .resolvesOnce({ Results: [{ Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 3 }] })
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 7 }] });

    await expect(moveDeadLetters(sqs as unknown as SQSClient, { from, to })).resolves.toEqual({
      moved: 7,
      method: 'message-move-task',
    });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq',
      DestinationArn: 'arn:aws:sqs:eu-west-1:123456789012:retry',
    });
  }, 10_000);

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

    const result = await moveDeadLetters(sqs as unknown as SQSClient, { from, to });

    expect(result).toEqual({ moved: 1, method: 'one-by-one', fallbackReason: 'UnsupportedOperation' });
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
  });
});
