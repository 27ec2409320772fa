// The user-changes function through its real middy chain: a batch of changes-queue records
// (CloudTrail events, as in events/), Cognito and SQS mocked at the SDK, the User Service a real
// loopback server. The fault matrix of PATCH and DELETE, like creation's: each answer, and what
// becomes of the message.

import { readFileSync } from 'node:fs';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../src/handlers/user-changes.js';
import { MetricName } from '../../src/metric-names.js';
import { invokeConsumer } from '../helpers/handler.js';
import {
  after,
  type Responder,
  reply,
  type ScriptedServer,
  silence,
  startScriptedServer,
} from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';
import { CHANGES_DLQ_URL, CHANGES_QUEUE_URL, stubUserChangesEnv } from '../helpers/user-changes-env.js';

const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const sqs = mockClient(SQSClient);
const cognito = mockClient(CognitoIdentityProviderClient);
mockClient(SecretsManagerClient).on(GetSecretValueCommand).rejects(new Error('no secret expected'));

const sample = (name: string) => readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8');

const record = (messageId: string, body: string, receiveCount = 1): SQSRecord =>
  sqsRecord(body, { messageId, receiveCount, queue: 'cognito-user-sync-changes' });

/** Ada as AdminGetUser answers for her (Cognito sends the dates as epoch seconds). */
const adaInCognito = (enabled = true) => ({
  Username: 'ada',
  UserStatus: 'CONFIRMED' as const,
  Enabled: enabled,
  UserLastModifiedDate: new Date('2026-11-26T10:00:00.000Z'),
  UserAttributes: [
    { Name: 'sub', Value: SUB },
    { Name: 'email', Value: 'ada.lovelace@example.com' },
    { Name: 'name', Value: 'Ada Lovelace' },
  ],
});

const invoke = (records: SQSRecord[]) => invokeConsumer(createHandler, records);

const deadLetters = () =>
  sqs
    .commandCalls(SendMessageCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.QueueUrl === CHANGES_DLQ_URL);
const deferrals = () => sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);

describe('user-changes function', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    clearCache();
    sqs.reset();
    cognito.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    cognito.on(AdminGetUserCommand).resolves(adaInCognito());
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    stubUserChangesEnv();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server?.close();
    server = undefined;
  });

  const serve = async (...script: Responder[]) => {
    server = await startScriptedServer(script);
    vi.stubEnv('USER_SERVICE_URL', server.url);
    return server;
  };

  const notFound = reply(404, { error: 'not_found' });
  const created = reply(201, { cognitoSub: SUB });

  interface FaultCase {
    name: string;
    event: string;
    /** Cognito says the user is gone (UserNotFoundException, then no federated user either). */
    gone?: boolean;
    script: Responder[];
    methods: string[];
    metric: MetricName;
    /** What becomes of the message: acknowledged, deferred, or dead-lettered with this reason. */
    fate: 'done' | 'deferred' | { deadLetter: string };
  }

  const cases: FaultCase[] = [
    {
      name: 'PATCH 200',
      event: 'cloudtrail-admin-update-user-attributes',
      script: [reply(200, { cognitoSub: SUB })],
      methods: ['PATCH'],
      metric: MetricName.UserChangeUpdated,
      fate: 'done',
    },
    {
      name: 'PATCH 204',
      event: 'cloudtrail-update-user-attributes',
      script: [reply(204, '')],
      methods: ['PATCH'],
      metric: MetricName.UserChangeUpdated,
      fate: 'done',
    },
    {
      name: 'PATCH 404, then POST 201 (an invited user)',
      event: 'cloudtrail-admin-create-user',
      script: [notFound, created],
      methods: ['PATCH', 'POST'],
      metric: MetricName.UserChangeCreated,
      fate: 'done',
    },
    {
      name: 'PATCH 412 (a newer state is stored)',
      event: 'cloudtrail-admin-disable-user',
      script: [reply(412, { error: 'stale_write' })],
      methods: ['PATCH'],
      metric: MetricName.UserChangeSkipped,
      fate: 'done',
    },
    {
      name: 'PATCH 409 (an email clash)',
      event: 'cloudtrail-verify-user-attribute',
      script: [reply(409, { error: 'conflict', field: 'email' })],
      methods: ['PATCH'],
      metric: MetricName.UserChangeDeadLettered,
      fate: { deadLetter: 'http-409' },
    },
    {
      name: 'PATCH 422',
      event: 'cloudtrail-admin-update-user-attributes',
      script: [reply(422, { error: 'unprocessable' })],
      methods: ['PATCH'],
      metric: MetricName.UserChangeDeadLettered,
      fate: { deadLetter: 'http-422' },
    },
    {
      name: 'PATCH 500',
      event: 'cloudtrail-admin-enable-user',
      script: [reply(500, {})],
      methods: ['PATCH', 'PATCH', 'PATCH'],
      metric: MetricName.UserChangeDeferred,
      fate: 'deferred',
    },
    {
      name: 'PATCH 404 without the contract body (a wrong URL)',
      event: 'cloudtrail-admin-update-user-attributes',
      script: [reply(404, '<html>nothing here</html>')],
      methods: ['PATCH'],
      metric: MetricName.UserChangeDeadLettered,
      fate: { deadLetter: 'http-404' },
    },
    {
      name: 'DELETE 204',
      event: 'cloudtrail-admin-delete-user',
      gone: true,
      script: [reply(204, '')],
      methods: ['DELETE'],
      metric: MetricName.UserChangeDeleted,
      fate: 'done',
    },
    {
      name: 'DELETE 404 (already gone)',
      event: 'cloudtrail-delete-user',
      gone: true,
      script: [notFound],
      methods: ['DELETE'],
      metric: MetricName.UserChangeDeleted,
      fate: 'done',
    },
    {
      name: 'DELETE 422',
      event: 'cloudtrail-admin-delete-user',
      gone: true,
      script: [reply(422, {})],
      methods: ['DELETE'],
      metric: MetricName.UserChangeDeadLettered,
      fate: { deadLetter: 'http-422' },
    },
    {
      name: 'DELETE 503',
      event: 'cloudtrail-admin-delete-user',
      gone: true,
      script: [reply(503, {})],
      methods: ['DELETE', 'DELETE', 'DELETE'],
      metric: MetricName.UserChangeDeferred,
      fate: 'deferred',
    },
  ];

  it.each(cases)('$name', async ({ event, gone, script, methods, metric, fate }) => {
    if (gone)
      cognito
        .on(AdminGetUserCommand)
        .rejects(Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException' }));
    const service = await serve(...script);

    const { result, output } = await invoke([record('m-1', sample(event))]);

    expect(service.requests.map((request) => request.method)).toEqual(methods);
    expect(service.requests.every((request) => request.path.startsWith('/api/v1/users'))).toBe(true);
    expect(output.metric(metric)).toEqual([1]);
    if (fate === 'done') {
      expect(result).toEqual({ batchItemFailures: [] });
      expect(deadLetters()).toEqual([]);
    } else if (fate === 'deferred') {
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
      expect(deferrals()).toEqual([
        expect.objectContaining({ QueueUrl: CHANGES_QUEUE_URL, ReceiptHandle: 'receipt-m-1' }),
      ]);
    } else {
      expect(result).toEqual({ batchItemFailures: [] });
      expect(deadLetters()).toEqual([
        expect.objectContaining({
          MessageBody: sample(event),
          MessageAttributes: expect.objectContaining({
            reason: expect.objectContaining({ StringValue: fate.deadLetter }),
          }),
        }),
      ]);
    }
  });

  it('a User Service that never answers: deferred within the user budget', async () => {
    await serve(silence);

    const { result, output } = await invoke([
      record('m-1', sample('cloudtrail-admin-update-user-attributes')),
    ]);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(output.metric(MetricName.UserChangeDeferred)).toEqual([1]);
  }, 20_000);

  it('a slow but healthy User Service: updated on the first attempt', async () => {
    const service = await serve(after(1500, reply(200, { cognitoSub: SUB })));

    const { output } = await invoke([record('m-1', sample('cloudtrail-admin-update-user-attributes'))]);

    expect(service.requests).toHaveLength(1);
    expect(output.metric(MetricName.UserChangeUpdated)).toEqual([1]);
  });

  it('the same event three times in a batch: one read, one write, every record acknowledged', async () => {
    const service = await serve(reply(200, { cognitoSub: SUB }));
    const body = sample('cloudtrail-admin-update-user-attributes');

    const { result } = await invoke([record('m-1', body), record('m-2', body), record('m-3', body)]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(service.requests).toHaveLength(1);
    expect(cognito.commandCalls(AdminGetUserCommand)).toHaveLength(1);
  });

  it('an event of another pool and a failed call: acknowledged, nothing read or written', async () => {
    const service = await serve(reply(200, {}));

    const { result, output } = await invoke([
      record('m-1', sample('cloudtrail-admin-disable-user-other-pool')),
      record('m-2', sample('cloudtrail-admin-update-user-attributes-failed')),
    ]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(service.requests).toEqual([]);
    expect(cognito.commandCalls(AdminGetUserCommand)).toHaveLength(0);
    expect(output.metric(MetricName.UserChangeSkipped)).toEqual([1, 1]);
  });

  it('AdminGetUser throttled: the message is deferred, nothing is written', async () => {
    cognito
      .on(AdminGetUserCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const service = await serve(reply(200, {}));

    const { result } = await invoke([record('m-1', sample('cloudtrail-admin-update-user-attributes'))]);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(service.requests).toEqual([]);
    expect(deferrals()).toHaveLength(1);
  });

  it('a delete event for a user Cognito still has: no DELETE, the state is written', async () => {
    const service = await serve(reply(200, { cognitoSub: SUB }));

    await invoke([record('m-1', sample('cloudtrail-admin-delete-user'))]);

    expect(service.requests.map((request) => request.method)).toEqual(['PATCH']);
  });

  it('a delete event while a stale ListUsers still lists the deleted local user: DELETE, not PATCH', async () => {
    cognito
      .on(AdminGetUserCommand)
      .rejects(Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException' }));
    const { UserAttributes, ...ada } = adaInCognito();
    cognito.on(ListUsersCommand).resolves({ Users: [{ ...ada, Attributes: UserAttributes }] });
    const service = await serve(reply(204, ''));

    const { result, output } = await invoke([record('m-1', sample('cloudtrail-admin-delete-user'))]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(service.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      `DELETE /api/v1/users/${SUB}`,
    ]);
    expect(output.metric(MetricName.UserChangeDeleted)).toEqual([1]);
  });

  it("an AdminDisableUser whose PATCH gets a bare 412 (not the contract's): dead-lettered, not skipped", async () => {
    await serve(reply(412, ''));

    const { result, output } = await invoke([record('m-1', sample('cloudtrail-admin-disable-user'))]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(deadLetters()).toEqual([
      expect.objectContaining({
        MessageBody: sample('cloudtrail-admin-disable-user'),
        MessageAttributes: expect.objectContaining({
          reason: expect.objectContaining({ StringValue: 'http-412' }),
        }),
      }),
    ]);
    expect(output.metric(MetricName.UserChangeDeadLettered)).toEqual([1]);
    expect(output.metric(MetricName.UserChangeSkipped)).toEqual([]);
  });

  it("an AdminDisableUser whose PATCH gets the contract's 412 (a newer state is stored): skipped", async () => {
    await serve(reply(412, { error: 'stale_write' }));

    const { result, output } = await invoke([record('m-1', sample('cloudtrail-admin-disable-user'))]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(deadLetters()).toEqual([]);
    expect(output.metric(MetricName.UserChangeSkipped)).toEqual([1]);
    expect(output.logs()).toContainEqual(
      expect.objectContaining({ outcome: 'skipped', reason: 'newer-state-stored' }),
    );
  });

  it('a malformed message: dead-lettered unread', async () => {
    const service = await serve(reply(200, {}));

    const { result, output } = await invoke([record('m-1', '{"hello":"world"}')]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(service.requests).toEqual([]);
    expect(deadLetters()).toEqual([
      expect.objectContaining({
        MessageAttributes: expect.objectContaining({
          reason: expect.objectContaining({ StringValue: 'malformed-message' }),
        }),
      }),
    ]);
    expect(output.metric(MetricName.UserChangeDeadLettered)).toEqual([1]);
  });

  it('without its configuration (USER_POOL_ID), defers the whole batch and says what to fix', async () => {
    vi.stubEnv('USER_POOL_ID', '');
    await serve(reply(200, {}));

    const { result, output } = await invoke([
      record('m-1', sample('cloudtrail-admin-update-user-attributes')),
    ]);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(output.logs()).toContainEqual(
      expect.objectContaining({ level: 'ERROR', variable: 'USER_POOL_ID' }),
    );
  });

  it('writes no PII: neither the attributes Cognito gave nor the event', async () => {
    await serve(reply(422, { error: 'unprocessable', email: 'ada.lovelace@example.com' }));

    const { output } = await invoke([record('m-1', sample('cloudtrail-admin-update-user-attributes'))]);

    expect(output.text()).toContain(SUB);
    for (const pii of ['ada.lovelace@example.com', 'Ada Lovelace', 'changes-key'])
      expect(output.text()).not.toContain(pii);
  });
});
