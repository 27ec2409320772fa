// replay's flags name the queues of the pair they move: the retry pair's --retry-queue-url and
// --dead-letter-queue-url, the changes pair's --changes-queue-url and
// --changes-dead-letter-queue-url (as status names them); a flag of the other pair, or two names
// for one queue, is a usage error before any call. The moves themselves: tests/aws/replay.test.ts.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const QUEUE = (name: string) => `https://sqs.eu-central-1.amazonaws.com/123456789012/${name}`;

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('replay: the flags of each pair', () => {
  beforeEach(() => {
    for (const name of [
      'RETRY_QUEUE_URL',
      'DEAD_LETTER_QUEUE_URL',
      'CHANGES_QUEUE_URL',
      'CHANGES_DEAD_LETTER_QUEUE_URL',
    ])
      vi.stubEnv(name, '');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('--help lists each queue under its own name, the old names as the retry pair', async () => {
    const { code, out } = await run('replay', '--help');

    expect(code).toBe(0);
    expect(out).toMatch(/--changes-queue-url URL\s+with --queue changes, the queue to move to/);
    expect(out).toMatch(/--changes-dead-letter-queue-url URL\s+with --queue changes, the dead-letter queue/);
    expect(out).toMatch(/--retry-queue-url URL\s+the queue to move to \(default: RETRY_QUEUE_URL\)/);
  });

  it.each([
    [
      ['--queue', 'changes'],
      'no dead-letter queue: pass --changes-dead-letter-queue-url or set CHANGES_DEAD_LETTER_QUEUE_URL',
    ],
    [
      ['--queue', 'changes', '--changes-dead-letter-queue-url', QUEUE('p-changes-dead-letter')],
      'no queue to move to: pass --changes-queue-url or set CHANGES_QUEUE_URL',
    ],
    [
      ['--dead-letter-queue-url', QUEUE('p-dead-letter')],
      'no queue to move to: pass --retry-queue-url or set RETRY_QUEUE_URL',
    ],
    [
      ['--changes-queue-url', QUEUE('p-changes')],
      '--changes-queue-url is a queue of the changes pair: add --queue changes',
    ],
    [
      [
        '--queue',
        'changes',
        '--retry-queue-url',
        QUEUE('p-retry'),
        '--changes-queue-url',
        QUEUE('p-changes'),
      ],
      '--retry-queue-url and --changes-queue-url both name the queue to move to: give --changes-queue-url only',
    ],
  ])('%o: a usage error naming the flag of the pair', async (argv, message) => {
    const { code, err } = await run('replay', ...argv);

    expect(err.split('\n')[0]).toBe(`cognito-user-sync: ${message}`);
    expect(code).toBe(2);
  });
});
