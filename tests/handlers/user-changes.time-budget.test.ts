// The user-changes function's time, through its real chain: the SQS calls that settle its records
// (a deferral, a dead-letter send) must fit the invocation's time, however slow SQS is; otherwise
// Lambda answers no batch response and the whole batch comes back (dead-letter copies again, users
// written again). A record it could not settle stays on the queue, reported failed.

import { readFileSync } from 'node:fs';
import {
  AdminGetUserCommand,
  type AdminGetUserCommandInput,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import type { Context, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../src/handlers/user-changes.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { captureOutput } from '../helpers/output.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';
import { stubUserChangesEnv } from '../helpers/user-changes-env.js';

const sqs = mockClient(SQSClient);
const cognito = mockClient(CognitoIdentityProviderClient);
mockClient(SecretsManagerClient).on(GetSecretValueCommand).rejects(new Error('no secret expected'));

const sample = readFileSync(
  new URL('../../events/cloudtrail-admin-update-user-attributes.json', import.meta.url),
  'utf8',
);
/** An attribute update of `sub`. */
const change = (messageId: string, sub: string): SQSRecord => {
  const event = JSON.parse(sample) as { detail: { additionalEventData: { sub: string } } };
  event.detail.additionalEventData.sub = sub;
  return sqsRecord(JSON.stringify(event), { messageId, queue: 'cognito-user-sync-changes' });
};

/** What a Lambda invocation comes to: the handler's answer, or none when its time ran out first. */
const inTime = <T>(answer: Promise<T>, context: Context): Promise<T | 'timed out'> => {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(resolve, context.getRemainingTimeInMillis(), 'timed out');
  });
  return Promise.race([answer, timeUp]).finally(() => clearTimeout(timer));
};

describe('user-changes function, its time budget', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    clearCache();
    sqs.reset();
    cognito.reset();
    cognito.on(AdminGetUserCommand).callsFake(async ({ Username }: AdminGetUserCommandInput) => ({
      Username,
      UserStatus: 'CONFIRMED',
      Enabled: true,
      UserLastModifiedDate: new Date('2026-11-26T10:00:00.000Z'),
      UserAttributes: [
        { Name: 'sub', Value: Username },
        { Name: 'email', Value: `${Username}@example.com` },
      ],
    }));
    stubUserChangesEnv();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server?.close();
    server = undefined;
  });

  it('answers within its time when SQS hangs: the records it could not settle are batch item failures', async () => {
    // The first user's write fails (a 503: deferred), the second's is refused (a 422: dead-lettered);
    // neither SQS call ever answers.
    server = await startScriptedServer([
      (request, response, n) => reply(request.path.endsWith('/sub-1') ? 503 : 422, {})(request, response, n),
    ]);
    vi.stubEnv('USER_SERVICE_URL', server.url);
    sqs.on(ChangeMessageVisibilityCommand).callsFake(() => new Promise(() => undefined));
    sqs.on(SendMessageCommand).callsFake(() => new Promise(() => undefined));
    // A Lambda clock of 5 s, running.
    const context = lambdaContext();
    const output = captureOutput();

    const result = await inTime(
      createHandler()({ Records: [change('m-1', 'sub-1'), change('m-2', 'sub-2')] }, context),
      context,
    ).finally(() => output.restore());

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
    expect(output.logs()).toContainEqual(
      expect.objectContaining({
        messageId: 'm-1',
        outcome: 'deferred',
        deferFailure: 'DeadlineExceededError',
      }),
    );
    expect(output.logs()).toContainEqual(
      expect.objectContaining({
        messageId: 'm-2',
        message: 'Could not dead-letter; the message stays on the queue',
      }),
    );
  }, 10_000);
});
