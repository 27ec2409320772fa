// No PII, no secrets, in anything the SQS consumers write, DEBUG lines included: the retry worker
// and the user-changes function, on their success and failure paths, with distinctive values
// wherever a user's data or a key can be.

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
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { createHandler as createRetryWorker } from '../../src/handlers/retry-worker.js';
import { createHandler as createUserChanges } from '../../src/handlers/user-changes.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { captureOutput } from '../helpers/output.js';
import {
  type Responder,
  reply,
  type ScriptedServer,
  startScriptedServer,
} from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';

// Everything the functions can write. The logger reads its level when the modules load.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '6d1f0c2e-5a4b-4c3d-9e8f-0a1b2c3d4e5f';
const PII = { email: 'zq.pii.mailbox.7731@example.org', name: 'Zebulon Quixoticname' };
const API_KEY = 'sk-live-PII-SECRET-998877';
const sqs = mockClient(SQSClient);
const cognito = mockClient(CognitoIdentityProviderClient);
mockClient(SecretsManagerClient)
  .on(GetSecretValueCommand)
  .rejects(new Error(`denied ${API_KEY}`));

const record = (body: string): SQSRecord =>
  sqsRecord(body, {
    queue: 'queue',
    messageAttributes: { reason: { stringValue: 'http-503', dataType: 'String' } },
  });

const retryMessage = JSON.stringify({
  version: 1,
  idempotencyKey: idempotencyKey(POOL, SUB),
  userPoolId: POOL,
  triggerSource: 'PostConfirmation_ConfirmSignUp',
  body: {
    cognitoSub: SUB,
    email: PII.email,
    fullName: PII.name,
    status: 'ACTIVE',
    role: 'USER',
    createdBy: SUB,
    updatedBy: SUB,
  },
  reason: 'http-503',
  attempts: 1,
  firstFailedAt: '2026-11-26T10:00:00.000Z',
});
const changeEvent = JSON.stringify({
  version: '0',
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.cognito-idp',
  detail: {
    eventName: 'AdminUpdateUserAttributes',
    requestParameters: { userPoolId: POOL, username: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
    additionalEventData: { sub: SUB },
  },
});

/** Answers echo the request back, headers included, as an error page might. */
const echo =
  (status: number): Responder =>
  (request, response, n) =>
    reply(status, { error: 'refused', received: request.json, headers: request.headers })(
      request,
      response,
      n,
    );

describe('the SQS consumers write no PII and no secret', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    clearCache();
    sqs.reset();
    cognito.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'x' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    cognito.on(AdminGetUserCommand).resolves({
      Username: 'zq-username-login-5512',
      UserStatus: 'CONFIRMED',
      Enabled: true,
      UserLastModifiedDate: new Date('2026-11-26T10:00:00.000Z'),
      UserAttributes: [
        { Name: 'sub', Value: SUB },
        { Name: 'email', Value: PII.email },
        { Name: 'name', Value: PII.name },
      ],
    });
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    for (const [name, value] of Object.entries({
      AWS_REGION: 'eu-west-1',
      USER_POOL_ID: POOL,
      RETRY_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      CHANGES_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/changes',
      CHANGES_DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/changes-dlq',
      USER_SERVICE_API_KEY: API_KEY,
    })) {
      vi.stubEnv(name, value);
    }
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server?.close();
    server = undefined;
  });

  it.each([
    ['retry worker, created', () => createRetryWorker(), retryMessage, 201],
    [
      'retry worker, refused (the answer echoes the body and the key)',
      () => createRetryWorker(),
      retryMessage,
      422,
    ],
    ['retry worker, failing (deferred)', () => createRetryWorker(), retryMessage, 503],
    ['user-changes, updated', () => createUserChanges(), changeEvent, 200],
    ['user-changes, refused', () => createUserChanges(), changeEvent, 422],
    ['user-changes, failing (deferred)', () => createUserChanges(), changeEvent, 503],
  ])('%s', async (_, create, body, status) => {
    server = await startScriptedServer([echo(status)]);
    vi.stubEnv('USER_SERVICE_URL', server.url);
    const output = captureOutput();

    try {
      await create()({ Records: [record(body)] }, lambdaContext({ getRemainingTimeInMillis: () => 30_000 }));
    } finally {
      output.restore();
    }

    const written = output.text();
    // Worth something only if the handler did write its lines, the DEBUG ones included.
    expect(written).toContain(SUB);
    expect(output.logs().filter((line) => line.message === 'Lambda input/output')).toHaveLength(2);
    for (const value of [...Object.values(PII), API_KEY, 'zq-username-login-5512']) {
      expect(written).not.toContain(value);
    }
    // The queues may hold the user's data (they are encrypted), never the key.
    const queued = sqs
      .commandCalls(SendMessageCommand)
      .flatMap((call) => [
        call.args[0].input.MessageBody ?? '',
        JSON.stringify(call.args[0].input.MessageAttributes),
      ]);
    expect(queued.join('\n')).not.toContain(API_KEY);
  });
});
