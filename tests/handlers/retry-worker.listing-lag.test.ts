// The retry worker through its real middy chain and a federated user ListUsers does not list yet:
// AdminGetUser does not take a federated user's sub, and ListUsers is eventually consistent, so a
// "not in the pool" shortly after the sign-up is no proof. The message waits; it is not dropped.

import {
  AdminGetUserCommand,
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
import { LISTING_CATCH_UP_MS } from '../../src/clients/cognito-users.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { RETRY_MESSAGE_VERSION, type RetryMessage } from '../../src/domain/retry-message.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { createHandler } from '../../src/handlers/retry-worker.js';
import { MetricName } from '../../src/metric-names.js';
import { invokeConsumer } from '../helpers/handler.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '7d1e4c2a-95b3-4f60-8a17-c0e3b5d9f248';
const sqs = mockClient(SQSClient);
mockClient(SecretsManagerClient).on(GetSecretValueCommand).rejects(new Error('no secret expected'));
const cognito = mockClient(CognitoIdentityProviderClient);

/** Katherine, who signed in with Google, as ListUsers lists her once it has caught up. */
const katherine = {
  Username: 'google_104857392018475629384',
  UserStatus: UserStatusType.EXTERNAL_PROVIDER,
  Enabled: true,
  Attributes: [{ Name: 'sub', Value: SUB }],
};

/** Her sign-up, queued by the trigger `ageMs` ago. */
const queuedAgo = (ageMs: number): string =>
  JSON.stringify({
    version: RETRY_MESSAGE_VERSION,
    idempotencyKey: idempotencyKey(POOL, SUB),
    userPoolId: POOL,
    triggerSource: 'PostConfirmation_ConfirmSignUp',
    body: toUserRecord(SUB, { email: 'katherine@example.com' }, { status: 'ACTIVE', role: 'USER' }),
    reason: 'http-503',
    attempts: 3,
    firstFailedAt: new Date(Date.now() - ageMs).toISOString(),
  } satisfies RetryMessage);

const invoke = (records: SQSRecord[]) => invokeConsumer(createHandler, records);

describe('retry worker and a ListUsers that lags', () => {
  let server: ScriptedServer;

  beforeEach(async () => {
    clearCache();
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    cognito.reset();
    cognito
      .on(AdminGetUserCommand)
      .rejects(Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException' }));
    server = await startScriptedServer([reply(201, { cognitoSub: SUB })]);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('RETRY_QUEUE_URL', 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry');
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq');
    vi.stubEnv('USER_SERVICE_API_KEY', 'worker-key');
    vi.stubEnv('USER_SERVICE_URL', server.url);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server.close();
  });

  it('keeps a federated user queued seconds ago whom ListUsers does not list yet, and creates her once it does', async () => {
    cognito
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [] })
      .resolves({ Users: [katherine] });
    const queued = queuedAgo(5_000);

    const first = await invoke([sqsRecord(queued, { messageId: 'm-1', receiveCount: 1 })]);
    const second = await invoke([sqsRecord(queued, { messageId: 'm-1', receiveCount: 2 })]);

    expect(first.result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(first.output.metric(MetricName.RetryUserGone)).toEqual([]);
    expect(first.output.metric(MetricName.RetryDeferred)).toEqual([1]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(1);
    expect(second.result).toEqual({ batchItemFailures: [] });
    expect(second.output.metric(MetricName.RetrySucceeded)).toEqual([1]);
    expect(server.requests).toHaveLength(1);
  });

  it('drops her as gone when ListUsers still does not list her long after the sign-up failed', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [] });

    const { result, output } = await invoke([
      sqsRecord(queuedAgo(LISTING_CATCH_UP_MS + 60_000), { messageId: 'm-1', receiveCount: 5 }),
    ]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(output.metric(MetricName.RetryUserGone)).toEqual([1]);
    expect(server.requests).toEqual([]);
  });
});
