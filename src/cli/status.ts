// `status`: every queue of a deployment at a glance, for on-call: depths, the oldest message's
// age, and why dead letters are dead. It never consumes a message, nor touches one of a queue that
// redrives.

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AWS_CLIENT_PROFILES, regionOfQueueUrl } from '../clients/aws.js';
import { type QueueStatus, queueStatus } from '../clients/queue-status.js';
import { oneOf, parseQueueUrl, parseToken, readVariable } from '../config.js';
import { UsageError } from '../errors.js';
import { DEFAULT_NAMESPACE, DEFAULT_SERVICE_NAME, MetricName } from '../metric-names.js';
import { command, type Flag, option } from './flags.js';
import { underControl } from './run.js';
import type { Io } from './usage.js';

/**
 * The queues of a deployment, by the variables the functions read them from; a queue a worker
 * retries from names the metric it counts its deferrals in.
 */
export const QUEUES = [
  {
    name: 'retry',
    variable: 'RETRY_QUEUE_URL',
    flag: 'retry-queue-url',
    deadLetter: false,
    deferrals: MetricName.RetryDeferred,
  },
  { name: 'dead-letter', variable: 'DEAD_LETTER_QUEUE_URL', flag: 'dead-letter-queue-url', deadLetter: true },
  {
    name: 'changes',
    variable: 'CHANGES_QUEUE_URL',
    flag: 'changes-queue-url',
    deadLetter: false,
    deferrals: MetricName.UserChangeDeferred,
  },
  {
    name: 'changes-dead-letter',
    variable: 'CHANGES_DEAD_LETTER_QUEUE_URL',
    flag: 'changes-dead-letter-queue-url',
    deadLetter: true,
  },
  { name: 'reconcile', variable: 'RECONCILE_QUEUE_URL', flag: 'reconcile-queue-url', deadLetter: false },
  {
    name: 'reconcile-dead-letter',
    variable: 'RECONCILE_DEAD_LETTER_QUEUE_URL',
    flag: 'reconcile-dead-letter-queue-url',
    deadLetter: true,
  },
] as const;

const STATUS = command({
  synopsis: 'Usage: cognito-user-sync status [--output table|json] [--<queue>-queue-url URL]...',
  about: `Shows every queue of the deployment: messages waiting, hidden (in flight or waiting out the
workers' backoff) and delayed, the age of the oldest, for the retry and changes queues how many
deferrals the worker counted in the last hour and since when it has deferred without a break
(its own metric: CloudWatch's ApproximateAgeOfOldestMessage leaves out a message received three
times or more, as every retried message soon is), and for a dead-letter queue the count of its
messages by reason (none: moved there by SQS after maxReceiveCount). Reads never consume a
message; dead letters are held while they are read (up to 1000), then all shown again at once;
a queue given as a dead-letter queue that redrives is never read (exit 1, saying so).
The region is the queues' (from their URLs), else AWS_REGION.`,
  flags: {
    output: option('table|json', oneOf(['table', 'json'] as const), '(default table)', 'table'),
    service: option(
      'NAME',
      parseToken,
      "the functions' service dimension (default: POWERTOOLS_SERVICE_NAME, else cognito-user-sync;\nthe IaC sets it to the deployment's name prefix)",
    ),
    ...(Object.fromEntries(
      QUEUES.map((queue) => [queue.flag, option('URL', parseQueueUrl, `default: ${queue.variable}`)]),
    ) as Record<(typeof QUEUES)[number]['flag'], Flag<string | undefined>>),
  },
  footer:
    'Exit status: 0; 1 when a queue cannot be read, or one given as a dead-letter queue redrives; 2 for a usage\nerror; 129, 130 or 143 when stopped by SIGHUP, Ctrl-C or SIGTERM (the dead letters read are shown\nagain first).',
});

export const STATUS_USAGE = STATUS.usage;

const age = (seconds: number | undefined): string => {
  if (seconds === undefined) return '-';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
};

/** The retrying column: deferrals in the last hour, and since when, in UTC minutes. */
const retrying = (status: QueueStatus): string => {
  if (status.retrying === undefined) return '';
  const { lastHour, since } = status.retrying;
  return since === undefined ? String(lastHour) : `${lastHour} since ${since.slice(11, 16)}Z`;
};

/** The dead letters' column: counts by reason, how many were read when not all, or why none were. */
const reasonsCell = (status: QueueStatus): string => {
  if (status.notRead !== undefined) return 'not read: it redrives (see below)';
  if (status.reasons === undefined) return '';
  return (
    Object.entries(status.reasons)
      .sort(([, a], [, b]) => b - a)
      .map(([reason, count]) => `${reason}: ${count}`)
      .join(', ') + (status.sampled ? ` (first ${status.read ?? 0} read)` : '')
  );
};

const table = (statuses: QueueStatus[]): string[] => {
  const rows = [
    ['queue', 'waiting', 'hidden', 'delayed', 'oldest', 'retrying', 'dead letters by reason'],
    ...statuses.map((status) => [
      status.name,
      String(status.waiting),
      String(status.hidden),
      String(status.delayed),
      age(status.oldestAgeSeconds),
      retrying(status),
      reasonsCell(status),
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) =>
        column > 0 && column < 6 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
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
    const flag = values[queue.flag];
    const url = flag ?? readVariable(process.env, queue.variable, parseQueueUrl);
    return url === undefined ? [] : [{ ...queue, url, source: flag ? `--${queue.flag}` : queue.variable }];
  });
  if (queues.length === 0) {
    throw new UsageError(
      `no queue to show: set ${QUEUES.map((queue) => queue.variable).join(', ')} (or the flags)`,
    );
  }
  const service =
    values.service ??
    readVariable(process.env, 'POWERTOOLS_SERVICE_NAME', parseToken) ??
    DEFAULT_SERVICE_NAME;
  const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_NAMESPACE;
  // One pair of clients per region, the region a queue's URL names (else the environment's).
  const clients = new Map<string | undefined, { sqs: SQSClient; cloudwatch: CloudWatchClient }>();
  const clientsFor = (url: string) => {
    const region = regionOfQueueUrl(url);
    let pair = clients.get(region);
    if (!pair) {
      const config = { ...AWS_CLIENT_PROFILES.cli, ...(region && { region }) };
      pair = { sqs: new SQSClient(config), cloudwatch: new CloudWatchClient(config) };
      clients.set(region, pair);
    }
    return pair;
  };
  return underControl(
    io,
    async (control) => {
      const statuses: QueueStatus[] = [];
      for (const queue of queues) {
        if (control.signal.aborted) break;
        const deferrals = 'deferrals' in queue ? queue.deferrals : undefined;
        statuses.push(
          await queueStatus(clientsFor(queue.url), {
            ...queue,
            retries: deferrals && { namespace, metricName: deferrals, service },
            signal: control.signal,
          }),
        );
      }
      if (values.output === 'json') io.out(JSON.stringify(statuses, null, 2));
      else for (const line of table(statuses)) io.out(line);
      for (const queue of statuses) {
        if (queue.notRead !== undefined) io.err(`${queue.name}: ${queue.notRead}`);
        if (queue.stillHidden)
          io.err(
            `${queue.name}: ${queue.stillHidden} dead letters read could not be shown again at once; they show again within a minute.`,
          );
      }
      return control.exitCode() ?? (statuses.some((queue) => queue.notRead !== undefined) ? 1 : 0);
    },
    'stopping; the dead letters read are shown again first.',
  );
};
