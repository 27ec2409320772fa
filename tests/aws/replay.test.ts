// replay --queue changes against moto, with the queues given by flags: the changes pair's own
// names, and the retry pair's names that runbooks written before them use (still read, with a
// line saying the new name).

import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createQueues, peek, type Queues, sqs, useMoto } from './aws.js';

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('replay --queue changes, queues by flag', () => {
  let changes: Queues;

  beforeAll(() => {
    useMoto();
    for (const name of [
      'RETRY_QUEUE_URL',
      'DEAD_LETTER_QUEUE_URL',
      'CHANGES_QUEUE_URL',
      'CHANGES_DEAD_LETTER_QUEUE_URL',
    ])
      vi.stubEnv(name, '');
  });
  afterAll(() => vi.unstubAllEnvs());
  beforeEach(async () => {
    changes = await createQueues();
    await sqs().send(
      new SendMessageCommand({ QueueUrl: changes.deadLetterQueueUrl, MessageBody: 'changed' }),
    );
  });

  it('moves the changes dead letters to --changes-queue-url from --changes-dead-letter-queue-url', async () => {
    const { code, out, err } = await run(
      'replay',
      '--queue',
      'changes',
      '--changes-queue-url',
      changes.retryQueueUrl,
      '--changes-dead-letter-queue-url',
      changes.deadLetterQueueUrl,
    );

    expect(code).toBe(0);
    expect(err).not.toMatch(/--retry-queue-url/);
    expect(out).toMatch(/Moved 1 message back/);
    expect((await peek(changes.retryQueueUrl)).map((message) => message.Body)).toEqual(['changed']);
  });

  it("still reads the retry pair's names with --queue changes, and says the new ones", async () => {
    const { code, out, err } = await run(
      'replay',
      '--queue',
      'changes',
      '--retry-queue-url',
      changes.retryQueueUrl,
      '--dead-letter-queue-url',
      changes.deadLetterQueueUrl,
    );

    expect(code).toBe(0);
    expect(err).toContain(
      'cognito-user-sync: with --queue changes, --retry-queue-url is read as --changes-queue-url, and --dead-letter-queue-url as --changes-dead-letter-queue-url: the names to use from now on',
    );
    expect(out).toMatch(/Moved 1 message back/);
    expect((await peek(changes.retryQueueUrl)).map((message) => message.Body)).toEqual(['changed']);
  });
});
