// What the real handlers emit in each shape of User Service outage: the post-confirmation
// trigger, the retry worker and the user-changes function, each through its whole middy chain,
// against a User Service on loopback that answers 5xx, answers 401 (after the key refetch too),
// refuses connections, never answers, or answers 429, and against a healthy one. AWS is mocked at
// the SDK (aws-sdk-client-mock), as in the unit tier. For each invocation: the EMF blobs it wrote,
// and the visibility timeout it asked SQS for when it deferred a message (its backoff step).
//
// Each outcome is recorded once per shape (and per receive count for the consumers) and replayed
// at the traffic rate by the simulation (traffic.ts): running the handlers for every simulated
// sign-up of hours of traffic would take minutes of real time, as every failing invocation spends
// its deadline. Each recording is checked against its shape before it is replayed: an outcome the
// test machine's load decided (a healthy sync cut short by a busy CPU) fails here, naming itself,
// rather than as an alarm that fires in a scenario it should not.

import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import { createHandler as createRetryWorker } from '../../src/handlers/retry-worker.js';
import { createHandler as createUserChanges } from '../../src/handlers/user-changes.js';
import { invokeHandler, loadEvent } from '../helpers/handler.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { captureOutput } from '../helpers/output.js';
import {
  type Responder,
  refusedUrl,
  reply,
  silence,
  startScriptedServer,
} from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';
import { type EmfBlob, emfCounts } from './emf.js';

export const OUTAGE_SHAPES = ['5xx', '401', 'refused', 'timeout', '429'] as const;
export type OutageShape = (typeof OUTAGE_SHAPES)[number];
export type Shape = 'healthy' | OutageShape;

/** One invocation: what it wrote, and the backoff it asked for when it deferred its message. */
export interface Recorded {
  emf: EmfBlob[];
  visibilitySeconds: number | undefined;
}

export interface Recording {
  /** A sign-up. */
  trigger: Recorded;
  /** The retry worker on the message the trigger queued, by receive count (index 0: the first). */
  worker: Recorded[];
  /** The user-changes function on a Cognito change, by receive count. */
  changes: Recorded[];
}

/** Receive counts recorded for the consumers; later ones repeat the last step (the backoff's plateau). */
export const RECORDED_RECEIVES = 8;

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/alarms';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:user-service-api-key-AbCdEf';

/** The User Service's answers in a shape; null: nothing listens. */
const scripts: Record<Exclude<Shape, 'refused'>, Responder> = {
  healthy: (request, response, n) => {
    const created = { cognitoSub: (request.json as { cognitoSub?: string } | undefined)?.cognitoSub ?? SUB };
    if (request.method === 'POST') reply(201, created)(request, response, n);
    else if (request.method === 'DELETE') reply(204, '')(request, response, n);
    else reply(200, { cognitoSub: SUB })(request, response, n);
  },
  '5xx': reply(503, { error: 'unavailable' }),
  '401': reply(401, { error: 'unauthorized' }),
  timeout: silence,
  '429': reply(429, { error: 'too_many_requests' }, { 'retry-after': '30' }),
};

const mockAws = () => ({
  sqs: mockClient(SQSClient),
  secrets: mockClient(SecretsManagerClient),
  cognito: mockClient(CognitoIdentityProviderClient),
});
type Mocks = ReturnType<typeof mockAws>;

/**
 * The time each invocation gets. A failing one spends all of it, so an outage gets little: enough
 * for the trigger to make its first attempt (SYNC_DEADLINE_MS 1000 keeps a fifth for the queue
 * send, and an attempt needs 100 ms: src/clients/user-service/transport.ts) and for a consumer to
 * try and defer, a second or so each. A healthy invocation ends as soon as the User Service
 * answers, so it gets what the deployment gives it (the default SYNC_DEADLINE_MS, the retry
 * worker's 30 s timeout): a round trip on loopback is then never cut short by a busy machine.
 */
const BUDGETS = {
  healthy: { syncDeadlineMs: '3500', consumerRemainingMs: 30_000 },
  outage: { syncDeadlineMs: '1000', consumerRemainingMs: 3_400 },
} as const;

/** What each invocation must have counted, once, in a shape; anything else is a wrong recording. */
const EXPECTED = {
  healthy: { trigger: 'UserSynced', worker: 'RetrySucceeded', changes: 'UserChangeUpdated' },
  outage: { trigger: 'UserSyncQueued', worker: 'RetryDeferred', changes: 'UserChangeDeferred' },
} as const;

const countsOf = (recorded: Recorded) => {
  const sum: Record<string, number> = {};
  for (const blob of recorded.emf) {
    for (const [name, value] of Object.entries(emfCounts(blob))) sum[name] = (sum[name] ?? 0) + value;
  }
  return sum;
};

/** Throws, naming the shape and the invocation, when a recording is not its shape's outcome. */
const checkRecording = (shape: Shape, recording: Recording) => {
  const expected = EXPECTED[shape === 'healthy' ? 'healthy' : 'outage'];
  const invocations: [string, Recorded, string][] = [
    ['the sign-up', recording.trigger, expected.trigger],
    ...recording.worker.map((recorded, index): [string, Recorded, string] => [
      `the retry worker's receive ${index + 1}`,
      recorded,
      expected.worker,
    ]),
    ...recording.changes.map((recorded, index): [string, Recorded, string] => [
      `the user-changes function's receive ${index + 1}`,
      recorded,
      expected.changes,
    ]),
  ];
  for (const [what, recorded, metric] of invocations) {
    const counts = countsOf(recorded);
    if (counts[metric] !== 1) {
      throw new Error(
        `a ${shape} User Service: ${what} counted ${JSON.stringify(counts)}, not ${metric} once; the recording, not the alarms, is wrong`,
      );
    }
  }
};

/** A consumer's invocation with `remainingMs` left: a failing one ends in about a second. */
const invokeConsumerOnce = async (
  createConsumer: () => (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>,
  record: SQSRecord,
  remainingMs: number,
) => {
  const handler = createConsumer();
  const output = captureOutput();
  try {
    await handler({ Records: [record] }, lambdaContext({ getRemainingTimeInMillis: () => remainingMs }));
  } finally {
    output.restore();
  }
  return output.emf();
};

/**
 * Runs the handlers in each shape. Sets (and unsets) the environment, and mocks the SDK clients
 * only while it runs.
 */
export const recordOutcomes = async (shapes: readonly Shape[]): Promise<Record<Shape, Recording>> => {
  const { sqs, secrets, cognito } = mockAws();
  const recordings: Partial<Record<Shape, Recording>> = {};
  try {
    for (const shape of shapes) {
      const server = shape === 'refused' ? undefined : await startScriptedServer([scripts[shape]]);
      const url = server?.url ?? (await refusedUrl());
      try {
        const recording = await recordShape(url, shape, { sqs, secrets, cognito });
        checkRecording(shape, recording);
        recordings[shape] = recording;
      } finally {
        await server?.close();
      }
    }
  } finally {
    vi.unstubAllEnvs();
    clearCache();
    sqs.restore();
    secrets.restore();
    cognito.restore();
  }
  return recordings as Record<Shape, Recording>;
};

const recordShape = async (url: string, shape: Shape, mocks: Mocks): Promise<Recording> => {
  const { sqs, secrets, cognito } = mocks;
  const budget = BUDGETS[shape === 'healthy' ? 'healthy' : 'outage'];
  const reset = () => {
    clearCache();
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'queued-1' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ ARN: SECRET, SecretString: 'the-api-key' });
    cognito.reset();
    cognito.on(AdminGetUserCommand).resolves({
      Username: SUB,
      UserStatus: 'CONFIRMED',
      Enabled: true,
      UserLastModifiedDate: new Date('2026-11-26T10:00:00.000Z'),
      UserAttributes: [
        { Name: 'sub', Value: SUB },
        { Name: 'email', Value: 'ada.lovelace@example.com' },
        { Name: 'name', Value: 'Ada Lovelace' },
      ],
    });
  };
  vi.unstubAllEnvs();
  for (const [name, value] of Object.entries({
    AWS_REGION: 'eu-west-1',
    USER_SERVICE_URL: url,
    USER_SERVICE_API_KEY_SECRET_ID: SECRET,
    RETRY_QUEUE_URL: `${QUEUE}-retry`,
    DEAD_LETTER_QUEUE_URL: `${QUEUE}-dead-letter`,
    SYNC_DEADLINE_MS: budget.syncDeadlineMs,
    USER_POOL_ID: POOL,
    CHANGES_QUEUE_URL: `${QUEUE}-changes`,
    CHANGES_DEAD_LETTER_QUEUE_URL: `${QUEUE}-changes-dead-letter`,
  })) {
    vi.stubEnv(name, value);
  }
  const visibility = () =>
    sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input.VisibilityTimeout)[0];

  reset();
  const signUp = await invokeHandler(loadEvent('post-confirmation-signup'));
  const queued = sqs
    .commandCalls(SendMessageCommand)
    .find((call) => call.args[0].input.QueueUrl === `${QUEUE}-retry`)?.args[0].input.MessageBody;
  const trigger = { emf: signUp.output.emf(), visibilitySeconds: undefined };

  // The worker gets what the trigger queued, or (the service being healthy) what it would have.
  let message = queued;
  if (message === undefined) {
    const outage = await startScriptedServer([scripts['5xx']]);
    try {
      vi.stubEnv('USER_SERVICE_URL', outage.url);
      vi.stubEnv('SYNC_DEADLINE_MS', BUDGETS.outage.syncDeadlineMs);
      reset();
      await invokeHandler(loadEvent('post-confirmation-signup'));
      message = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody;
    } finally {
      vi.stubEnv('USER_SERVICE_URL', url);
      vi.stubEnv('SYNC_DEADLINE_MS', budget.syncDeadlineMs);
      await outage.close();
    }
  }
  if (message === undefined) throw new Error('the trigger queued nothing in an outage');

  const change = JSON.stringify(loadEvent('cloudtrail-admin-update-user-attributes'));
  const worker: Recorded[] = [];
  const changes: Recorded[] = [];
  for (let receiveCount = 1; receiveCount <= RECORDED_RECEIVES; receiveCount++) {
    reset();
    const workerEmf = await invokeConsumerOnce(
      createRetryWorker,
      sqsRecord(message, { messageId: `retry-${receiveCount}`, receiveCount }),
      budget.consumerRemainingMs,
    );
    worker.push({ emf: workerEmf, visibilitySeconds: visibility() });
    reset();
    const changesEmf = await invokeConsumerOnce(
      createUserChanges,
      sqsRecord(change, { messageId: `change-${receiveCount}`, receiveCount, queue: 'alarms-changes' }),
      budget.consumerRemainingMs,
    );
    changes.push({ emf: changesEmf, visibilitySeconds: visibility() });
  }
  return { trigger, worker, changes };
};
