// Defects an adversarial review found in the retry worker, each pinned by a test that failed before
// its fix: it signed and sent whatever a queue message held, poison idempotency keys were deferred
// for a day, and what it stored on the dead-letter queue could be refused by SQS or hold our key.

import { readFileSync } from 'node:fs';
import {
  AdminGetUserCommand,
  type AdminGetUserCommandInput,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { createHandler } from '../../src/handlers/retry-worker.js';
import { MetricName } from '../../src/metric-names.js';
import { invokeConsumer } from '../helpers/handler.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { isSqsText, sqsTexts } from '../helpers/sqs-text.js';

const RETRY_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry';
const DEAD_LETTER_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq';
const API_KEY = 'sk-live-never-in-a-queue-5521';
const sqs = mockClient(SQSClient);
mockClient(SecretsManagerClient).on(GetSecretValueCommand).rejects(new Error('no secret expected'));
// Cognito still has every user a message names: what is tested here is what comes after.
mockClient(CognitoIdentityProviderClient)
  .on(AdminGetUserCommand)
  .callsFake(async ({ Username }: AdminGetUserCommandInput) => ({
    Username,
    UserStatus: 'CONFIRMED',
    Enabled: true,
    UserAttributes: [{ Name: 'sub', Value: Username }],
  }));

/** The shared fixture: one retry-queue message of AWS's SQS event shape. */
const fixture = JSON.parse(
  readFileSync(new URL('../../events/sqs-retry-message.json', import.meta.url), 'utf8'),
) as SQSEvent;
const fixtureRecord = fixture.Records[0] as SQSRecord;
const fixtureMessage = JSON.parse(fixtureRecord.body) as Record<string, unknown> & {
  body: Record<string, unknown>;
};

const withMessage = (change: (message: typeof fixtureMessage) => unknown): SQSRecord => ({
  ...fixtureRecord,
  body: JSON.stringify(change(structuredClone(fixtureMessage))),
});

const invoke = (records: SQSRecord[]) => invokeConsumer(createHandler, records);

const deadLetters = () =>
  sqs
    .commandCalls(SendMessageCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.QueueUrl === DEAD_LETTER_QUEUE_URL);

describe('retry worker hardening', () => {
  let server: ScriptedServer;

  beforeEach(async () => {
    clearCache();
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    server = await startScriptedServer([reply(201, { cognitoSub: fixtureMessage.body.cognitoSub })]);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('RETRY_QUEUE_URL', RETRY_QUEUE_URL);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', DEAD_LETTER_QUEUE_URL);
    vi.stubEnv('USER_SERVICE_API_KEY', API_KEY);
    vi.stubEnv('USER_SERVICE_URL', server.url);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server.close();
  });

  it('sends the fixture message as it is: the check below refuses only what is wrong', async () => {
    const { result, output } = await invoke([fixtureRecord]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(server.requests).toHaveLength(1);
    expect(output.metric(MetricName.RetrySucceeded)).toEqual([1]);
  });

  it.each([
    [
      'a role no configuration gives',
      (m: typeof fixtureMessage) => ({ ...m, body: { ...m.body, role: 'ADMIN USER' } }),
    ],
    [
      'a status no configuration gives',
      (m: typeof fixtureMessage) => ({ ...m, body: { ...m.body, status: '' } }),
    ],
    [
      'an extra key in the body',
      (m: typeof fixtureMessage) => ({ ...m, body: { ...m.body, isAdmin: true } }),
    ],
    [
      'an extra key in the message',
      (m: typeof fixtureMessage) => ({ ...m, headers: { 'x-api-key': 'theirs' } }),
    ],
    [
      'a createdBy that is not the user',
      (m: typeof fixtureMessage) => ({ ...m, body: { ...m.body, createdBy: 'attacker' } }),
    ],
    ['an email of the wrong type', (m: typeof fixtureMessage) => ({ ...m, body: { ...m.body, email: 42 } })],
    [
      'an idempotency key of its own choosing',
      (m: typeof fixtureMessage) => ({ ...m, idempotencyKey: '00000000-0000-5000-8000-000000000000' }),
    ],
    [
      'the key of another pool',
      (m: typeof fixtureMessage) => ({
        ...m,
        idempotencyKey: idempotencyKey('us-east-1_Other0000', String(m.body.cognitoSub)),
      }),
    ],
    ['an idempotency key with a dot', (m: typeof fixtureMessage) => ({ ...m, idempotencyKey: 'poison.key' })],
    [
      'an idempotency key with a newline',
      (m: typeof fixtureMessage) => ({ ...m, idempotencyKey: 'poison\nkey' }),
    ],
    ['a pool id that is no pool id', (m: typeof fixtureMessage) => ({ ...m, userPoolId: '../../admin' })],
  ])('dead-letters a message with %s as malformed, without signing or sending it', async (_, change) => {
    const record = withMessage(change);

    const { result, output } = await invoke([record]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(server.requests).toEqual([]);
    expect(deadLetters()).toEqual([
      expect.objectContaining({
        MessageBody: record.body,
        MessageAttributes: expect.objectContaining({
          reason: expect.objectContaining({ StringValue: 'malformed-message' }),
        }),
      }),
    ]);
    expect(output.metric(MetricName.RetryDeadLettered)).toEqual([1]);
    // Its content is never logged: not even the parts that were wrong.
    expect(output.text()).not.toContain('attacker');
    expect(output.text()).not.toContain('ada.lovelace@example.com');
  });

  it('creates a user whose message names a role of its own (ADMIN) with the role configured, never its own', async () => {
    const record = withMessage((m) => ({ ...m, body: { ...m.body, role: 'ADMIN', status: 'SUPERUSER' } }));

    const { result } = await invoke([record]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(server.requests.map((request) => JSON.parse(request.body))).toEqual([
      expect.objectContaining({ role: 'USER', status: 'ACTIVE' }),
    ]);
  });

  it('stores what the User Service answered as valid SQS text, whatever bytes it sent', async () => {
    await server.close();
    server = await startScriptedServer([reply(422, `\u0000\u001b[31mrefused\uFFFF${'x'.repeat(100)}`)]);
    vi.stubEnv('USER_SERVICE_URL', server.url);

    await invoke([fixtureRecord]);

    const [input] = deadLetters();
    expect(input && sqsTexts(input)).toEqual(expect.arrayContaining([expect.stringContaining('refused')]));
    expect(input && sqsTexts(input).every(isSqsText)).toBe(true);
  });

  it('never stores our API key or signature on the dead-letter queue, even from an answer that echoes them', async () => {
    vi.stubEnv('USER_SERVICE_SIGNING_SECRET', 'whsec_UElJLXNpZ25pbmcta2V5LW5ldmVyLWluLWEtbG9nLTQy');
    await server.close();
    server = await startScriptedServer([
      (request, response, n) =>
        reply(422, { error: 'refused', headers: request.headers })(request, response, n),
    ]);
    vi.stubEnv('USER_SERVICE_URL', server.url);

    await invoke([fixtureRecord]);

    const signatures = server.requests.flatMap((request) =>
      String(request.headers['webhook-signature'])
        .split(' ')
        .map((entry) => entry.slice('v1,'.length)),
    );
    const stored = deadLetters().flatMap(sqsTexts).join('\n');
    expect(stored).toContain('refused');
    for (const secret of [API_KEY, ...signatures]) expect(stored).not.toContain(secret);
  });
});
