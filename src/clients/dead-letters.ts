// Moves dead-lettered messages back to the queue they came from, bodies and attributes unchanged:
// with an SQS message move task where the API offers one, message by message otherwise (or when
// only some messages are to move: at most --max, or those of one --reason). A dry run counts what
// would move, by reason, and moves nothing.

import { createHash } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { holdingRead, refuseRedrivingQueue } from './dead-letter-read.js';

export interface MoveResult {
  moved: number;
  method: 'message-move-task' | 'one-by-one' | 'dry-run';
  /** Why the move task was not used, when it was not: in words, not an error class. */
  fallbackReason?: string;
  /** Dry run (and one by one): the messages seen, by their `reason` attribute. */
  reasons?: Record<string, number>;
  /** One by one: messages moved in this run that were dead-lettered again before it ended. */
  cameBack?: number;
  /** One by one: the read stopped before the queue was surely read through; more may be left unread. */
  unread?: true;
  /** One by one: messages read that could not be shown again at once; they show again after `hiddenSeconds`. */
  stillHidden?: number;
  hiddenSeconds?: number;
}

export interface MoveOptions {
  from: string;
  /** Where `from` came from (a flag or a variable), named when it is no dead-letter queue. */
  fromSource?: string;
  to: string;
  /** Move at most this many (message by message). */
  max?: number;
  /** Move only the messages whose `reason` attribute is this (message by message). */
  reason?: string;
  /** Count what would move; move nothing. */
  dryRun?: boolean;
  /** How long to wait for a move task to finish. */
  timeoutMs?: number;
  /** Between two looks at a running move task. */
  pollMs?: number;
  /** Stops a read one by one between two receives (Ctrl-C); what it holds is shown again first. */
  signal?: AbortSignal;
  /** Called as messages move: how many so far, and of how many when known. */
  onProgress?: (moved: number, total: number | undefined) => void;
}

const queueArn = async (client: SQSClient, QueueUrl: string): Promise<string> => {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  if (!Attributes?.QueueArn) throw new Error(`no ARN for ${QueueUrl}`);
  return Attributes.QueueArn;
};

/** Why a move task could not be started, said plainly: a missing permission is not a SyntaxError. */
export const fallbackReasonOf = (error: unknown): string => {
  const { name = 'Error', message = '' } = error as { name?: string; message?: string };
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (/AccessDenied|NotAuthorized|AuthorizationError/.test(name)) {
    return `not allowed to start a message move task (sqs:StartMessageMoveTask on the dead-letter queue): ${message}`;
  }
  // An emulator or a partition without the API answers what the SDK cannot parse, or 404/501.
  if (
    name === 'SyntaxError' ||
    status === 404 ||
    status === 501 ||
    /Unknown|Unsupported|NotImplemented|InvalidAction/.test(name)
  ) {
    return 'this SQS endpoint offers no message move tasks';
  }
  if (/dead.?letter|redrive/i.test(message)) {
    return `the queue is no dead-letter queue of the target, so no move task can move its messages: ${message}`;
  }
  return `${name}: ${message}`;
};

/** Starts a move task; its source ARN, or why there is none (then: one by one). */
const startMoveTask = async (
  client: SQSClient,
  { from, to }: MoveOptions,
): Promise<{ started: string; unavailable?: undefined } | { started?: undefined; unavailable: string }> => {
  const [SourceArn, DestinationArn] = await Promise.all([queueArn(client, from), queueArn(client, to)]);
  try {
    await client.send(new StartMessageMoveTaskCommand({ SourceArn, DestinationArn }));
    return { started: SourceArn };
  } catch (error) {
    return { unavailable: fallbackReasonOf(error) };
  }
};

/** Waits for the task on `SourceArn` (one runs per queue at a time) and says how many it moved. */
const awaitMoveTask = async (
  client: SQSClient,
  SourceArn: string,
  { timeoutMs = 600_000, pollMs = 2000, onProgress }: MoveOptions,
): Promise<number> => {
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
    onProgress?.(task?.ApproximateNumberOfMessagesMoved ?? 0, task?.ApproximateNumberOfMessagesToMove);
    if (Date.now() > until) {
      throw new Error('the message move task is still running; follow it in the SQS console');
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
};

const reasonOf = (message: Message) => message.MessageAttributes?.reason?.StringValue ?? 'none';

/** What a message holds, as a digest: the same message back under a new MessageId has the same one. */
const bodyDigest = (message: Message) =>
  createHash('sha256')
    .update(message.Body ?? '')
    .digest('base64');

/** How long a message read stays hidden should the move never end (a killed process): then it shows again by itself. */
const HOLD_SECONDS = 900;

/**
 * Reads the dead-letter queue message by message: the chosen ones are sent back and deleted, the
 * others (another reason; a dry run) held until the read ends, then shown again at once. Stops
 * when the queue has nothing new. A message moved in this run that comes back (the worker
 * dead-lettered it again: its cause is not fixed) arrives under a new MessageId: it is known by
 * its body, not moved again, and counted, so the loop ends rather than send the same users round
 * and round.
 */
const moveOneByOne = async (
  client: SQSClient,
  { from, to, max = Number.POSITIVE_INFINITY, reason, dryRun = false, onProgress, signal }: MoveOptions,
) => {
  const reasons: Record<string, number> = {};
  const movedBodies = new Set<string>();
  let moved = 0;
  let cameBack = 0;
  const read = holdingRead(client, from, { holdSeconds: HOLD_SECONDS, signal });
  let stillHidden: number;
  try {
    for (let batch = moved < max && (await read.next()); batch; batch = moved < max && (await read.next())) {
      const back = batch.filter((message) => movedBodies.has(bodyDigest(message)));
      cameBack += back.length;
      const fresh = batch.filter((message) => !back.includes(message));
      for (const message of fresh) reasons[reasonOf(message)] = (reasons[reasonOf(message)] ?? 0) + 1;
      const chosen = dryRun
        ? []
        : fresh
            .filter((message) => reason === undefined || reasonOf(message) === reason)
            .slice(0, max - moved);
      if (chosen.length === 0) continue;
      const { Successful = [] } = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: to,
          Entries: chosen.map((message, index) => ({
            Id: String(index),
            MessageBody: message.Body ?? '',
            ...(message.MessageAttributes && { MessageAttributes: message.MessageAttributes }),
          })),
        }),
      );
      // Only what reached the target leaves the dead-letter queue; the rest is shown again at the end.
      const sent = Successful.map(({ Id }) => chosen[Number(Id)]).filter((message) => message !== undefined);
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
        read.taken(sent);
      }
      for (const message of sent) movedBodies.add(bodyDigest(message));
      moved += sent.length;
      onProgress?.(moved, undefined);
    }
  } finally {
    stillHidden = await read.release();
  }
  return {
    moved,
    reasons,
    ...(cameBack > 0 && { cameBack }),
    ...(read.incomplete && { unread: true as const }),
    ...(stillHidden > 0 && { stillHidden, hiddenSeconds: HOLD_SECONDS }),
  };
};

export const moveDeadLetters = async (client: SQSClient, options: MoveOptions): Promise<MoveResult> => {
  await refuseRedrivingQueue(client, options.from, options.fromSource ?? 'the dead-letter queue URL');
  if (options.dryRun) {
    const { reasons } = await moveOneByOne(client, options);
    return { moved: 0, method: 'dry-run', reasons };
  }
  if (options.max !== undefined || options.reason !== undefined) {
    return { ...(await moveOneByOne(client, options)), method: 'one-by-one' };
  }
  const task = await startMoveTask(client, options);
  if (task.started !== undefined) {
    return { moved: await awaitMoveTask(client, task.started, options), method: 'message-move-task' };
  }
  return { ...(await moveOneByOne(client, options)), method: 'one-by-one', fallbackReason: task.unavailable };
};
