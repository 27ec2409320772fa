// dist/reconcile.zip, as built by `npm run package`, on the runtime we ship on: a run started by
// the schedule sizes a moto pool (DescribeUserPool), lists it (ListUsers), compares it with the
// User Service and sends the repairs to the changes queue (SendMessageBatch), with the client it bundles.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toUserRecord } from '../../src/core/user-record.js';
import { type DevUserService, type StoredUser, startDevUserService } from '../../src/dev/user-service.js';
import { runZipUnderNode22, type ZipRun } from './lambda-runtime.js';
import { startZipMoto, type ZipMoto } from './moto-fixtures.js';

const ORPHAN = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('dist/reconcile.zip', () => {
  let aws: ZipMoto;
  let service: DevUserService;
  let pool: { userPoolId: string; subs: string[] };
  let changesQueueUrl: string;
  let run: ZipRun;

  beforeAll(async () => {
    aws = await startZipMoto();
    service = await startDevUserService({ apiKeys: ['zip-key'] });
    pool = await aws.createPool(['Ada Lovelace', 'Grace Hopper']);
    service.users.set(
      ORPHAN,
      toUserRecord(
        ORPHAN,
        { email: 'orphan@example.com', name: 'Orphan' },
        { status: 'ACTIVE', role: 'USER' },
      ) as StoredUser,
    );
    changesQueueUrl = await aws.createQueue('changes');
    run = await runZipUnderNode22('dist/reconcile.zip', [{}], {
      ...aws.env,
      USER_POOL_ID: pool.userPoolId,
      RECONCILE_QUEUE_URL: await aws.createQueue('reconcile'),
      CHANGES_QUEUE_URL: changesQueueUrl,
      USER_SERVICE_URL: service.url,
      USER_SERVICE_API_KEY: 'zip-key',
    });
  });
  afterAll(async () => {
    await service.close();
    await aws.stop();
  });

  it('compares the whole pool and sends one repair per drifted user to the changes queue', async () => {
    const messages = await aws.receiveAll(changesQueueUrl);

    const sent = messages.map(
      (message) => JSON.parse(message.Body ?? '{}') as { sub: string; action: string },
    );
    expect(sent.sort((a, b) => a.sub.localeCompare(b.sub))).toEqual(
      [...pool.subs.map((sub) => ({ sub, action: 'sync' })), { sub: ORPHAN, action: 'delete' }]
        .sort((a, b) => a.sub.localeCompare(b.sub))
        .map((repair) => expect.objectContaining(repair)),
    );
    expect(run.stdout).toContain('Reconcile run completed');
    expect(run.stderr).toBe('');
  });

  it('traces DescribeUserPool, ListUsers and SendMessageBatch', () => {
    const operations = run.segments
      .filter((segment) => segment.namespace === 'aws')
      .map((segment) => (segment.aws as { operation?: string } | undefined)?.operation);
    expect(operations).toEqual(expect.arrayContaining(['DescribeUserPool', 'ListUsers', 'SendMessageBatch']));
  });
});
