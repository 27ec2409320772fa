// The measured process of the retry worker's throughput, under Node 22: the built retry worker,
// imported from its unzipped task root, drained by a poller that does what Lambda's SQS event
// source mapping does, one batch at a time (MaximumConcurrency 1): receive up to 10 messages,
// invoke the handler with them, delete the ones not reported in batchItemFailures. The poller's
// SQS calls (to moto on loopback) count in the time, as the event source mapping's do in AWS.
// BENCH_MESSAGES says how many to expect; BENCH_SQS_RECORD is the record to shape them on.

import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

const queueUrl = process.env.RETRY_QUEUE_URL;
const expected = Number(process.env.BENCH_MESSAGES);
const { handler } = await import(pathToFileURL(`${process.env.LAMBDA_TASK_ROOT}/index.mjs`).href);
const sqs = new SQSClient({});

// The committed record (events/sqs-retry-message.json) gives each record's shape and its static
// fields; the received message gives the rest, as the event source mapping fills them.
const template = JSON.parse(process.env.BENCH_SQS_RECORD ?? '{}');
const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
];

const toRecord = (message) => ({
  ...template,
  messageId: message.MessageId,
  receiptHandle: message.ReceiptHandle,
  body: message.Body,
  attributes: Object.fromEntries(
    SYSTEM_ATTRIBUTES.map((name) => [name, message.Attributes?.[name] ?? template.attributes?.[name]]),
  ),
  messageAttributes: Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      {
        stringValue: value.StringValue,
        stringListValues: [],
        binaryListValues: [],
        dataType: value.DataType,
      },
    ]),
  ),
  md5OfBody: message.MD5OfBody,
});

let batch = 0;
const context = () => {
  const endsAt = Date.now() + 30_000;
  batch += 1;
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:retry-worker`,
    memoryLimitInMB: '256',
    awsRequestId: `batch-${batch}`,
    logGroupName: '/aws/lambda/retry-worker',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => endsAt - Date.now(),
  };
};

let deleted = 0;
let failed = 0;
let empty = 0;
let handlerMs = 0;
let receiveMs = 0;
let deleteMs = 0;
const started = performance.now();
while (deleted < expected && empty < 5) {
  let mark = performance.now();
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  receiveMs += performance.now() - mark;
  if (Messages.length === 0) {
    empty += 1;
    continue;
  }
  empty = 0;
  mark = performance.now();
  const response = await handler({ Records: Messages.map(toRecord) }, context());
  handlerMs += performance.now() - mark;
  const failures = new Set(response.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier));
  failed += failures.size;
  const done = Messages.filter((message) => !failures.has(message.MessageId));
  mark = performance.now();
  if (done.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
  deleteMs += performance.now() - mark;
  deleted += done.length;
}
const elapsedMs = performance.now() - started;

writeSync(
  3,
  JSON.stringify({
    node: process.version,
    messages: expected,
    deleted,
    failed,
    batches: batch,
    elapsedMs,
    handlerMs,
    receiveMs,
    deleteMs,
  }),
);
setTimeout(() => process.exit(0), 100);
