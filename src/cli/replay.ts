// `replay`: after the cause is fixed, moves dead-lettered messages back to the queue they came
// from (the retry queue, or the changes queue), where the workers send them again with the same
// idempotency key.

import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { moveDeadLetters } from '../clients/dead-letters.js';
import { readQueueConfig } from '../config.js';
import { UsageError } from '../errors.js';
import type { Io } from './usage.js';

export const REPLAY_USAGE = `Usage: cognito-user-sync replay [--queue retry|changes] [options]

Moves the messages of a dead-letter queue back to the queue they came from, bodies and
attributes unchanged: with an SQS message move task when the endpoint offers one and neither
--max nor --reason is given, message by message otherwise (it says why when it falls back).

Options:
  --queue retry|changes           which pair: the retry queue and its dead-letter queue (default),
                                  or the changes queue and its dead-letter queue
  --dry-run                       count the dead letters by reason; move nothing
  --reason CODE                   move only those whose reason is CODE (e.g. http-422; "none" for
                                  those SQS moved after maxReceiveCount)
  --max N                         move at most N messages
  --dead-letter-queue-url URL     default: DEAD_LETTER_QUEUE_URL (CHANGES_DEAD_LETTER_QUEUE_URL)
  --retry-queue-url URL           the target; default: RETRY_QUEUE_URL (CHANGES_QUEUE_URL)
  -h, --help                      show this help

Exit status: 0 when the messages moved (or, with --dry-run, were counted); 1 for an error; 2 for a
usage error.`;

const PAIRS = {
  retry: { from: 'DEAD_LETTER_QUEUE_URL', to: 'RETRY_QUEUE_URL' },
  changes: { from: 'CHANGES_DEAD_LETTER_QUEUE_URL', to: 'CHANGES_QUEUE_URL' },
} as const;

export const replay = async (args: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
      queue: { type: 'string', default: 'retry' },
      'dry-run': { type: 'boolean', default: false },
      reason: { type: 'string' },
      max: { type: 'string' },
      'dead-letter-queue-url': { type: 'string' },
      'retry-queue-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(REPLAY_USAGE);
    return 0;
  }
  const pair = PAIRS[values.queue as keyof typeof PAIRS];
  if (!pair) throw new UsageError('--queue is retry or changes');
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new UsageError('--max must be a whole number above 0');
  }
  const configured = readQueueConfig({
    DEAD_LETTER_QUEUE_URL: values['dead-letter-queue-url'] ?? process.env[pair.from],
    RETRY_QUEUE_URL: values['retry-queue-url'] ?? process.env[pair.to],
  });
  const from = configured.deadLetterQueueUrl;
  const to = configured.retryQueueUrl;
  if (!from) throw new UsageError(`no dead-letter queue: pass --dead-letter-queue-url or set ${pair.from}`);
  if (!to) throw new UsageError(`no queue to move to: pass --retry-queue-url or set ${pair.to}`);

  const progress = (moved: number, total: number | undefined) =>
    process.stderr.write(`moving: ${moved}${total === undefined ? '' : ` of ${total}`} messages\n`);
  const result = await moveDeadLetters(new SQSClient(AWS_CLIENT_PROFILES.cli), {
    from,
    to,
    ...(max !== undefined && { max }),
    ...(values.reason !== undefined && { reason: values.reason }),
    dryRun: values['dry-run'],
    onProgress: progress,
  });
  const byReason = Object.entries(result.reasons ?? {})
    .sort(([, a], [, b]) => b - a)
    .map(([reason, count]) => `${reason}: ${count}`)
    .join(', ');
  if (result.method === 'dry-run') {
    const total = Object.values(result.reasons ?? {}).reduce((sum, count) => sum + count, 0);
    io.out(
      `Dry run: ${total} dead letter${total === 1 ? '' : 's'} would move${byReason ? ` (${byReason})` : ''}.`,
    );
    return 0;
  }
  if (result.fallbackReason) io.err(`No message move task (${result.fallbackReason}); moving one by one.`);
  const how = result.method === 'message-move-task' ? 'by an SQS message move task' : 'one by one';
  io.out(`Moved ${result.moved} message${result.moved === 1 ? '' : 's'} back, ${how}.`);
  return 0;
};
