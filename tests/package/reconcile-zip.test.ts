// dist/reconcile.zip, as built by `npm run package`, on the runtime we ship on, with the clients it
// bundles: a run started by the schedule sizes a moto pool (DescribeUserPool), lists it
// (ListUsers), compares it with the User Service, keeps its run in the ledger (DynamoDB) and sends
// the repairs to the changes queue (SendMessageBatch). Then hostile inputs: a position that lies
// about its budget, an empty pool, a service list whose cursor repeats.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoControl } from '../../scripts/moto.mjs';
import { type DevUserService, type StoredUser, startDevUserService } from '../../src/dev/user-service.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { runZipUnderNode22, type ZipRun } from './lambda-runtime.js';
import { startZipMoto, type ZipMoto } from './moto-fixtures.js';

const ORPHAN = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const orphan = (sub: string) =>
  toUserRecord(
    sub,
    { email: `${sub}@example.com`, name: 'Orphan' },
    { status: 'ACTIVE', role: 'USER' },
  ) as StoredUser;

describe('dist/reconcile.zip', () => {
  let aws: ZipMoto;
  let service: DevUserService;
  let pool: { userPoolId: string; subs: string[] };
  let changesQueueUrl: string;
  let run: ZipRun;

  /** The function's environment for a pool, with a fresh ledger and queues. */
  const envFor = async (userPoolId: string, url: string, extra: Record<string, string> = {}) => ({
    ...aws.env,
    USER_POOL_ID: userPoolId,
    RECONCILE_QUEUE_URL: await aws.createQueue('reconcile'),
    RECONCILE_TABLE_NAME: await aws.createLedgerTable(),
    CHANGES_QUEUE_URL: changesQueueUrl,
    USER_SERVICE_URL: url,
    USER_SERVICE_API_KEY: 'zip-key',
    // The function's Timeout in both IaC flavours: 900 s.
    TEST_TIME_LIMIT_MS: '900000',
    ...extra,
  });

  beforeAll(async () => {
    aws = await startZipMoto();
    service = await startDevUserService({ apiKeys: ['zip-key'] });
    pool = await aws.createPool(['Ada Lovelace', 'Grace Hopper']);
    service.users.set(ORPHAN, orphan(ORPHAN));
    changesQueueUrl = await aws.createQueue('changes');
    run = await runZipUnderNode22(
      'dist/reconcile.zip',
      [{ id: randomUUID(), source: 'aws.events' }],
      await envFor(pool.userPoolId, service.url),
    );
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

  it('traces DescribeUserPool, ListUsers, the ledger (GetItem, PutItem, UpdateItem) and SendMessageBatch', () => {
    const operations = run.segments
      .filter((segment) => segment.namespace === 'aws')
      .map((segment) => (segment.aws as { operation?: string } | undefined)?.operation);
    expect(operations).toEqual(
      expect.arrayContaining([
        'DescribeUserPool',
        'ListUsers',
        'GetItem',
        'PutItem',
        'UpdateItem',
        'SendMessageBatch',
      ]),
    );
  });

  it("a position saying deletesLeft 1000 can't lift RECONCILE_MAX_DELETES 1: three orphans, one deletion asked", async () => {
    const lying = await startDevUserService({ apiKeys: ['zip-key'] });
    const orphans = [randomUUID(), randomUUID(), randomUUID()];
    for (const sub of orphans) lying.users.set(sub, orphan(sub));
    await aws.receiveAll(changesQueueUrl);
    const position = {
      type: 'cognito-user-sync.reconcile',
      version: 1,
      runId: `${pool.userPoolId}-2026-12-01T00:00:00.000Z`,
      userPoolId: pool.userPoolId,
      startedAt: '2026-12-01T00:00:00.000Z',
      sliceDigits: 0,
      nextSlice: 0,
      deletesLeft: 1000,
      counts: {},
    };
    try {
      await runZipUnderNode22(
        'dist/reconcile.zip',
        [{ Records: [{ messageId: 'm-1', body: JSON.stringify(position) }] }],
        await envFor(pool.userPoolId, lying.url, { RECONCILE_MAX_DELETES: '1' }),
      );
    } finally {
      await lying.close();
    }

    const repairs = (await aws.receiveAll(changesQueueUrl)).map(
      (message) => JSON.parse(message.Body ?? '{}') as { action: string },
    );
    expect(repairs.filter((repair) => repair.action === 'delete')).toHaveLength(1);
  });

  it('an empty pool and an empty service: the run completes with nothing to repair', async () => {
    const empty = await aws.createPool([]);
    const nobody = await startDevUserService({ apiKeys: ['zip-key'] });
    await aws.receiveAll(changesQueueUrl);
    let emptyRun: ZipRun;
    try {
      emptyRun = await runZipUnderNode22(
        'dist/reconcile.zip',
        [{ id: randomUUID(), source: 'aws.events' }],
        await envFor(empty.userPoolId, nobody.url),
      );
    } finally {
      await nobody.close();
    }

    expect(emptyRun.stdout).toContain('Reconcile run completed');
    expect(await aws.receiveAll(changesQueueUrl)).toEqual([]);
  });

  it('a pool whose size cannot be read (DescribeUserPool throttled throughout) is cut into 4096 slices, never one', async () => {
    const nobody = await startDevUserService({ apiKeys: ['zip-key'] });
    await motoControl(aws.moto.controlEndpoint, {
      op: 'throttle',
      operation: 'DescribeUserPool',
      count: 100,
    });
    let sized: ZipRun;
    try {
      sized = await runZipUnderNode22(
        'dist/reconcile.zip',
        [{ id: randomUUID(), source: 'aws.events' }],
        // One slice an invocation: the hand-off comes after the first.
        { ...(await envFor(pool.userPoolId, nobody.url)), TEST_TIME_LIMIT_MS: '60000' },
      );
    } finally {
      await motoControl(aws.moto.controlEndpoint, {
        op: 'throttle',
        operation: 'DescribeUserPool',
        count: 0,
      });
      await nobody.close();
    }

    // The warning goes to stderr (the logger writes WARN with console.warn), the slices to stdout.
    const warning = sized.stderr.split('\n').find((line) => line.includes('TooManyRequestsException'));
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ level: 'WARN', slices: 4096 });
    expect(sized.stdout).toContain('"slices":4096');
    expect(sized.stdout).toContain('Reconcile handed on to the next invocation');
  }, 120_000);

  it('a service list whose cursor repeats fails the invocation, naming the loop, after two pages', async () => {
    const looping: ScriptedServer = await startScriptedServer([
      reply(200, { users: [], nextCursor: 'again' }),
    ]);
    let failure: { stdout?: string; stderr?: string } | undefined;
    try {
      await runZipUnderNode22(
        'dist/reconcile.zip',
        [{ id: randomUUID(), source: 'aws.events' }],
        await envFor(pool.userPoolId, looping.url, { RECONCILE_SLICES: '1' }),
      ).catch((error: { stdout?: string; stderr?: string }) => {
        failure = error;
      });
    } finally {
      await looping.close();
    }

    expect(`${failure?.stdout}${failure?.stderr}`).toMatch(/ListLoopError/);
    expect(looping.requests).toHaveLength(2);
  });
});
