// What every SQS consumer of ours does with its batch: read each record's delivery (its receive
// count decides the backoff step), and answer with the records to keep (`batchItemFailures`,
// ReportBatchItemFailures: SQS deletes the others).

import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** One delivery of a queue message. */
export interface QueueRecord {
  messageId: string;
  body: string;
  receiptHandle: string;
  /** How many times SQS has delivered this message, this delivery included. */
  receiveCount: number;
}

const receiveCountOf = (record: SQSRecord): number => {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count > 0 ? count : 1;
};

/** The batch's records; an event without Records is an empty batch. */
export const recordsOf = (event: SQSEvent): QueueRecord[] =>
  (Array.isArray(event?.Records) ? event.Records : []).map((record) => ({
    messageId: record.messageId,
    body: record.body,
    receiptHandle: record.receiptHandle,
    receiveCount: receiveCountOf(record),
  }));

/** The answer that keeps `failed` on the queue (SQS brings them back) and lets the rest go. */
export const batchResponse = (
  records: readonly QueueRecord[],
  failed: ReadonlySet<string>,
): SQSBatchResponse => ({
  batchItemFailures: records
    .filter((record) => failed.has(record.messageId))
    .map((record) => ({ itemIdentifier: record.messageId })),
});

/** The answer that keeps every record: fail-open's, when nothing could be done. */
export const everyRecordFailed = (event: SQSEvent): SQSBatchResponse => {
  const records = recordsOf(event);
  return batchResponse(records, new Set(records.map((record) => record.messageId)));
};
