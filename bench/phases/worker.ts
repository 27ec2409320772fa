// The retry worker's throughput: messages made from the committed retry-queue record
// (events/sqs-retry-message.json), each for a user of a moto pool the User Service has not got,
// queued in moto and drained by the built worker under a poller that does what the SQS event
// source mapping does. The worker asks Cognito for each user before it creates them (AdminGetUser,
// paced per container): that lookup is part of what is measured.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { isRecord } from '../../src/guards.js';
import { createConfirmedPool, fillRetryQueue, type QueuedMessage, queueDepth } from '../lib/aws-fixtures.js';
import { ROOT, runMeasured } from '../lib/processes.js';
import { time } from '../lib/progress.js';
import { NODE_FLAGS, type Setup, taskRoot, WORKER_ZIP } from '../lib/setup.js';

const FIXTURE = 'events/sqs-retry-message.json';
const DRAIN = join(ROOT, 'bench/lib/drain-retry-queue.mjs');

/** What bench/lib/drain-retry-queue.mjs reports. */
interface DrainFigures {
  node: string;
  messages: number;
  deleted: number;
  failed: number;
  batches: number;
  elapsedMs: number;
  handlerMs: number;
  receiveMs: number;
  deleteMs: number;
}

export interface WorkerResult extends DrainFigures {
  messagesPerSecond: number;
  /** The worker's own capacity: messages over the time spent inside the handler. */
  handlerMessagesPerSecond: number;
  usersCreated: number;
  leftOnQueue: number;
}

/** The fixture's message, narrowed to what the benchmark varies; the rest is passed on as it is. */
interface FixtureMessage extends Record<string, unknown> {
  userPoolId: string;
  body: Record<string, unknown> & { cognitoSub: string };
}

interface Fixture {
  /** The whole SQS record: the poller builds each record it hands the worker on it. */
  record: Record<string, unknown>;
  message: FixtureMessage;
  /** Its message attributes as SendMessage takes them. */
  attributes: Record<string, MessageAttributeValue>;
}

const readFixture = async (): Promise<Fixture> => {
  const event: unknown = JSON.parse(await readFile(join(ROOT, FIXTURE), 'utf8'));
  const record = isRecord(event) && Array.isArray(event.Records) ? event.Records[0] : undefined;
  if (!isRecord(record) || typeof record.body !== 'string') {
    throw new Error(`${FIXTURE} has no record with a body`);
  }
  const message: unknown = JSON.parse(record.body);
  if (
    !isRecord(message) ||
    typeof message.userPoolId !== 'string' ||
    !isRecord(message.body) ||
    typeof message.body.cognitoSub !== 'string'
  ) {
    throw new Error(`${FIXTURE}: the message has no userPoolId or no body with a cognitoSub`);
  }
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(
    isRecord(record.messageAttributes) ? record.messageAttributes : {},
  )) {
    if (!isRecord(value) || typeof value.stringValue !== 'string' || typeof value.dataType !== 'string') {
      throw new Error(`${FIXTURE}: the message attribute ${name} is not a string attribute`);
    }
    attributes[name] = { DataType: value.dataType, StringValue: value.stringValue };
  }
  const { userPoolId, body } = message;
  const { cognitoSub } = message.body;
  return { record, message: { ...message, userPoolId, body: { ...body, cognitoSub } }, attributes };
};

/**
 * A message like the fixture's for each user of the pool, whom the User Service has not got: the
 * pool's id, the user's sub wherever the fixture has its sub, a new email, and the idempotency key
 * the sign-up path gives that user (the worker checks it), computed, not copied.
 */
const messagesLike = (
  { message, attributes }: Fixture,
  pool: { userPoolId: string; subs: string[] },
): QueuedMessage[] =>
  pool.subs.map((sub, n) => {
    const { body } = message;
    const renamed = Object.fromEntries(
      Object.entries(body).map(([key, value]) => [key, value === body.cognitoSub ? sub : value]),
    );
    return {
      body: JSON.stringify({
        ...message,
        userPoolId: pool.userPoolId,
        idempotencyKey: idempotencyKey(pool.userPoolId, sub),
        body: {
          ...renamed,
          ...(typeof body.email === 'string' && { email: body.email.replace('@', `+${n}@`) }),
        },
      }),
      attributes,
    };
  });

export const worker = async (setup: Setup, messages: number): Promise<WorkerResult> => {
  await setup.userService.reset();
  const fixture = await readFixture();
  const queueUrl = setup.workerEnv.RETRY_QUEUE_URL ?? '';
  const pool = await time(`creating a moto pool of ${messages} confirmed users for them`, () =>
    createConfirmedPool(setup.moto, messages, 16, 'bench-worker'),
  );
  await time(`queueing ${messages} messages like ${FIXTURE}'s`, () =>
    fillRetryQueue(setup.moto, queueUrl, messagesLike(fixture, pool)),
  );
  const measured = await time('draining them with the retry worker', () =>
    runMeasured<DrainFigures>(setup.node22.path, DRAIN, {
      env: {
        ...setup.workerEnv,
        BENCH_MESSAGES: String(messages),
        BENCH_SQS_RECORD: JSON.stringify(fixture.record),
      },
      cwd: taskRoot(WORKER_ZIP),
      nodeFlags: NODE_FLAGS,
    }),
  );
  const stats = await setup.userService.stats();
  const figures = measured.result;
  if (figures.deleted !== messages || stats.users !== messages) {
    throw new Error(
      `${figures.deleted} of ${messages} messages done, ${stats.users} users created:\n${measured.stdoutTail}`,
    );
  }
  return {
    ...figures,
    messagesPerSecond: (figures.deleted / figures.elapsedMs) * 1000,
    handlerMessagesPerSecond: (figures.deleted / figures.handlerMs) * 1000,
    usersCreated: stats.users,
    leftOnQueue: await queueDepth(setup.moto, queueUrl),
  };
};
