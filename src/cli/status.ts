// `status`: every queue of a deployment at a glance, for on-call: depths, the oldest message's
// age, and why dead letters are dead. It never consumes a message, nor touches one of a queue that
// redrives.

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { type QueueStatus, queueStatus } from '../clients/queue-status.js';
import { oneOf, parseQueueUrl, readVariable } from '../config.js';
import { UsageError } from '../errors.js';
import { command, type Flag, option } from './flags.js';
import type { Io } from './usage.js';

/** The queues of a deployment, by the variables the functions read them from. */
export const QUEUES = [
  { name: 'retry', variable: 'RETRY_QUEUE_URL', flag: 'retry-queue-url', deadLetter: false },
  { name: 'dead-letter', variable: 'DEAD_LETTER_QUEUE_URL', flag: 'dead-letter-queue-url', deadLetter: true },
  { name: 'changes', variable: 'CHANGES_QUEUE_URL', flag: 'changes-queue-url', deadLetter: false },
  {
    name: 'changes-dead-letter',
    variable: 'CHANGES_DEAD_LETTER_QUEUE_URL',
    flag: 'changes-dead-letter-queue-url',
    deadLetter: true,
  },
  { name: 'reconcile', variable: 'RECONCILE_QUEUE_URL', flag: 'reconcile-queue-url', deadLetter: false },
] as const;

const STATUS = command({
  synopsis: 'Usage: cognito-user-sync status [--output table|json] [--<queue>-queue-url URL]...',
  about: `Shows every queue of the deployment: messages waiting, hidden (in flight or waiting out the
workers' backoff) and delayed, the age of the oldest, and for a dead-letter queue the count of
its messages by reason (none: moved there by SQS after maxReceiveCount). Reads never consume a
message; dead letters are read and shown again at once, and a queue that redrives is never read
(its oldest age comes from CloudWatch's ApproximateAgeOfOldestMessage, when published).`,
  flags: {
    output: option('table|json', oneOf(['table', 'json'] as const), '(default table)', 'table'),
    ...(Object.fromEntries(
      QUEUES.map((queue) => [queue.flag, option('URL', parseQueueUrl, `default: ${queue.variable}`)]),
    ) as Record<(typeof QUEUES)[number]['flag'], Flag<string | undefined>>),
  },
  footer: 'Exit status: 0; 1 when a queue cannot be read; 2 for a usage error.',
});

export const STATUS_USAGE = STATUS.usage;

const age = (seconds: number | undefined): string => {
  if (seconds === undefined) return '-';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
};

const table = (statuses: QueueStatus[]): string[] => {
  const rows = [
    ['queue', 'waiting', 'hidden', 'delayed', 'oldest', 'dead letters by reason'],
    ...statuses.map((status) => [
      status.name,
      String(status.waiting),
      String(status.hidden),
      String(status.delayed),
      age(status.oldestAgeSeconds),
      status.reasons
        ? Object.entries(status.reasons)
            .sort(([, a], [, b]) => b - a)
            .map(([reason, count]) => `${reason}: ${count}`)
            .join(', ') + (status.sampled ? ' (first 1000 read)' : '')
        : '',
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) =>
        column > 0 && column < 5 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
};

export const status = async (args: string[], io: Io): Promise<number> => {
  const flags = STATUS.read(args, io);
  if (flags === undefined) return 0;
  const { values } = flags;
  // A flag, else the queue's variable: each checked as every queue URL is.
  const queues = QUEUES.flatMap((queue) => {
    const url = values[queue.flag] ?? readVariable(process.env, queue.variable, parseQueueUrl);
    return url === undefined ? [] : [{ ...queue, url }];
  });
  if (queues.length === 0) {
    throw new UsageError(
      `no queue to show: set ${QUEUES.map((queue) => queue.variable).join(', ')} (or the flags)`,
    );
  }
  const clients = {
    sqs: new SQSClient(AWS_CLIENT_PROFILES.cli),
    cloudwatch: new CloudWatchClient(AWS_CLIENT_PROFILES.cli),
  };
  const statuses: QueueStatus[] = [];
  for (const queue of queues) statuses.push(await queueStatus(clients, queue));
  if (values.output === 'json') io.out(JSON.stringify(statuses, null, 2));
  else for (const line of table(statuses)) io.out(line);
  return 0;
};
