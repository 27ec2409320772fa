// What an on-call engineer asks of a queue: how many messages wait, are in flight or hidden by a
// backoff, how old the oldest is, how many are being retried and since when, and, for a
// dead-letter queue, why its messages are there. Reading never consumes a message, and never
// touches one of a queue that redrives (its receive count would move it closer to its dead-letter
// queue): their age comes from CloudWatch, and what is being retried from the worker's own metric.

import { type CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '../errors.js';
import { holdingRead, refuseRedrivingQueue } from './dead-letter-read.js';

export interface QueueStatus {
  name: string;
  url: string;
  /** Visible: waiting for a consumer (or, on a dead-letter queue, for an operator). */
  waiting: number;
  /** In flight, or hidden by the workers' backoff. */
  hidden: number;
  delayed: number;
  /** Age of the oldest message in seconds; undefined when it cannot be told. */
  oldestAgeSeconds: number | undefined;
  /** Dead-letter queues only: messages by their `reason` attribute (`none`: moved by SQS's redrive). */
  reasons?: Record<string, number>;
  /** Dead-letter queues only: how many messages were read for their reason. */
  read?: number;
  /** Dead-letter queues only: fewer messages were read than the queue holds. */
  sampled?: boolean;
  /** Dead-letter queues only: messages read that could not be shown again at once (they show again within a minute). */
  stillHidden?: number;
  /** Given as a dead-letter queue, but not read: why (a queue that redrives). */
  notRead?: string;
  /**
   * A queue a worker retries from (retry, changes): what the age metric cannot show. Deferrals the
   * worker counted in the last hour, and since when it has deferred in every 5-minute period (ISO
   * 8601), from the function's own metric: it sees every attempt, however often a message was
   * received. Undefined when the metric cannot be read.
   */
  retrying?: { lastHour: number; since: string | undefined };
}

/** The metric a queue's worker counts its deferrals in, with the function's service dimension. */
export interface RetryMetric {
  namespace: string;
  metricName: string;
  service: string;
}

/** Most messages of a dead-letter queue read to count its reasons. */
const MAX_READ = 1000;
/** A message read stays hidden until the read ends, then is shown again at once; this long at most should the process die. */
const READ_HOLD_SECONDS = 60;

const attributesOf = async (sqs: SQSClient, QueueUrl: string) => {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
        'QueueArn',
      ],
    }),
  );
  return {
    waiting: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    hidden: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    queueName: Attributes.QueueArn?.split(':').at(-1) ?? QueueUrl.split('/').at(-1) ?? QueueUrl,
  };
};

/** ApproximateAgeOfOldestMessage, the latest datapoint of the last 15 minutes (AWS/SQS publishes it). */
const ageFromCloudWatch = async (cloudwatch: CloudWatchClient, queueName: string, now: Date) => {
  try {
    const { Datapoints = [] } = await cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: queueName }],
        StartTime: new Date(now.getTime() - 15 * 60_000),
        EndTime: now,
        Period: 60,
        Statistics: ['Maximum'],
      }),
    );
    const latest = [...Datapoints].sort(
      (a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0),
    )[0];
    return latest?.Maximum;
  } catch {
    return undefined;
  }
};

/** Five-minute periods of the last day with a deferral: how many in the last hour, and since when they have not stopped. */
const retryingFromCloudWatch = async (cloudwatch: CloudWatchClient, metric: RetryMetric, now: Date) => {
  const period = 300;
  try {
    const { Datapoints = [] } = await cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: metric.namespace,
        MetricName: metric.metricName,
        Dimensions: [{ Name: 'service', Value: metric.service }],
        StartTime: new Date(now.getTime() - 24 * 3600_000),
        EndTime: now,
        Period: period,
        Statistics: ['Sum'],
      }),
    );
    const byPeriod = new Map(
      Datapoints.filter((point) => (point.Sum ?? 0) > 0).map((point) => [
        Math.floor((point.Timestamp?.getTime() ?? 0) / 1000 / period),
        point.Sum ?? 0,
      ]),
    );
    const current = Math.floor(now.getTime() / 1000 / period);
    let lastHour = 0;
    for (let index = current - 11; index <= current; index++) lastHour += byPeriod.get(index) ?? 0;
    // The unbroken run of periods with a deferral that reaches the last two (the latest may not be published yet).
    let start = byPeriod.has(current) ? current : byPeriod.has(current - 1) ? current - 1 : undefined;
    while (start !== undefined && byPeriod.has(start - 1)) start--;
    return {
      lastHour: Math.round(lastHour),
      since: start === undefined ? undefined : new Date(start * period * 1000).toISOString(),
    };
  } catch {
    return undefined;
  }
};

/** Reads a dead-letter queue's messages (their attributes only), holding each until the read ends, then shows them all again. */
const readDeadLetters = async (sqs: SQSClient, QueueUrl: string, now: Date, signal?: AbortSignal) => {
  const reasons: Record<string, number> = {};
  let read = 0;
  let oldest: number | undefined;
  const held = holdingRead(sqs, QueueUrl, {
    holdSeconds: READ_HOLD_SECONDS,
    maxRead: MAX_READ,
    messageAttributeNames: ['reason'],
    systemAttributeNames: ['SentTimestamp'],
    signal,
  });
  let stillHidden: number;
  try {
    for (let batch = await held.next(); batch; batch = await held.next()) {
      for (const message of batch) {
        read++;
        const reason = message.MessageAttributes?.reason?.StringValue ?? 'none';
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        const sent = Number(message.Attributes?.SentTimestamp);
        if (Number.isFinite(sent)) oldest = Math.max(oldest ?? 0, (now.getTime() - sent) / 1000);
      }
    }
  } finally {
    // Reading is not taking: every message is shown again at once.
    stillHidden = await held.release();
  }
  return {
    reasons,
    read,
    oldestAgeSeconds: oldest === undefined ? undefined : Math.round(oldest),
    ...(stillHidden > 0 && { stillHidden }),
  };
};

/** Why a queue given as a dead-letter queue is not read, or undefined when it may be read. */
const notReadable = async (sqs: SQSClient, url: string, source: string) =>
  refuseRedrivingQueue(sqs, url, source).then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof ConfigError) return error.message;
      throw error;
    },
  );

export const queueStatus = async (
  { sqs, cloudwatch }: { sqs: SQSClient; cloudwatch: CloudWatchClient },
  {
    name,
    url,
    deadLetter,
    retries,
    source = name,
    signal,
  }: {
    name: string;
    url: string;
    deadLetter: boolean;
    retries?: RetryMetric | undefined;
    /** Where the URL came from (a flag or a variable), named when the queue is not read. */
    source?: string;
    /** Ends a dead-letter read between two receives (Ctrl-C); what it holds is shown again first. */
    signal?: AbortSignal;
  },
  now = new Date(),
): Promise<QueueStatus> => {
  const { queueName, ...depth } = await attributesOf(sqs, url);
  if (!deadLetter) {
    const retrying = retries && (await retryingFromCloudWatch(cloudwatch, retries, now));
    return {
      name,
      url,
      ...depth,
      oldestAgeSeconds: await ageFromCloudWatch(cloudwatch, queueName, now),
      ...(retrying && { retrying }),
    };
  }
  const notRead = await notReadable(sqs, url, source);
  if (notRead !== undefined) {
    return {
      name,
      url,
      ...depth,
      oldestAgeSeconds: await ageFromCloudWatch(cloudwatch, queueName, now),
      notRead,
    };
  }
  const { reasons, read, oldestAgeSeconds, stillHidden } = await readDeadLetters(sqs, url, now, signal);
  return {
    name,
    url,
    ...depth,
    oldestAgeSeconds: oldestAgeSeconds ?? (await ageFromCloudWatch(cloudwatch, queueName, now)),
    reasons,
    read,
    sampled: read < depth.waiting + depth.hidden,
    ...(stillHidden !== undefined && { stillHidden }),
  };
};
