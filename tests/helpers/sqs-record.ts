// One SQS record as an event source mapping hands it to a consumer: the shape of AWS's sample SQS
// event (see events/sqs-retry-message.json), with what a test varies as options.

import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';

export interface SqsRecordOptions {
  messageId?: string;
  /** Default `receipt-<messageId>`. */
  receiptHandle?: string;
  receiveCount?: number;
  /** The queue's name in the record's ARN. */
  queue?: string;
  messageAttributes?: SQSMessageAttributes;
}

export const sqsRecord = (
  body: string,
  {
    messageId = 'm-1',
    receiptHandle,
    receiveCount = 1,
    queue = 'retry',
    messageAttributes = {},
  }: SqsRecordOptions = {},
): SQSRecord => ({
  messageId,
  receiptHandle: receiptHandle ?? `receipt-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: String(receiveCount),
    SentTimestamp: '1764151200000',
    SenderId: 'AIDAEXAMPLE',
    ApproximateFirstReceiveTimestamp: '1764151200000',
  },
  messageAttributes,
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:${queue}`,
  awsRegion: 'eu-west-1',
});
