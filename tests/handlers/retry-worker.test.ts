// The retry worker through its real middy chain: each message's fate (done, deferred on the
// backoff schedule, dead-lettered with its reason, dropped when Cognito no longer has the user),
// reported as SQS expects. Cognito and SQS mocked at the SDK, the User Service a real loopback one.

import {
  AdminGetUserCommand,
  type AdminGetUserCommandInput,
  CognitoIdentityProviderClient,
  ListUsersCommand,
  UserStatusType,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RETRY_SCHEDULE_SECONDS } from '../../src/core/backoff.js';
import { USER_RECORD_FIELDS, USER_RECORD_KEYS } from '../../src/domain/contract.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { RETRY_MESSAGE_VERSION, type RetryMessage } from '../../src/domain/retry-message.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { createHandler, WORKER_CONCURRENCY } from '../../src/handlers/retry-worker.js';
import { MetricName } from '../../src/metric-names.js';
import { verifyUserSyncRequest } from '../../src/verify.js';
import { webhookIdFor } from '../../src/webhooks/signature.js';
import { invokeConsumer } from '../helpers/handler.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';

const RETRY_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry';
const DEAD_LETTER_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq';
const POOL = 'eu-west-1_Qx7Lm2Rt9';
const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);
const cognito = mockClient(CognitoIdentityProviderClient);

/** A user of the pool as AdminGetUser answers for them (the sub asked for). */
const inCognito = (sub: string) => ({
  Username: sub,
  UserStatus: UserStatusType.CONFIRMED,
  Enabled: true,
  UserLastModifiedDate: new Date('2026-11-26T10:00:00.000Z'),
  UserAttributes: [
    { Name: 'sub', Value: sub },
    { Name: 'email', Value: `${sub}@example.com` },
  ],
});
/** A federated user as ListUsers lists them: AdminGetUser does not take their sub as Username. */
const federated = (sub: string) => ({
  Username: `google_${sub}`,
  UserStatus: UserStatusType.EXTERNAL_PROVIDER,
  Enabled: true,
  UserLastModifiedDate: new Date('2026-11-26T10:00:00.000Z'),
  Attributes: [
    { Name: 'sub', Value: sub },
    { Name: 'email', Value: `${sub}@example.com` },
  ],
});
/** An AWS SDK error as the client throws it: its name is what counts. */
const awsError = (name: string) => Object.assign(new Error(`${name}: message not read`), { name });
const userNotFound = () => awsError('UserNotFoundException');

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

const record = (messageId: string, body: string, receiveCount = 1): SQSRecord =>
  sqsRecord(body, { messageId, receiveCount });

const invoke = (records: SQSRecord[]) => invokeConsumer(createHandler, records);

describe('retry worker', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    clearCache();
    secrets.reset();
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    // Cognito has every user the tests name, unless a test says otherwise.
    cognito.reset();
    cognito
      .on(AdminGetUserCommand)
      .callsFake(async ({ Username }: AdminGetUserCommandInput) => inCognito(Username ?? ''));
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('RETRY_QUEUE_URL', RETRY_QUEUE_URL);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', DEAD_LETTER_QUEUE_URL);
    vi.stubEnv('USER_SERVICE_API_KEY', 'worker-key');
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server?.close();
  });

  const serve = async (...script: Parameters<typeof startScriptedServer>[0]) => {
    server = await startScriptedServer(script);
    vi.stubEnv('USER_SERVICE_URL', server.url);
    return server;
  };

  it('sends the stored body with its idempotency key, and acknowledges on 201 or 409', async () => {
    const service = await serve(reply(201), (request, response, n) =>
      reply(409, {
        error: 'already_exists',
        cognitoSub: (request.json as { cognitoSub: string }).cognitoSub,
      })(request, response, n),
    );
    const first = unsynced('sub-1');

    const { result, output } = await invoke([
      record('m-1', JSON.stringify(first)),
      record('m-2', JSON.stringify(unsynced('sub-2'))),
    ]);

    expect(result).toEqual({ batchItemFailures: [] });
    const sent = service.requests.find(
      (request) => request.headers['idempotency-key'] === first.idempotencyKey,
    );
    expect(sent?.body).toBe(JSON.stringify(first.body));
    expect(sent?.headers['x-api-key']).toBe('worker-key');
    expect(output.metric(MetricName.RetrySucceeded)).toEqual([1, 1]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('still retries a version-1 message of today: its body sent in the current shape, a field added since null', async () => {
    const service = await serve(reply(201));
    // As the sign-up path of today writes it, exactly these keys: a message queued before any field
    // was added waits through the deployment that adds one.
    const queued = `{"version":1,"idempotencyKey":"${idempotencyKey(POOL, 'sub-1')}","userPoolId":"${POOL}","triggerSource":"PostConfirmation_ConfirmSignUp","body":{"cognitoSub":"sub-1","email":"sub-1@example.com","fullName":"Queued User","status":"ACTIVE","role":"USER","createdBy":"sub-1","updatedBy":"sub-1"},"reason":"http-503","attempts":3,"firstFailedAt":"2026-11-26T10:00:00.000Z"}`;

    const { result, output } = await invoke([record('m-1', queued)]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(output.metric(MetricName.RetrySucceeded)).toEqual([1]);
    const [sent] = service.requests;
    expect(sent?.headers['idempotency-key']).toBe(idempotencyKey(POOL, 'sub-1'));
    expect(Object.keys(sent?.json as object)).toEqual([...USER_RECORD_KEYS]);
    expect(sent?.json).toEqual({
      ...Object.fromEntries(
        USER_RECORD_KEYS.filter((key) => USER_RECORD_FIELDS[key].since > 1).map((key) => [key, null]),
      ),
      ...(JSON.parse(queued) as { body: object }).body,
    });
  });

  it('signs its requests as the function does, the same webhook-id for the same user', async () => {
    const service = await serve(reply(201));
    vi.stubEnv('USER_SERVICE_SIGNING_SECRET', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const message = unsynced('sub-1');

    await invoke([record('m-1', JSON.stringify(message))]);

    const [request] = service.requests;
    expect(request?.headers['webhook-id']).toBe(webhookIdFor(message.idempotencyKey));
    expect(
      verifyUserSyncRequest({
        headers: request?.headers ?? {},
        body: request?.body ?? '',
        secrets: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      }),
    ).toMatchObject({ ok: true });
  });

  it('defers a transient failure by the backoff schedule and reports it in batchItemFailures', async () => {
    await serve(reply(503));

    const { result, output } = await invoke([record('m-1', JSON.stringify(unsynced('sub-1')), 4)]);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    const [change] = sqs.commandCalls(ChangeMessageVisibilityCommand);
    expect(change?.args[0].input).toMatchObject({ QueueUrl: RETRY_QUEUE_URL, ReceiptHandle: 'receipt-m-1' });
    const scheduled = RETRY_SCHEDULE_SECONDS[3];
    expect(change?.args[0].input.VisibilityTimeout).toBeGreaterThanOrEqual(scheduled);
    expect(change?.args[0].input.VisibilityTimeout).toBeLessThanOrEqual(scheduled * 1.1);
    expect(output.metric(MetricName.RetryDeferred)).toEqual([1]);
    expect(output.logs()).toContainEqual(
      expect.objectContaining({ outcome: 'deferred', reason: 'http-503' }),
    );
  });

  it('paces itself to the service: after a Retry-After it defers the rest of its batch that long, without a request', async () => {
    const service = await serve(reply(429, { error: 'slow down' }, { 'retry-after': '120' }));
    const records = Array.from({ length: 10 }, (_, n) =>
      record(`m-${n}`, JSON.stringify(unsynced(`sub-${n}`))),
    );

    const { result, output } = await invoke(records);

    expect(service.requests).toHaveLength(1);
    expect(result.batchItemFailures).toHaveLength(10);
    const waits = sqs
      .commandCalls(ChangeMessageVisibilityCommand)
      .map((call) => call.args[0].input.VisibilityTimeout);
    expect(waits).toHaveLength(10);
    expect(Math.min(...(waits as number[]))).toBeGreaterThanOrEqual(120);
    // Only the records already under way when the service answered asked Cognito.
    expect(cognito.commandCalls(AdminGetUserCommand).length).toBeLessThanOrEqual(WORKER_CONCURRENCY);
    expect(output.logs()).toContainEqual(
      expect.objectContaining({ outcome: 'deferred', reason: 'circuit-open' }),
    );
  });

  it.each([
    ['a refused payload (422)', reply(422, { reason: 'email is invalid' }), 'http-422', 'email is invalid'],
    [
      'a redirect (302)',
      reply(302, '', { location: 'https://elsewhere.example.com/' }),
      'redirect-302',
      undefined,
    ],
  ])('dead-letters %s at once, body unchanged, reason attached', async (_, responder, reason, detail) => {
    await serve(responder);
    const body = JSON.stringify(unsynced('sub-1'));

    const { result, output } = await invoke([record('m-1', body)]);

    expect(result).toEqual({ batchItemFailures: [] });
    const [send] = sqs.commandCalls(SendMessageCommand);
    expect(send?.args[0].input).toMatchObject({
      QueueUrl: DEAD_LETTER_QUEUE_URL,
      MessageBody: body,
      MessageAttributes: { reason: { DataType: 'String', StringValue: reason } },
    });
    if (detail) expect(send?.args[0].input.MessageAttributes?.detail?.StringValue).toContain(detail);
    expect(output.metric(MetricName.RetryDeadLettered)).toEqual([1]);
  });

  it.each([
    ['not JSON', 'this is not json'],
    ['not an unsynced user', '{"hello":"world"}'],
    ['a body without a cognitoSub', JSON.stringify({ ...unsynced('s'), body: { email: 'x@example.com' } })],
  ])('dead-letters a malformed message (%s) without calling the User Service', async (_, body) => {
    const service = await serve(reply(201));

    const { result } = await invoke([record('m-1', body)]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(service.requests).toEqual([]);
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      MessageBody: body,
      MessageAttributes: { reason: { StringValue: 'malformed-message' } },
    });
  });

  it.each([
    [
      'the API key secret cannot be read',
      { USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key' },
      'secret-unavailable',
    ],
    ['USER_SERVICE_URL is not set', { USER_SERVICE_URL: '' }, 'config-USER_SERVICE_URL'],
  ])('when %s, defers the whole batch on the schedule instead of failing it', async (_, env, reason) => {
    const service = await serve(reply(201));
    secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);

    const { result, output } = await invoke([
      record('m-1', JSON.stringify(unsynced('sub-1')), 1),
      record('m-2', JSON.stringify(unsynced('sub-2')), 3),
    ]);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
    expect(service.requests).toEqual([]);
    const delays = sqs
      .commandCalls(ChangeMessageVisibilityCommand)
      .map((call) => call.args[0].input.VisibilityTimeout);
    expect(delays.sort((a = 0, b = 0) => a - b)).toEqual([
      expect.toSatisfy((seconds: number) => seconds >= 60 && seconds <= 66),
      expect.toSatisfy((seconds: number) => seconds >= 300 && seconds <= 330),
    ]);
    expect(output.metric(MetricName.RetryDeferred)).toEqual([1, 1]);
    expect(output.logs()).toContainEqual(expect.objectContaining({ level: 'ERROR', reason }));
  });

  it('keeps a message it could not dead-letter on the queue', async () => {
    await serve(reply(422));
    sqs.on(SendMessageCommand).rejects(new Error('SQS unavailable'));

    const { result } = await invoke([record('m-1', JSON.stringify(unsynced('sub-1')))]);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });

  it('handles the records of a batch concurrently', async () => {
    let inFlight = 0;
    let most = 0;
    // Longer than the Cognito lookups' spacing (the pacer), so the sends overlap when they can.
    await serve((_request, response) => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => {
        inFlight--;
        reply(201)(_request, response, 0);
      }, 250);
    });
    const records = Array.from({ length: 10 }, (_, i) =>
      record(`m-${i}`, JSON.stringify(unsynced(`sub-${i}`))),
    );

    const { result } = await invoke(records);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(5);
  });

  describe('a deleted user is never brought back', () => {
    it('drops a user Cognito no longer has: nothing sent, the message deleted, RetryUserGone counted', async () => {
      const service = await serve(reply(201));
      cognito.on(AdminGetUserCommand).rejects(userNotFound());

      const { result, output } = await invoke([record('m-1', JSON.stringify(unsynced('sub-1')))]);

      expect(result).toEqual({ batchItemFailures: [] });
      expect(service.requests).toEqual([]);
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
      expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
      // AdminGetUser by sub, then ListUsers for a federated user with that sub: neither has one.
      expect(cognito.commandCalls(AdminGetUserCommand)[0]?.args[0].input).toEqual({
        UserPoolId: POOL,
        Username: 'sub-1',
      });
      expect(cognito.commandCalls(ListUsersCommand)[0]?.args[0].input).toMatchObject({
        UserPoolId: POOL,
        Filter: 'sub = "sub-1"',
      });
      expect(output.metric(MetricName.RetryUserGone)).toEqual([1]);
      expect(output.metric(MetricName.RetrySucceeded)).toEqual([]);
      expect(output.logs()).toContainEqual(
        expect.objectContaining({
          level: 'INFO',
          message: 'User gone from the pool; not created in the User Service',
          outcome: 'gone',
          reason: 'not-in-pool',
          userPoolId: POOL,
          cognitoSub: 'sub-1',
          messageId: 'm-1',
        }),
      );
    });

    it('creates a federated user, whom AdminGetUser does not find by sub but ListUsers does', async () => {
      const service = await serve(reply(201));
      cognito.on(AdminGetUserCommand).rejects(userNotFound());
      cognito.on(ListUsersCommand).resolves({ Users: [federated('sub-1')] });

      const { result, output } = await invoke([record('m-1', JSON.stringify(unsynced('sub-1')))]);

      expect(result).toEqual({ batchItemFailures: [] });
      expect(service.requests).toHaveLength(1);
      expect(output.metric(MetricName.RetrySucceeded)).toEqual([1]);
      expect(output.metric(MetricName.RetryUserGone)).toEqual([]);
    });

    it('defers, sending nothing, when Cognito throttles: the backoff schedule is the retry', async () => {
      const service = await serve(reply(201));
      cognito.on(AdminGetUserCommand).rejects(awsError('TooManyRequestsException'));

      const { result, output } = await invoke([record('m-1', JSON.stringify(unsynced('sub-1')), 2)]);

      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
      expect(service.requests).toEqual([]);
      expect(cognito.commandCalls(AdminGetUserCommand)).toHaveLength(1);
      const [change] = sqs.commandCalls(ChangeMessageVisibilityCommand);
      expect(change?.args[0].input.VisibilityTimeout).toBeGreaterThanOrEqual(RETRY_SCHEDULE_SECONDS[1]);
      expect(output.metric(MetricName.RetryDeferred)).toEqual([1]);
      expect(output.logs()).toContainEqual(
        expect.objectContaining({ outcome: 'deferred', reason: 'cognito-TooManyRequestsException' }),
      );
    });

    it('defers when the role may not read the pool (AccessDeniedException)', async () => {
      const service = await serve(reply(201));
      cognito.on(AdminGetUserCommand).rejects(awsError('AccessDeniedException'));

      const { result, output } = await invoke([record('m-1', JSON.stringify(unsynced('sub-1')))]);

      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
      expect(service.requests).toEqual([]);
      expect(output.logs()).toContainEqual(
        expect.objectContaining({ outcome: 'deferred', reason: 'cognito-AccessDeniedException' }),
      );
    });

    it('dead-letters the message as pool-not-found when the pool it names does not exist', async () => {
      const service = await serve(reply(201));
      cognito.on(AdminGetUserCommand).rejects(awsError('ResourceNotFoundException'));
      const body = JSON.stringify(unsynced('sub-1'));

      const { result, output } = await invoke([record('m-1', body)]);

      expect(result).toEqual({ batchItemFailures: [] });
      expect(service.requests).toEqual([]);
      expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
        QueueUrl: DEAD_LETTER_QUEUE_URL,
        MessageBody: body,
        MessageAttributes: { reason: { DataType: 'String', StringValue: 'pool-not-found' } },
      });
      expect(output.metric(MetricName.RetryDeadLettered)).toEqual([1]);
    });

    it("asks each pool's own region, with one Cognito client per pool for the container's life", async () => {
      await serve(reply(201));
      const elsewhere = 'us-east-2_Ab3Cd4Ef5';
      const inOhio = {
        ...unsynced('sub-2'),
        userPoolId: elsewhere,
        idempotencyKey: idempotencyKey(elsewhere, 'sub-2'),
      };

      await invoke([record('m-1', JSON.stringify(unsynced('sub-1'))), record('m-2', JSON.stringify(inOhio))]);
      await invoke([record('m-3', JSON.stringify(unsynced('sub-3')))]);

      const calls = cognito.commandCalls(AdminGetUserCommand);
      const clientOf = (sub: string) => calls.find((call) => call.args[0].input.Username === sub)?.thisValue;
      const regionOf = (client: CognitoIdentityProviderClient | undefined) => client?.config.region();
      expect(await regionOf(clientOf('sub-1'))).toBe('eu-west-1');
      expect(await regionOf(clientOf('sub-2'))).toBe('us-east-2');
      expect(clientOf('sub-3')).toBe(clientOf('sub-1'));
      expect(calls.find((call) => call.args[0].input.Username === 'sub-2')?.args[0].input.UserPoolId).toBe(
        elsewhere,
      );
    });
  });

  it('writes no PII: the bodies are masked in the input log', async () => {
    await serve(reply(503));

    const { output } = await invoke([record('m-1', JSON.stringify(unsynced('sub-1')))]);

    expect(output.text()).toContain('sub-1');
    expect(output.text()).not.toContain('sub-1@example.com');
    expect(output.text()).not.toContain('Queued User');
  });
});
