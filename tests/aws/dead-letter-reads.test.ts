// On call, against moto, with more dead letters than one receive brings: `status` and `replay`
// read every one (each stays hidden until the read ends, so the same ten do not come back), show
// them all again afterwards, and never read a queue that redrives.

import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createQueues, peek, type Queues, queueDepth, sqs, useMoto } from './aws.js';

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

/** Sends `count` messages, each with its reason: a third http-422, the rest http-503. */
const fill = async (QueueUrl: string, count: number) => {
  for (let start = 0; start < count; start += 10) {
    await sqs().send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: Math.min(10, count - start) }, (_, offset) => {
          const index = start + offset;
          return {
            Id: String(offset),
            MessageBody: `user-${index}`,
            MessageAttributes: {
              reason: { DataType: 'String', StringValue: index % 3 === 0 ? 'http-422' : 'http-503' },
            },
          };
        }),
      }),
    );
  }
};

describe('dead-letter queues with more than ten messages', () => {
  let queues: Queues;

  beforeEach(async () => {
    useMoto();
    queues = await createQueues();
    vi.stubEnv('RETRY_QUEUE_URL', queues.retryQueueUrl);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', queues.deadLetterQueueUrl);
    for (const name of ['CHANGES_QUEUE_URL', 'CHANGES_DEAD_LETTER_QUEUE_URL', 'RECONCILE_QUEUE_URL'])
      vi.stubEnv(name, '');
    vi.stubEnv('RECONCILE_DEAD_LETTER_QUEUE_URL', '');
    await fill(queues.deadLetterQueueUrl, 60);
    return () => vi.unstubAllEnvs();
  });

  it('status counts all 60 by reason, and every one is visible again afterwards', async () => {
    const status = await run('status', '--output', 'json');

    expect(status.code).toBe(0);
    const deadLetter = JSON.parse(status.out).find((queue: { name: string }) => queue.name === 'dead-letter');
    expect(deadLetter).toMatchObject({
      reasons: { 'http-422': 20, 'http-503': 40 },
      read: 60,
      sampled: false,
    });
    expect(await queueDepth(queues.deadLetterQueueUrl)).toEqual({ visible: 60, notVisible: 0, delayed: 0 });
  });

  it('replay --dry-run counts all 60, and --reason moves all 20 of that reason', async () => {
    const dry = await run('replay', '--dry-run');
    expect(dry.out).toBe('Dry run: 60 dead letters would move (http-503: 40, http-422: 20).');
    expect(await queueDepth(queues.deadLetterQueueUrl)).toEqual({ visible: 60, notVisible: 0, delayed: 0 });

    const picked = await run('replay', '--reason', 'http-422');
    expect(picked).toMatchObject({ code: 0, out: 'Moved 20 messages back, one by one.' });
    expect(await queueDepth(queues.retryQueueUrl)).toMatchObject({ visible: 20 });
    expect(await queueDepth(queues.deadLetterQueueUrl)).toEqual({ visible: 40, notVisible: 0, delayed: 0 });
  });

  it.each([
    ['replay --dry-run', ['replay', '--dry-run']],
    ['status', ['status']],
  ])('%s stopped by Ctrl-C shows every dead letter it read again before it exits 130', async (_, argv) => {
    // Ctrl-C as the second receive is answered: twenty dead letters read and held.
    const send = SQSClient.prototype.send;
    let receives = 0;
    const spy = vi.spyOn(SQSClient.prototype, 'send').mockImplementation(async function (
      this: SQSClient,
      ...args: Parameters<SQSClient['send']>
    ) {
      const result = await (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      if (args[0] instanceof ReceiveMessageCommand && ++receives === 2) process.emit('SIGINT');
      return result;
    } as never);
    try {
      const stopped = await run(...argv);

      expect(stopped.code).toBe(130);
      expect(stopped.err).toMatch(/SIGINT: stopping/);
      expect(receives).toBeLessThan(6);
    } finally {
      spy.mockRestore();
    }
    expect(await queueDepth(queues.deadLetterQueueUrl)).toEqual({ visible: 60, notVisible: 0, delayed: 0 });
  });

  it('a queue that redrives, given as the dead-letter queue, is not read: status says so, replay refuses', async () => {
    await sqs().send(
      new SendMessageBatchCommand({
        QueueUrl: queues.retryQueueUrl,
        Entries: [0, 1, 2].map((index) => ({ Id: String(index), MessageBody: `retry-${index}` })),
      }),
    );

    const status = await run('status', '--dead-letter-queue-url', queues.retryQueueUrl);
    const dry = await run('replay', '--dry-run', '--dead-letter-queue-url', queues.retryQueueUrl);

    expect(status.code).toBe(1);
    expect(status.out).toMatch(/\ndead-letter\s.*not read: it redrives/);
    expect(status.err).toMatch(
      /^dead-letter: --dead-letter-queue-url names a queue that redrives to a dead-letter queue after 12 receives/m,
    );
    expect(dry.code).toBe(1);
    expect(dry.err).toMatch(/--dead-letter-queue-url names a queue that redrives to a dead-letter queue/);
    // Not one receive counted against the retry messages.
    const { Messages = [] } = await sqs().send(
      new ReceiveMessageCommand({
        QueueUrl: queues.retryQueueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(Messages.map((message) => message.Attributes?.ApproximateReceiveCount)).toEqual(['1', '1', '1']);
    expect(await peek(queues.deadLetterQueueUrl)).toHaveLength(10);
  });
});
