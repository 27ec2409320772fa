// The retry worker's time, through its real chain: the record's budget is shared by the Cognito
// lookup and the User Service call, and the invocation's by the records and the SQS calls that
// settle them. A slow Cognito must not open the User Service's breaker, and a slow SQS must not run
// the function out of time (no batch response then: the whole batch comes back).

import {
  AdminGetUserCommand,
  type AdminGetUserCommandInput,
  CognitoIdentityProviderClient,
  UserStatusType,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CIRCUIT_BREAKER } from '../../src/clients/user-service.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { RETRY_MESSAGE_VERSION, type RetryMessage } from '../../src/domain/retry-message.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { createHandler } from '../../src/handlers/retry-worker.js';
import { MetricName } from '../../src/metric-names.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { captureOutput } from '../helpers/output.js';
import { after, reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';

const RETRY_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry';
const DEAD_LETTER_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq';
const POOL = 'eu-west-1_Qx7Lm2Rt9';
const sqs = mockClient(SQSClient);
const cognito = mockClient(CognitoIdentityProviderClient);
mockClient(SecretsManagerClient).on(GetSecretValueCommand).rejects(new Error('no secret expected'));

const unsynced = (sub: string): RetryMessage => ({
  version: RETRY_MESSAGE_VERSION,
  idempotencyKey: idempotencyKey(POOL, sub),
  userPoolId: POOL,
  triggerSource: 'PostConfirmation_ConfirmSignUp',
  body: toUserRecord(
    sub,
    { email: `${sub}@example.com`, name: 'Queued User' },
    { status: 'ACTIVE', role: 'USER' },
  ),
  reason: 'http-503',
  attempts: 3,
  firstFailedAt: '2026-11-26T10:00:00.000Z',
});
const record = (n: number): SQSRecord =>
  sqsRecord(JSON.stringify(unsynced(`sub-${n}`)), { messageId: `m-${n}` });

/** How long Cognito takes to answer AdminGetUser, in ms. */
let cognitoTakesMs = 0;

/** What a Lambda invocation comes to: the handler's answer, or none when its time ran out first. */
const inTime = <T>(answer: Promise<T>, context: Context): Promise<T | 'timed out'> => {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(resolve, context.getRemainingTimeInMillis(), 'timed out');
  });
  return Promise.race([answer, timeUp]).finally(() => clearTimeout(timer));
};

/** One invocation of a container's chain with a Lambda context of its own. */
const invoke = async (
  handler: ReturnType<typeof createHandler>,
  records: SQSRecord[],
  context: Context,
): Promise<{ result: SQSBatchResponse; output: ReturnType<typeof captureOutput> }> => {
  const output = captureOutput();
  try {
    return { result: await handler({ Records: records }, context), output };
  } finally {
    output.restore();
  }
};

describe('retry worker, its time budget', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    clearCache();
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    cognitoTakesMs = 0;
    cognito.reset();
    cognito.on(AdminGetUserCommand).callsFake(async ({ Username }: AdminGetUserCommandInput) => {
      await new Promise((resolve) => setTimeout(resolve, cognitoTakesMs));
      return {
        Username,
        UserStatus: UserStatusType.CONFIRMED,
        Enabled: true,
        UserAttributes: [{ Name: 'sub', Value: Username }],
      };
    });
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('RETRY_QUEUE_URL', RETRY_QUEUE_URL);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', DEAD_LETTER_QUEUE_URL);
    vi.stubEnv('USER_SERVICE_API_KEY', 'worker-key');
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server?.close();
    server = undefined;
  });

  const serve = async (...script: Parameters<typeof startScriptedServer>[0]) => {
    server = await startScriptedServer(script);
    vi.stubEnv('USER_SERVICE_URL', server.url);
    return server;
  };

  it("a slow Cognito, leaving a record no time for the User Service, never opens the service's breaker", async () => {
    // Healthy, answering in 150 ms.
    const service = await serve(after(150, reply(201)));
    const handler = createHandler();
    // 3.4 s left: each record has 400 ms, and Cognito takes 360 of them.
    const context = lambdaContext({ getRemainingTimeInMillis: () => 3400 });
    cognitoTakesMs = 360;

    const slow = [];
    for (let n = 0; n < CIRCUIT_BREAKER.failureThreshold; n++)
      slow.push((await invoke(handler, [record(n)], context)).result);
    cognitoTakesMs = 0;
    const { result, output } = await invoke(handler, [record(9)], context);

    // Each slow record waits its next step; none of them counted against the service.
    expect(slow.flatMap(({ batchItemFailures }) => batchItemFailures)).toHaveLength(
      CIRCUIT_BREAKER.failureThreshold,
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(output.metric(MetricName.RetrySucceeded)).toEqual([1]);
    expect(service.requests.at(-1)?.headers['idempotency-key']).toBe(idempotencyKey(POOL, 'sub-9'));
  });

  it('answers within its time when SQS hangs: the records it could not settle are batch item failures', async () => {
    // The first user is deferred (a 503), the second refused (a 422): neither SQS call ever answers.
    await serve((request, response, n) =>
      reply((request.json as { cognitoSub?: string }).cognitoSub === 'sub-1' ? 503 : 422, {})(
        request,
        response,
        n,
      ),
    );
    sqs.on(ChangeMessageVisibilityCommand).callsFake(() => new Promise(() => undefined));
    sqs.on(SendMessageCommand).callsFake(() => new Promise(() => undefined));
    // A Lambda clock of 5 s, running.
    const context = lambdaContext();
    const output = captureOutput();

    const result = await inTime(
      createHandler()({ Records: [record(1), record(2)] }, context),
      context,
    ).finally(() => output.restore());

    // Both stay on the queue: the deferral did not happen, nor did the dead-lettering.
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
    expect(output.logs()).toContainEqual(
      expect.objectContaining({
        messageId: 'm-1',
        outcome: 'deferred',
        deferFailure: 'DeadlineExceededError',
      }),
    );
    expect(output.logs()).toContainEqual(
      expect.objectContaining({ messageId: 'm-2', message: 'Retry failed; the message stays on the queue' }),
    );
  }, 10_000);
});
