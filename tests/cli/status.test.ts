// status and replay for on-call, with SQS and CloudWatch mocked at the SDK: the region comes from
// the queue URLs, a malformed queue URL is named as one, replay --dry-run needs the dead-letter
// queue only, and status shows how many messages are being retried, and since when, from the
// worker's own metric (the age metric leaves out messages received three times or more).

import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { describeOperatorError } from '../../src/cli/operator-errors.js';
import { regionOfQueueUrl } from '../../src/clients/aws.js';

const sqs = mockClient(SQSClient);
const cloudwatch = mockClient(CloudWatchClient);
const RETRY = 'https://sqs.eu-central-1.amazonaws.com/123456789012/prod-retry';
const DLQ = 'https://sqs.eu-central-1.amazonaws.com/123456789012/prod-dead-letter';

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('regionOfQueueUrl', () => {
  it.each([
    [RETRY, 'eu-central-1'],
    ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q', 'cn-north-1'],
    ['https://eu-west-1.queue.amazonaws.com/123456789012/q', 'eu-west-1'],
    ['https://vpce-0a1b2c3d-abcdefgh.sqs.us-east-1.vpce.amazonaws.com/123456789012/q', 'us-east-1'],
    ['http://127.0.0.1:5000/123456789012/q', undefined],
  ])('%s: %s', (url, region) => {
    expect(regionOfQueueUrl(url)).toBe(region);
  });
});

describe('status and replay for on-call', () => {
  beforeEach(() => {
    sqs.reset();
    cloudwatch.reset();
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    for (const name of ['RETRY_QUEUE_URL', 'DEAD_LETTER_QUEUE_URL', 'CHANGES_QUEUE_URL'])
      vi.stubEnv(name, '');
    sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: {
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '42',
        ApproximateNumberOfMessagesDelayed: '0',
        QueueArn: 'arn:aws:sqs:eu-central-1:123456789012:prod-retry',
      },
    });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
  });
  afterEach(() => vi.unstubAllEnvs());

  it('status takes the region from the queue URLs: no AWS_REGION, no stack trace', async () => {
    const { code, err } = await run('status', '--retry-queue-url', RETRY);

    expect(code).toBe(0);
    expect(err).toBe('');
    expect(await sqs.call(0).thisValue.config.region()).toBe('eu-central-1');
  });

  it("without AWS_REGION and a queue URL that names no region, the SDK's error is one line saying what to set", () => {
    // What the SDK throws before any call when it has no region (@smithy/core's config resolver, resolveRegionConfig).
    expect(describeOperatorError(new Error('Region is missing'))).toBe(
      "no AWS region: set AWS_REGION (or a profile with a region), or give the queues' full URLs (https://sqs.<region>.amazonaws.com/…).",
    );
  });

  it('replay --dry-run needs the dead-letter queue only, and takes its region from it', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'm1',
            ReceiptHandle: 'r1',
            Body: '{}',
            MessageAttributes: { reason: { DataType: 'String', StringValue: 'http-422' } },
          },
        ],
      })
      .resolves({ Messages: [] });

    const { code, out, err } = await run('replay', '--dry-run', '--dead-letter-queue-url', DLQ);

    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toBe('Dry run: 1 dead letter would move (http-422: 1).');
    expect(await sqs.call(0).thisValue.config.region()).toBe('eu-central-1');
  });

  it.each([
    ['status', '--retry-queue-url', 'https://sqs.eu-central-1.amazonaws.com/prod-retry'],
    ['replay', '--dry-run', '--dead-letter-queue-url', 'sqs.eu-central-1.amazonaws.com/123456789012/q'],
  ])(
    '%s: a malformed queue URL is named as one, a usage error (exit 2), before any call',
    async (...argv) => {
      const { code, err } = await run(...argv);

      expect(code).toBe(2);
      expect(err).toMatch(
        /^cognito-user-sync: --(retry|dead-letter)-queue-url is (not an SQS queue URL|not a valid absolute URL)/,
      );
      expect(err).not.toMatch(/credentials/);
      expect(sqs.calls()).toHaveLength(0);
    },
  );

  it('a malformed queue URL in a variable is named, with the variable, exit 1', async () => {
    vi.stubEnv('RETRY_QUEUE_URL', 'https://example.com/');

    const { code, err } = await run('status');

    expect(code).toBe(1);
    expect(err).toBe(
      'cognito-user-sync: RETRY_QUEUE_URL is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got "https://example.com/"',
    );
  });

  it('shows how many messages the worker is retrying, and since when, from its own metric', async () => {
    const now = Date.now();
    const period = 300_000;
    const current = Math.floor(now / period) * period;
    // Deferrals in each of the last seven 5-minute periods, and one before a gap.
    cloudwatch.on(GetMetricStatisticsCommand, { MetricName: 'RetryDeferred' }).resolves({
      Datapoints: [
        ...Array.from({ length: 7 }, (_, n) => ({ Timestamp: new Date(current - n * period), Sum: 6 })),
        { Timestamp: new Date(current - 10 * period), Sum: 3 },
      ],
    });

    const { code, out } = await run(
      'status',
      '--retry-queue-url',
      RETRY,
      '--service',
      'prod',
      '--output',
      'json',
    );

    expect(code).toBe(0);
    const [retry] = JSON.parse(out);
    expect(retry).toMatchObject({
      name: 'retry',
      hidden: 42,
      retrying: { lastHour: 45, since: new Date(current - 6 * period).toISOString() },
    });
    expect(
      cloudwatch.commandCalls(GetMetricStatisticsCommand, { MetricName: 'RetryDeferred' })[0]?.args[0].input,
    ).toMatchObject({
      Namespace: 'CognitoUserSync',
      Dimensions: [{ Name: 'service', Value: 'prod' }],
      Period: 300,
    });
  });
});
