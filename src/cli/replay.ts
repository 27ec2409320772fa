// `replay`: after the cause is fixed, moves dead-lettered messages back to the retry queue,
// where the retry worker sends them again with the same idempotency key.

import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { moveDeadLetters } from '../clients/dead-letters.js';
import { readQueueConfig } from '../config.js';
import { UsageError } from '../errors.js';
import type { Io } from './usage.js';

export const REPLAY_USAGE = `Usage: cognito-user-sync replay [--max N]

Moves the messages of the dead-letter queue back to the retry queue, bodies and attributes
unchanged (with an SQS message move task when the endpoint offers one and no --max is given,
message by message otherwise).

Options:
  --max N                         move at most N messages
  --dead-letter-queue-url URL     default: DEAD_LETTER_QUEUE_URL
  --retry-queue-url URL           default: RETRY_QUEUE_URL
  -h, --help                      show this help`;

export const replay = async (args: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
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
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1))
    throw new UsageError('--max must be a whole number above 0');
  const configured = readQueueConfig({
    DEAD_LETTER_QUEUE_URL: values['dead-letter-queue-url'] ?? process.env.DEAD_LETTER_QUEUE_URL,
    RETRY_QUEUE_URL: values['retry-queue-url'] ?? process.env.RETRY_QUEUE_URL,
  });
  const from = configured.deadLetterQueueUrl;
  const to = configured.retryQueueUrl;
  if (!from)
    throw new UsageError('no dead-letter queue: pass --dead-letter-queue-url or set DEAD_LETTER_QUEUE_URL');
  if (!to) throw new UsageError('no retry queue: pass --retry-queue-url or set RETRY_QUEUE_URL');

  const result = await moveDeadLetters(new SQSClient(AWS_CLIENT_PROFILES.cli), {
    from,
    to,
    ...(max !== undefined && { max }),
  });
  const how =
    result.method === 'message-move-task'
      ? 'by an SQS message move task'
      : `one by one${result.fallbackReason ? ` (no message move task: ${result.fallbackReason})` : ''}`;
  io.out(`Moved ${result.moved} message${result.moved === 1 ? '' : 's'} to the retry queue, ${how}.`);
  return 0;
};
