// What the AWS-tier tests share: the SDK pointed at moto, queues and user pools made per test, and
// the retry worker driven the way Lambda's SQS event source mapping drives it.

import { randomUUID } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { inject, vi } from 'vitest';
import { motoControl, motoEnv } from '../../scripts/moto.mjs';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { createHandler as createRetryWorker } from '../../src/handlers/retry-worker.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { type CapturedOutput, captureOutput } from '../helpers/output.js';

export const moto = () => inject('moto');

/** Points every AWS SDK client made from now on at moto, with fake credentials. */
export const useMoto = (): void => {
  clearCache();
  const { endpoint, controlEndpoint } = moto();
  for (const [name, value] of Object.entries(motoEnv(endpoint, controlEndpoint))) vi.stubEnv(name, value);
};

export const sqs = () => new SQSClient({});

export interface Queues {
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
}

/** A retry queue and its dead-letter queue, as the IaC makes them (redrive after 12 receives). */
export const createQueues = async ({ visibilityTimeout = 30 } = {}): Promise<Queues> => {
  const client = sqs();
  const name = `cus-${randomUUID().slice(0, 8)}`;
  const { QueueUrl: deadLetterQueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq` }),
  );
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const { QueueUrl: retryQueueUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: `${name}-retry`,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeout),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 12 }),
      },
    }),
  );
  if (!retryQueueUrl || !deadLetterQueueUrl) throw new Error('moto made no queue');
  return { retryQueueUrl, deadLetterQueueUrl };
};

export interface PoolUserFixture {
  username: string;
  /** The Cognito status to give the user; default CONFIRMED. */
  status?: string;
  attributes?: Record<string, string>;
}

/**
 * A user pool in moto and its users, made as AdminCreateUser makes them (FORCE_CHANGE_PASSWORD),
 * then given their status through moto's control endpoint (scripts/moto-server.py): CONFIRMED, as
 * a confirmed sign-up is, or EXTERNAL_PROVIDER, which only a federated sign-in gives. Their subs,
 * in order: moto makes them, as Cognito does. The retry worker checks each queued user against
 * the pool its message names, so every AWS-tier message names a pool made here.
 */
export const createPool = async (
  users: PoolUserFixture[],
): Promise<{ userPoolId: string; subs: string[] }> => {
  const cognito = new CognitoIdentityProviderClient({});
  const { UserPool } = await cognito.send(
    new CreateUserPoolCommand({ PoolName: `cus-${randomUUID().slice(0, 8)}` }),
  );
  const userPoolId = UserPool?.Id;
  if (!userPoolId) throw new Error('moto made no user pool');
  const subs = await mapConcurrent(users, 8, async ({ username, status = 'CONFIRMED', attributes = {} }) => {
    const { User } = await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: username,
        MessageAction: 'SUPPRESS',
        UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
      }),
    );
    const sub = User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
    if (!sub) throw new Error('moto gave the user no sub');
    await motoControl(moto().controlEndpoint, { op: 'set-user-status', userPoolId, username, status });
    return sub;
  });
  return { userPoolId, subs };
};

/** Visible, in flight and delayed messages together. */
export const queueDepth = async (QueueUrl: string) => {
  const { Attributes = {} } = await sqs().send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    notVisible: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
  };
};

/** Receives without hiding: a look at what a queue holds, attributes included. */
export const peek = async (QueueUrl: string) => {
  const { Messages = [] } = await sqs().send(
    new ReceiveMessageCommand({
      QueueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
};

/**
 * One poll of the event source mapping: receive a batch, invoke the worker, delete what it did
 * not report as failed. Returns the worker's answer, or undefined when the queue had nothing.
 */
let received: string[] = [];

/**
 * Makes the messages of the last poll visible again, as if their backoff had passed: a deferral
 * is a wait the tests need not sit through.
 */
export const skipBackoff = async (QueueUrl: string): Promise<void> => {
  for (const ReceiptHandle of received) {
    await sqs().send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle, VisibilityTimeout: 0 }));
  }
};

/** An SQS consumer of ours: the retry worker or the user-changes function. */
export type Consumer = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export const pollOnce = async (
  QueueUrl: string,
  worker: Consumer = createRetryWorker(),
  /** Where to keep what the worker wrote (its log lines and EMF metrics), one entry per poll. */
  outputs?: CapturedOutput[],
): Promise<SQSBatchResponse | undefined> => {
  const client = sqs();
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  if (Messages.length === 0) return undefined;
  received = Messages.map((message) => message.ReceiptHandle ?? '');
  const records = Messages.map(
    (message): SQSRecord => ({
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: message.Attributes?.SentTimestamp ?? '0',
        SenderId: message.Attributes?.SenderId ?? '',
        ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? '0',
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:retry',
      awsRegion: 'eu-west-1',
    }),
  );
  const output = captureOutput();
  outputs?.push(output);
  const response = await worker(
    { Records: records },
    lambdaContext({ getRemainingTimeInMillis: () => 30_000 }),
  ).finally(() => output.restore());
  const failed = new Set(response.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier));
  for (const message of Messages) {
    if (!failed.has(message.MessageId ?? '')) {
      await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return response;
};

/** Polls until the queue has nothing visible. */
export const drain = async (
  QueueUrl: string,
  maxPolls = 50,
  worker?: Consumer,
  outputs?: CapturedOutput[],
): Promise<void> => {
  for (let poll = 0; poll < maxPolls; poll++) {
    if ((await pollOnce(QueueUrl, worker, outputs)) === undefined) return;
  }
  throw new Error(`${QueueUrl} still had messages after ${maxPolls} polls`);
};

/**
 * A TCP endpoint in front of moto that either forwards (as moto) or hangs: it accepts each
 * connection and never answers, as a stalled AWS endpoint does. `closedByClient` counts the
 * connections the client gave up on.
 */
export const startHangingProxy = async (target: string) => {
  const { hostname, port } = new URL(target);
  const state = { hang: true, closedByClient: 0, connections: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (state.hang) {
      socket.on('data', () => undefined);
      socket.on('close', () => state.closedByClient++);
      return;
    }
    const upstream = connect(Number(port), hostname);
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${own}`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};

/** Polls `check` until it holds or `timeoutMs` passes; no fixed sleeps. */
export const eventually = async (
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`still not true after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
