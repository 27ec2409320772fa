// Reconcile left alone, against hostile fakes: a moto pool, the dev User Service behind a proxy
// that fails or holds what a test says, and the run ledger on moto's DynamoDB. The cap on
// deletions holds whatever happens (a resumed run, a killed one, a lying position, Lambda's
// retries, a position delivered twice), users the policy leaves out are drift, and every run ends.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { motoControl } from '../../scripts/moto.mjs';
import { main } from '../../src/cli/main.js';
import type { StoredUser } from '../../src/dev/user-service.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { createHandler as createReconcile } from '../../src/handlers/reconcile.js';
import { createHandler as createUserChanges } from '../../src/handlers/user-changes.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { captureOutput } from '../helpers/output.js';
import { type FaultyProxy, startProxy } from '../helpers/proxy.js';
import { createQueues, drain, moto, sqs, useMoto } from './aws.js';
import { createLedgerTable, ledgerRun } from './ledger.js';

const REPO = new URL('../..', import.meta.url).pathname;
const cognito = () => new CognitoIdentityProviderClient({});
/** A sub (a UUID) that starts with `prefix`: it falls in that slice. */
const subIn = (prefix: string) => `${prefix}${randomUUID().slice(prefix.length)}`;
const stored = (sub: string): StoredUser => ({
  cognitoSub: sub,
  email: `${sub}@example.com`,
  fullName: 'Someone',
  status: 'ACTIVE',
  role: 'USER',
  createdBy: sub,
  updatedBy: sub,
  createdAt: '2026-01-01T00:00:00.000Z',
  idempotencyKey: 'seed',
});
const deletesThrough = (proxy: FaultyProxy) =>
  proxy.requests.filter((request) => request.method === 'DELETE');

describe('reconcile, safe to leave alone', () => {
  let userPoolId: string;
  let service: DevUserService;
  let proxy: FaultyProxy;
  let dir: string;
  let unconfirmed: string[];

  /** The service holding exactly these users, besides whatever the pool has (here: nothing it syncs). */
  const holdOnly = (subs: string[]) => {
    service.users.clear();
    for (const sub of subs) service.users.set(sub, stored(sub));
  };
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await main(['reconcile', '--user-pool-id', userPoolId, '--max-rps', '25', ...argv], {
      out: (line) => out.push(line),
      err: (line) => out.push(line),
    });
    return { code, out: out.join('\n') };
  };
  const report = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

  beforeAll(async () => {
    useMoto();
    const client = cognito();
    const { UserPool } = await client.send(new CreateUserPoolCommand({ PoolName: 'reconcile-safety' }));
    userPoolId = UserPool?.Id ?? '';
    // One user the policy syncs, made as an invited user is, and ten sign-ups never confirmed.
    await client.send(
      new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: 'invited', MessageAction: 'SUPPRESS' }),
    );
    const { UserPoolClient } = await client.send(
      new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: 'app' }),
    );
    unconfirmed = [];
    for (let n = 0; n < 10; n++) {
      const { UserSub } = await client.send(
        new SignUpCommand({
          ClientId: UserPoolClient?.ClientId,
          Username: `pending${n}`,
          Password: 'Passw0rd!Passw0rd',
        }),
      );
      unconfirmed.push(UserSub ?? '');
    }
    service = await startDevUserService({ apiKeys: ['safety-key'] });
    proxy = await startProxy(service.url);
    vi.stubEnv('USER_SERVICE_URL', proxy.url);
    vi.stubEnv('USER_SERVICE_API_KEY', 'safety-key');
    dir = await mkdtemp(join(tmpdir(), 'reconcile-safety-'));
  }, 120_000);
  beforeEach(() => {
    proxy.requests.length = 0;
    proxy.intercept(() => 'forward');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await proxy.close();
    await service.close();
  });

  describe('the command line', () => {
    it('reports the unconfirmed sign-ups the service holds as excluded, and --apply removes them under the cap', async () => {
      holdOnly(unconfirmed);

      const dry = await run('--max-deletes', '10', '--report', join(dir, 'excluded-dry.json'));
      expect(dry.code).toBe(3);
      expect((await report(join(dir, 'excluded-dry.json'))).counts).toMatchObject({
        excluded: 10,
        orphaned: 0,
      });
      expect(dry.out).toMatch(/excluded\s+10/);
      expect(unconfirmed.every((sub) => service.users.has(sub))).toBe(true);

      const applied = await run('--apply', '--max-deletes', '4', '--report', join(dir, 'excluded.json'));
      expect(applied.code).toBe(3);
      expect((await report(join(dir, 'excluded.json'))).counts).toMatchObject({
        excluded: 4,
        deleted: 4,
        deletesCapped: 6,
      });
      expect(unconfirmed.filter((sub) => service.users.has(sub))).toHaveLength(6);
      expect(deletesThrough(proxy)).toHaveLength(4);
    });

    it('a resumed run keeps its --max-deletes (counting what it deleted), --max-rps and statuses, and says so', async () => {
      // Two orphans in slice 1, four in slice c; the service's list fails from slice c on.
      const early = [subIn('1'), subIn('1')];
      const late = [subIn('c'), subIn('c'), subIn('c'), subIn('c')];
      holdOnly([...early, ...late]);
      proxy.intercept(({ method, path }) =>
        method === 'GET' && /prefix=[c-f]/.test(path) ? { status: 503, body: 'down' } : 'forward',
      );
      const path = join(dir, 'outage.json');

      const first = await run(
        '--apply',
        '--slices',
        '16',
        '--max-deletes',
        '3',
        '--max-rps',
        '7',
        '--status',
        'CONFIRMED,FORCE_CHANGE_PASSWORD',
        '--report',
        path,
      );
      expect(first.code).toBe(1);
      expect(first.out).toContain(`Resume with: cognito-user-sync reconcile --resume-from ${path}`);
      expect(deletesThrough(proxy)).toHaveLength(2);

      proxy.intercept(() => 'forward');
      const lines: string[] = [];
      const resumed = await main(
        ['reconcile', '--resume-from', path, '--report', join(dir, 'resumed.json')],
        {
          out: (line) => lines.push(line),
          err: (line) => lines.push(line),
        },
      );
      const said = lines.join('\n');

      expect(resumed).toBe(3); // orphans left over the cap
      expect(said).toContain('--max-deletes 3 (from the report)');
      expect(said).toContain('--max-rps 7 (from the report)');
      expect(said).toContain('--status CONFIRMED,FORCE_CHANGE_PASSWORD (from the report)');
      expect(said).toContain('2 deletion(s) asked for already; 1 left under --max-deletes 3');
      expect(deletesThrough(proxy)).toHaveLength(3);
      expect(await report(join(dir, 'resumed.json'))).toMatchObject({
        maxDeletes: 3,
        maxRps: 7,
        statuses: ['CONFIRMED', 'FORCE_CHANGE_PASSWORD'],
        deletesAsked: 3,
      });
    });

    it('a flag given again on resume overrides the report, and the output says so', async () => {
      holdOnly([subIn('1')]);
      proxy.intercept(({ method, path }) =>
        method === 'GET' && /prefix=[c-f]/.test(path) ? { status: 503, body: 'down' } : 'forward',
      );
      const path = join(dir, 'override.json');
      expect((await run('--slices', '16', '--max-rps', '7', '--report', path)).code).toBe(1);
      proxy.intercept(() => 'forward');

      const out: string[] = [];
      await main(['reconcile', '--resume-from', path, '--max-rps', '20', '--report', join(dir, 'o2.json')], {
        out: (line) => out.push(line),
        err: (line) => out.push(line),
      });

      expect(out.join('\n')).toContain("--max-rps 20 (given: overrides the report's 7)");
      expect((await report(join(dir, 'o2.json'))).maxRps).toBe(20);
    });

    it('a run killed (SIGKILL) between two deletions, then resumed, deletes at most its cap in all', async () => {
      holdOnly(Array.from({ length: 6 }, () => subIn('a')));
      // The second DELETE never gets an answer: the run is killed while it waits.
      proxy.intercept(({ method }) =>
        method === 'DELETE' && deletesThrough(proxy).length === 2 ? 'hold' : 'forward',
      );
      const path = join(dir, 'killed.json');
      const child = spawn(
        process.execPath,
        [
          join(REPO, 'bin/cognito-user-sync.mjs'),
          ...['reconcile', '--user-pool-id', userPoolId, '--apply', '--slices', '1'],
          ...['--max-deletes', '3', '--max-rps', '25', '--report', path],
        ],
        { cwd: REPO, env: { ...process.env }, stdio: 'ignore' },
      );
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_, signal) => resolve(signal)),
      );
      for (let waited = 0; deletesThrough(proxy).length < 2; waited += 50) {
        if (waited > 60_000) throw new Error('the run never reached its second deletion');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(await report(path)).toMatchObject({ deletesAsked: 2, complete: false });

      proxy.intercept(() => 'forward');
      const resumed = await run('--resume-from', path, '--report', join(dir, 'after-kill.json'));

      expect(resumed.out).toContain(`${path}.lock was left by pid ${child.pid}`);
      expect(resumed.out).toContain('which is no longer running: taking it over');
      expect(resumed.out).toContain('2 deletion(s) asked for already; 1 left');
      expect(deletesThrough(proxy)).toHaveLength(3);
      // The slice killed partway is counted once, as its second pass found it: one orphan
      // confirmed, four over the cap (not 3 + 1 and 3 + 4); the deletions asked for in the first
      // pass still count against the cap.
      expect(await report(join(dir, 'after-kill.json'))).toMatchObject({
        deletesAsked: 3,
        counts: { slicesDone: 1, orphaned: 1, deletesCapped: 4 },
      });
      expect((await report(join(dir, 'after-kill.json'))).drift.capped).toHaveLength(4);
    }, 120_000);

    it('a service list whose cursor repeats ends the run with exit 1, naming the loop, after a few requests', async () => {
      holdOnly([]);
      proxy.intercept(({ method }) =>
        method === 'GET'
          ? {
              status: 200,
              contentType: 'application/json',
              body: JSON.stringify({ users: [], nextCursor: 'again' }),
            }
          : 'forward',
      );

      const { code, out } = await run('--slices', '1', '--report', join(dir, 'loop.json'));

      expect(code).toBe(1);
      expect(out).toMatch(/Slice 1 could not be compared: .*cursor/);
      expect(proxy.requests.length).toBeLessThan(5);
    });
  });

  describe('the scheduled run', () => {
    let reconcileQueueUrl: string;
    let changesQueueUrl: string;
    let tableName: string;
    const context = () =>
      lambdaContext({ functionName: 'reconcile', getRemainingTimeInMillis: () => 60_000 });
    const positionEvent = (body: string, messageId = randomUUID()): SQSEvent => ({
      Records: [
        {
          messageId,
          receiptHandle: messageId,
          body,
          attributes: {} as never,
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:reconcile',
          awsRegion: 'eu-west-1',
        },
      ],
    });
    /** Takes every message off a queue: their bodies, parsed. */
    const takeAll = async (QueueUrl: string) => {
      const bodies: Record<string, unknown>[] = [];
      for (;;) {
        const { Messages = [] } = await sqs().send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
        );
        if (Messages.length === 0) return bodies;
        for (const message of Messages) {
          bodies.push(JSON.parse(message.Body ?? '{}'));
          await sqs().send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
        }
      }
    };
    /** Runs the chain as the event source mapping would: each position on the queue, once, until none is left. */
    const runChain = async (reconcile: ReturnType<typeof createReconcile>) => {
      let steps = 0;
      for (
        let positions = await takeAll(reconcileQueueUrl);
        positions.length > 0;
        positions = await takeAll(reconcileQueueUrl)
      ) {
        for (const position of positions) {
          await reconcile(positionEvent(JSON.stringify(position)), context());
          steps++;
        }
      }
      return steps;
    };
    const deleteRepairs = (repairs: Record<string, unknown>[]) =>
      repairs.filter((repair) => repair.action === 'delete');

    beforeEach(async () => {
      reconcileQueueUrl = (await createQueues()).retryQueueUrl;
      changesQueueUrl = (await createQueues()).retryQueueUrl;
      tableName = await createLedgerTable();
      vi.stubEnv('USER_POOL_ID', userPoolId);
      vi.stubEnv('RECONCILE_QUEUE_URL', reconcileQueueUrl);
      vi.stubEnv('CHANGES_QUEUE_URL', changesQueueUrl);
      vi.stubEnv('RECONCILE_TABLE_NAME', tableName);
      vi.stubEnv('RECONCILE_SLICES', '16');
      vi.stubEnv('RECONCILE_MAX_RPS', '25');
      vi.stubEnv('RECONCILE_MAX_DELETES', '2');
    });
    afterEach(() => {
      vi.stubEnv('RECONCILE_SLICES', '16');
    });

    it("a position saying deletesLeft 1000 can't lift RECONCILE_MAX_DELETES 2: six orphans, two deletions asked", async () => {
      holdOnly(['0', '2', '5', '8', 'b', 'e'].map(subIn));
      const lying = {
        type: 'cognito-user-sync.reconcile',
        version: 1,
        runId: `${userPoolId}-2026-12-01T00:00:00.000Z`,
        userPoolId,
        startedAt: '2026-12-01T00:00:00.000Z',
        sliceDigits: 1,
        nextSlice: 0,
        deletesLeft: 1000,
        counts: {},
      };
      const reconcile = createReconcile();
      const output = captureOutput();
      try {
        await reconcile(positionEvent(JSON.stringify(lying)), context());
        await runChain(reconcile);
      } finally {
        output.restore();
      }

      expect(deleteRepairs(await takeAll(changesQueueUrl))).toHaveLength(2);
      expect(await ledgerRun(tableName, userPoolId)).toMatchObject({
        maxDeletes: 2,
        deletesAsked: 2,
        status: 'completed',
      });
    }, 60_000);

    it("Lambda's retries of the scheduled event grant no new budget, the list failing mid-run: five orphans, a cap of two", async () => {
      holdOnly(['0', '1', '6', '9', 'd'].map(subIn));
      const reconcile = createReconcile();
      const schedule = { id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events' };
      const long = lambdaContext({ functionName: 'reconcile', getRemainingTimeInMillis: () => 800_000 });
      // The service's list fails from slice 2 on, for the first invocation and both retries.
      proxy.intercept(({ method, path }) =>
        method === 'GET' && /prefix=[2-9a-f]/.test(path) ? { status: 503, body: 'down' } : 'forward',
      );
      const output = captureOutput();
      try {
        for (let attempt = 0; attempt < 3; attempt++) await reconcile(schedule, long).catch(() => undefined);
        proxy.intercept(() => 'forward');
        await runChain(reconcile);
      } finally {
        output.restore();
      }

      const deletes = deleteRepairs(await takeAll(changesQueueUrl));
      expect(deletes).toHaveLength(2);
      expect(await ledgerRun(tableName, userPoolId)).toMatchObject({ deletesAsked: 2, status: 'completed' });
      expect(output.metric('ReconcileRunCompleted')).toEqual([1]);
    }, 60_000);

    it('one chain per scheduled run: the same position delivered twice does its slice once', async () => {
      holdOnly([]);
      const reconcile = createReconcile();
      const output = captureOutput();
      let steps: number;
      try {
        await reconcile({ id: randomUUID(), source: 'aws.events' }, context());
        const [position] = await takeAll(reconcileQueueUrl);
        const body = JSON.stringify(position);
        // SQS delivers one message twice (standard queues deliver at least once), to two invocations.
        await Promise.all([
          reconcile(positionEvent(body), context()),
          reconcile(positionEvent(body), context()),
        ]);
        steps = await runChain(reconcile);
      } finally {
        output.restore();
      }

      // Slice 1 was listed once: 16 slices, 16 ListUsers pages and service lists in all.
      const serviceLists = proxy.requests.filter((request) => request.method === 'GET');
      expect(serviceLists).toHaveLength(16);
      expect(steps).toBe(14);
      expect(
        output.logs().filter((line) => line.message === 'Reconcile step ignored: nothing to do'),
      ).toHaveLength(1);
      expect(await ledgerRun(tableName, userPoolId)).toMatchObject({ status: 'completed', nextSlice: 16 });
    }, 60_000);

    it('a pool whose size cannot be read (DescribeUserPool failing) is sliced as finely as a run goes, never as one slice', async () => {
      vi.stubEnv('RECONCILE_SLICES', '');
      holdOnly([]);
      await motoControl(moto().controlEndpoint, {
        op: 'throttle',
        operation: 'DescribeUserPool',
        count: 100,
      });
      const reconcile = createReconcile();
      const output = captureOutput();
      try {
        await reconcile({ id: randomUUID(), source: 'aws.events' }, context());
      } finally {
        output.restore();
        await motoControl(moto().controlEndpoint, {
          op: 'throttle',
          operation: 'DescribeUserPool',
          count: 0,
        });
      }

      expect(await ledgerRun(tableName, userPoolId)).toMatchObject({ sliceDigits: 3, nextSlice: 1 });
      expect(output.logs()).toContainEqual(
        expect.objectContaining({ level: 'WARN', reason: 'TooManyRequestsException', slices: 4096 }),
      );
      const [position] = await takeAll(reconcileQueueUrl);
      expect(position).toMatchObject({ version: 2, slice: 1 });
    }, 120_000);

    it('removes an unconfirmed sign-up the service holds: the repair reaches user-changes as remove, and it deletes', async () => {
      vi.stubEnv('RECONCILE_SLICES', '1');
      const changes = await createQueues();
      vi.stubEnv('CHANGES_QUEUE_URL', changes.retryQueueUrl);
      vi.stubEnv('CHANGES_DEAD_LETTER_QUEUE_URL', changes.deadLetterQueueUrl);
      const [pending] = unconfirmed;
      holdOnly([pending as string]);
      const output = captureOutput();
      try {
        await createReconcile()({ id: randomUUID(), source: 'aws.events' }, context());
        await drain(changes.retryQueueUrl, 10, createUserChanges());
      } finally {
        output.restore();
      }

      expect(output.metric('ReconcileExcluded')).toEqual([1]);
      expect(service.users.has(pending as string)).toBe(false);
    }, 60_000);

    it('a position of another sender (forged, a later slice) does nothing', async () => {
      holdOnly([subIn('0')]);
      const reconcile = createReconcile();
      const output = captureOutput();
      try {
        await reconcile({ id: randomUUID(), source: 'aws.events' }, context());
        const [position] = await takeAll(reconcileQueueUrl);
        await reconcile(positionEvent(JSON.stringify({ ...(position as object), slice: 9 })), context());
        await reconcile(
          positionEvent(JSON.stringify({ ...(position as object), runId: `${userPoolId}/forged` })),
          context(),
        );
      } finally {
        output.restore();
      }

      expect(await takeAll(reconcileQueueUrl)).toEqual([]);
      expect(output.logs().filter((line) => line.reason === 'ahead-of-the-run')).toHaveLength(1);
      expect(output.logs().filter((line) => line.reason === 'not-the-current-run')).toHaveLength(1);
    }, 60_000);

    it('a message that is no position fails the invocation, so SQS dead-letters it after its receives', async () => {
      const reconcile = createReconcile();
      const output = captureOutput();
      try {
        await expect(reconcile(positionEvent('{"type":"nope"}'), context())).rejects.toThrow(
          'not a reconcile position',
        );
      } finally {
        output.restore();
      }
    });
  });
});
