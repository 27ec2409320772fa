// dist/user-changes.zip, as built by `npm run package`, on the runtime we ship on: it reads each
// user from a moto pool (AdminGetUser, then ListUsers for one that is gone) with the client it
// bundles, throttled once, and writes the User Service.

import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoControl } from '../../scripts/moto.mjs';
import { type DevUserService, type StoredUser, startDevUserService } from '../../src/dev/user-service.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { reply, startScriptedServer } from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';
import { runZipUnderNode22, type ZipRun } from './lambda-runtime.js';
import { startZipMoto, type ZipMoto } from './moto-fixtures.js';

const GONE = '7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9';

const repairs = (userPoolId: string, changes: { sub: string; action: 'sync' | 'delete' }[]): SQSEvent => ({
  Records: changes.map(({ sub, action }, n) =>
    sqsRecord(JSON.stringify({ type: 'cognito-user-sync.repair', version: 1, userPoolId, sub, action }), {
      messageId: `m-${n}`,
      receiptHandle: `r-${n}`,
      queue: 'changes',
    }),
  ),
});

describe('dist/user-changes.zip', () => {
  let aws: ZipMoto;
  let service: DevUserService;
  let pool: { userPoolId: string; subs: string[] };
  let run: ZipRun;

  beforeAll(async () => {
    aws = await startZipMoto();
    service = await startDevUserService({ apiKeys: ['zip-key'] });
    pool = await aws.createPool(['Ada Lovelace']);
    service.users.set(
      GONE,
      toUserRecord(
        GONE,
        { email: 'gone@example.com', name: 'Gone' },
        { status: 'ACTIVE', role: 'USER' },
      ) as StoredUser,
    );
    // Cognito's throttle, once: the client retries it as the SDK would.
    await motoControl(aws.moto.controlEndpoint, { op: 'throttle', operation: 'AdminGetUser', count: 1 });
    run = await runZipUnderNode22(
      'dist/user-changes.zip',
      [
        repairs(pool.userPoolId, [
          { sub: pool.subs[0] ?? '', action: 'sync' },
          { sub: GONE, action: 'delete' },
        ]),
      ],
      {
        ...aws.env,
        USER_POOL_ID: pool.userPoolId,
        CHANGES_QUEUE_URL: await aws.createQueue('changes'),
        CHANGES_DEAD_LETTER_QUEUE_URL: await aws.createQueue('changes-dlq'),
        USER_SERVICE_URL: service.url,
        USER_SERVICE_API_KEY: 'zip-key',
      },
    );
  });
  afterAll(async () => {
    await service.close();
    await aws.stop();
  });

  it('creates a user it reads from the pool, through a throttle', () => {
    expect(run.results[0]?.result).toEqual({ batchItemFailures: [] });
    expect(service.users.get(pool.subs[0] ?? '')).toMatchObject({ fullName: 'Ada Lovelace' });
    expect(run.stdout).toContain('"UserChangeCreated":1');
  });

  it('deletes a user the pool no longer has (UserNotFoundException, then an empty ListUsers)', () => {
    expect(service.users.has(GONE)).toBe(false);
    expect(run.stdout).toContain('"UserChangeDeleted":1');
  });

  it('traces its Cognito calls, the throttled one retried within its subsegment', () => {
    const calls = run.segments.filter((segment) => segment.name === 'CognitoIdentityProvider');
    // The X-Ray SDK records the SDK's $metadata.attempts as `retries`: 2 for the call throttled once.
    expect(calls).toContainEqual(
      expect.objectContaining({ aws: expect.objectContaining({ operation: 'AdminGetUser', retries: 2 }) }),
    );
    expect(calls).toContainEqual(
      expect.objectContaining({ aws: expect.objectContaining({ operation: 'ListUsers' }) }),
    );
    expect(run.stderr).toBe('');
  });

  it("dead-letters a disable answered by a gateway's bare 412, rather than acknowledge it unwritten", async () => {
    const gateway = await startScriptedServer([
      reply(412, '<html><body>Precondition Failed</body></html>', { 'content-type': 'text/html' }),
    ]);
    const deadLetters = await aws.createQueue('changes-dlq');
    try {
      const gated = await runZipUnderNode22(
        'dist/user-changes.zip',
        [repairs(pool.userPoolId, [{ sub: pool.subs[0] ?? '', action: 'sync' }])],
        {
          ...aws.env,
          USER_POOL_ID: pool.userPoolId,
          CHANGES_QUEUE_URL: await aws.createQueue('changes'),
          CHANGES_DEAD_LETTER_QUEUE_URL: deadLetters,
          USER_SERVICE_URL: gateway.url,
          USER_SERVICE_API_KEY: 'zip-key',
        },
      );

      expect(gated.stdout).toContain('"UserChangeDeadLettered":1');
      expect(gated.stdout).not.toContain('"UserChangeSkipped"');
      const [dead] = await aws.receiveAll(deadLetters);
      expect(dead?.MessageAttributes?.reason?.StringValue).toBe('http-412');
    } finally {
      await gateway.close();
    }
  });
});
