// Moves dead-lettered messages back to the retry queue, bodies and attributes unchanged: with an
// SQS message move task where the API offers one, message by message otherwise (or when only
// some messages are to move).

import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

export interface MoveResult {
  moved: number;
  method: 'message-move-task' | 'one-by-one';
  /** Why the move task was not used, when it was not. */
  fallbackReason?: string;
}

export interface MoveOptions {
  from: string;
  to: string;
  /** Move at most this many (message by message). */
  max?: number;
  /** How long to wait for a move task to finish. */
  timeoutMs?: number;
}

const queueArn = async (client: SQSClient, QueueUrl: string): Promise<string> => {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  if (!Attributes?.QueueArn) throw new Error(`no ARN for ${QueueUrl}`);
  return Attributes.QueueArn;
};

/** Starts a move task; undefined when this endpoint or queue cannot have one (then: one by one). */
const startMoveTask = async (client: SQSClient, { from, to }: MoveOptions) => {
  const [SourceArn, DestinationArn] = await Promise.all([queueArn(client, from), queueArn(client, to)]);
  try {
    await client.send(new StartMessageMoveTaskCommand({ SourceArn, DestinationArn }));
    return SourceArn;
  } catch (error) {
    // Not every endpoint has move tasks (emulators, some partitions), and a queue that is no
    // queue's dead-letter target cannot be a task's source.
    return { unavailable: (error as { name?: string }).name ?? 'Error' };
  }
};

/** Waits for the task on `SourceArn` (one runs per queue at a time) and says how many it moved. */
const awaitMoveTask = async (client: SQSClient, SourceArn: string, timeoutMs = 600_000): Promise<number> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { Results = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn, MaxResults: 1 }));
    const task = Results[0];
    if (task?.Status === 'COMPLETED') return task.ApproximateNumberOfMessagesMoved ?? 0;
    if (task?.Status === 'FAILED' || task?.Status === 'CANCELLED') {
      throw new Error(
        `the message move task ended ${task.Status}: ${task.FailureReason ?? 'no reason given'}`,
      );
    }
    if (Date.now() > until) {
      throw new Error('the message move task is still running; follow it in the SQS console');
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
};

const moveOneByOne = async (client: SQSClient, { from, to, max = Number.POSITIVE_INFINITY }: MoveOptions) => {
  let moved = 0;
  let empty = 0;
  while (moved < max && empty < 2) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: from,
        MaxNumberOfMessages: Math.min(10, max - moved),
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    const { Successful = [] } = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: to,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          MessageBody: message.Body ?? '',
          ...(message.MessageAttributes && { MessageAttributes: message.MessageAttributes }),
        })),
      }),
    );
    // Only what reached the retry queue leaves the dead-letter queue; the rest reappears there.
    const sent = Successful.map(({ Id }) => Messages[Number(Id)]).filter((message) => message !== undefined);
    if (sent.length > 0) {
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: from,
          Entries: sent.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
    moved += sent.length;
  }
  return moved;
};

export const moveDeadLetters = async (client: SQSClient, options: MoveOptions): Promise<MoveResult> => {
  if (options.max !== undefined) {
    return { moved: await moveOneByOne(client, options), method: 'one-by-one' };
  }
  const task = await startMoveTask(client, options);
  if (typeof task === 'string') {
    return { moved: await awaitMoveTask(client, task, options.timeoutMs), method: 'message-move-task' };
  }
  return {
    moved: await moveOneByOne(client, options),
    method: 'one-by-one',
    fallbackReason: task.unavailable,
  };
};
