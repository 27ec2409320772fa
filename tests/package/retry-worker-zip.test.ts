// dist/retry-worker.zip, as built by `npm run package`, on the runtime we ship on, with its AWS
// calls (the signing secret, the user's lookup in the pool, the deferral on the queue) made by the
// client it bundles, against moto: a queued user the pool has is created, one it no longer has is not.

import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';
import { runZipUnderNode22, type ZipRun } from './lambda-runtime.js';
import { startZipMoto, type ZipMoto } from './moto-fixtures.js';

const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** A user who signed up and was deleted from the pool while the message waited. */
const GONE = '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

/** The message the trigger queues for a user of `userPoolId` the User Service did not take. */
const retryMessage = (userPoolId: string, sub: string) => ({
  version: 1,
  idempotencyKey: idempotencyKey(userPoolId, sub),
  userPoolId,
  triggerSource: 'PostConfirmation_ConfirmSignUp',
  body: toUserRecord(
    sub,
    { email: `${sub}@example.com`, name: 'Queued' },
    { status: 'ACTIVE', role: 'USER' },
  ),
  reason: 'http-503',
  attempts: 2,
  firstFailedAt: '2026-11-26T10:00:00.000Z',
});

/** An SQS event, as the event source mapping makes it: [messageId, receiptHandle, body] a record. */
const sqsEvent = (...records: [string, string, string][]): SQSEvent => ({
  Records: records.map(([messageId, receiptHandle, body]) => sqsRecord(body, { messageId, receiptHandle })),
});

describe('dist/retry-worker.zip', () => {
  let aws: ZipMoto;
  let service: DevUserService;
  let secretArn: string;
  let queues: { RETRY_QUEUE_URL: string; DEAD_LETTER_QUEUE_URL: string };
  // The pool the messages name, with the users still in it: the worker asks it before it creates.
  let pool: { userPoolId: string; subs: string[] };
  let sub: string;
  let run: ZipRun;

  beforeAll(async () => {
    aws = await startZipMoto();
    service = await startDevUserService({ signingSecrets: [SIGNING_SECRET] });
    secretArn = await aws.createSecret(SIGNING_SECRET);
    queues = {
      RETRY_QUEUE_URL: await aws.createQueue('retry'),
      DEAD_LETTER_QUEUE_URL: await aws.createQueue('dlq'),
    };
    pool = await aws.createPool(['Queued', 'Deferred']);
    sub = pool.subs[0] ?? '';
    run = await runZipUnderNode22(
      'dist/retry-worker.zip',
      [
        sqsEvent(
          ['m-1', 'r-1', JSON.stringify(retryMessage(pool.userPoolId, sub))],
          ['m-2', 'r-2', JSON.stringify(retryMessage(pool.userPoolId, GONE))],
        ),
      ],
      {
        ...aws.env,
        ...queues,
        USER_SERVICE_URL: service.url,
        USER_SERVICE_SIGNING_SECRET_ID: secretArn,
      },
    );
  });
  afterAll(async () => {
    await service.close();
    await aws.stop();
  });

  it('runs under Node 22 and delivers a queued user, signed with the key from Secrets Manager', () => {
    expect(run.node).toMatch(/^v22\./);
    expect(run.results[0]?.result).toEqual({ batchItemFailures: [] });
    expect(service.users.get(sub)).toMatchObject({ email: `${sub}@example.com` });
    expect(run.stdout).toContain('"RetrySucceeded":1');
    expect(run.stderr).toBe('');
  });

  it('does not create a user the pool no longer has: the message is let go, RetryUserGone says why', () => {
    expect(service.users.has(GONE)).toBe(false);
    expect(service.requests.map((request) => request.body).join('\n')).not.toContain(GONE);
    expect(run.stdout).toContain('"RetryUserGone":1');
    // Looked up by sub (AdminGetUser), then among federated users (ListUsers), by the bundled client.
    const calls = run.segments.filter((segment) => segment.name === 'CognitoIdentityProvider');
    expect(calls).toContainEqual(
      expect.objectContaining({ aws: expect.objectContaining({ operation: 'AdminGetUser' }) }),
    );
    expect(calls).toContainEqual(
      expect.objectContaining({ aws: expect.objectContaining({ operation: 'ListUsers' }) }),
    );
  });

  describe('a User Service that refuses', () => {
    let failing: ScriptedServer;
    beforeAll(async () => {
      failing = await startScriptedServer([
        (_request, response) => {
          response.writeHead(503);
          response.end();
        },
      ]);
    });
    afterAll(() => failing.close());

    it('defers the message on the queue (ChangeMessageVisibility), to come back on its schedule', async () => {
      const message = await aws.sendAndReceive(
        queues.RETRY_QUEUE_URL,
        JSON.stringify(retryMessage(pool.userPoolId, pool.subs[1] ?? '')),
      );

      const deferred = await runZipUnderNode22(
        'dist/retry-worker.zip',
        [sqsEvent([message.MessageId ?? '', message.ReceiptHandle ?? '', message.Body ?? ''])],
        { ...aws.env, ...queues, USER_SERVICE_URL: failing.url, USER_SERVICE_SIGNING_SECRET_ID: secretArn },
      );

      expect(deferred.results[0]?.result).toEqual({
        batchItemFailures: [{ itemIdentifier: message.MessageId }],
      });
      // moto checks the receipt handle: a refused ChangeMessageVisibility would be logged as an error.
      expect(deferred.stdout).toContain('"RetryDeferred":1');
      expect(`${deferred.stdout}${deferred.stderr}`).not.toContain('"level":"ERROR"');
      expect(deferred.segments).toContainEqual(
        expect.objectContaining({
          name: 'SQS',
          aws: expect.objectContaining({ operation: 'ChangeMessageVisibility' }),
          http: { response: expect.objectContaining({ status: 200 }) },
        }),
      );
      // The logger writes WARN to stderr: the deferral's line, nothing else.
      expect(deferred.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^\{"level":"WARN","message":"User still not synced; retry deferred"/),
      ]);
    });
  });
});
