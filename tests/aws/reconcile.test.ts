// Reconcile against moto: a pool of 1 000 users and a dev User Service seeded with every kind of
// drift (missing, changed email, changed name, disabled, orphaned, and users in step). The command
// line reports exactly the seeded drift, repairs it, caps its deletions, resumes after a kill;
// ListUsers throttling slows a run without failing it; and the scheduled form pages through the
// pool one slice per invocation, the repairs arriving through the changes queue.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminCreateUserCommand,
  AdminDisableUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { motoControl } from '../../scripts/moto.mjs';
import { main } from '../../src/cli/main.js';
import { readUserPolicy } from '../../src/config.js';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { recordOf } from '../../src/domain/user-policy.js';
import { createHandler as createReconcile } from '../../src/handlers/reconcile.js';
import { createHandler as createUserChanges } from '../../src/handlers/user-changes.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { captureOutput } from '../helpers/output.js';
import { createQueues, drain, moto, type Queues, sqs, useMoto } from './aws.js';
import { createLedgerTable } from './ledger.js';

const cognito = () => new CognitoIdentityProviderClient({});
const POOL_SIZE = 1000;
const DRIFT = { missing: 10, email: 8, name: 7, disabled: 5, orphaned: 6 };
const REPO = new URL('../..', import.meta.url).pathname;

interface Seeded {
  sub: string;
  attributes: Record<string, string>;
}

describe('reconcile', () => {
  let userPoolId: string;
  let users: Seeded[];
  let service: DevUserService;
  let dir: string;
  let drifted: { missing: string[]; different: string[]; orphaned: string[] };

  /** The service holding every pool user as the trigger would have made them, then the drift. */
  const seedService = () => {
    service.users.clear();
    const policy = readUserPolicy({});
    for (const { sub, attributes } of users) {
      service.users.set(sub, {
        ...recordOf(policy, {
          username: sub,
          sub,
          status: 'FORCE_CHANGE_PASSWORD',
          enabled: true,
          attributes,
          lastModified: undefined,
        }),
        createdAt: '2026-01-01T00:00:00.000Z',
        idempotencyKey: 'seed',
      });
    }
    let at = 0;
    const take = (count: number) => {
      const taken = users.slice(at, at + count).map((user) => user.sub);
      at += count;
      return taken;
    };
    const missing = take(DRIFT.missing);
    for (const sub of missing) service.users.delete(sub);
    const email = take(DRIFT.email);
    for (const sub of email) {
      const held = service.users.get(sub);
      if (held) service.users.set(sub, { ...held, email: `stale-${sub}@example.com` });
    }
    const name = take(DRIFT.name);
    for (const sub of name) {
      const held = service.users.get(sub);
      if (held) service.users.set(sub, { ...held, fullName: 'Stale Name' });
    }
    const disabled = users.slice(at, at + DRIFT.disabled).map((user) => user.sub); // disabled in the pool
    const orphaned = Array.from({ length: DRIFT.orphaned }, () => randomUUID());
    for (const sub of orphaned) {
      service.users.set(sub, {
        cognitoSub: sub,
        email: `${sub}@example.com`,
        fullName: 'Gone User',
        status: 'ACTIVE',
        role: 'USER',
        createdBy: sub,
        updatedBy: sub,
        createdAt: '2026-01-01T00:00:00.000Z',
        idempotencyKey: 'seed',
      });
    }
    return { missing, different: [...email, ...name, ...disabled], orphaned };
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
  const sorted = (values: string[]) => [...values].sort();

  beforeAll(async () => {
    useMoto();
    const client = cognito();
    const { UserPool } = await client.send(new CreateUserPoolCommand({ PoolName: 'reconcile' }));
    userPoolId = UserPool?.Id ?? '';
    users = await mapConcurrent(
      Array.from({ length: POOL_SIZE }, (_, n) => n),
      16,
      async (n): Promise<Seeded> => {
        const attributes = { email: `user${n}@example.com`, name: `User ${n}` };
        const { User } = await client.send(
          new AdminCreateUserCommand({
            UserPoolId: userPoolId,
            Username: `user${n}`,
            MessageAction: 'SUPPRESS',
            UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
          }),
        );
        const sub = User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value ?? '';
        return { sub, attributes };
      },
    );
    // Unconfirmed sign-ups: the user policy leaves them out, on both sides.
    const { UserPoolClient } = await client.send(
      new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: 'app' }),
    );
    for (let n = 0; n < 4; n++) {
      await client.send(
        new SignUpCommand({
          ClientId: UserPoolClient?.ClientId,
          Username: `pending${n}`,
          Password: 'Passw0rd!Passw0rd',
        }),
      );
    }
    const firstDisabled = DRIFT.missing + DRIFT.email + DRIFT.name;
    for (const { sub } of users.slice(firstDisabled, firstDisabled + DRIFT.disabled)) {
      await client.send(
        new AdminDisableUserCommand({
          UserPoolId: userPoolId,
          Username: `user${users.findIndex((user) => user.sub === sub)}`,
        }),
      );
    }
    service = await startDevUserService({ apiKeys: ['reconcile-key'] });
    vi.stubEnv('USER_SERVICE_URL', service.url);
    vi.stubEnv('USER_SERVICE_API_KEY', 'reconcile-key');
    dir = await mkdtemp(join(tmpdir(), 'reconcile-'));
    drifted = seedService();
  }, 300_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await service.close();
  });

  it('a dry run reports exactly the seeded drift, changes nothing, and exits 3', async () => {
    const before = structuredClone([...service.users.entries()]);
    const path = join(dir, 'dry-run.json');

    const { code, out } = await run('--report', path);

    expect(code).toBe(3);
    const written = await report(path);
    expect(written).toMatchObject({
      complete: true,
      apply: false,
      counts: {
        checked: POOL_SIZE,
        inStep: POOL_SIZE - DRIFT.missing - DRIFT.email - DRIFT.name - DRIFT.disabled,
        missing: DRIFT.missing,
        different: DRIFT.email + DRIFT.name + DRIFT.disabled,
        orphaned: DRIFT.orphaned,
      },
    });
    expect(sorted(written.drift.missing)).toEqual(sorted(drifted.missing));
    expect(sorted(written.drift.different.map((entry: { cognitoSub: string }) => entry.cognitoSub))).toEqual(
      sorted(drifted.different),
    );
    expect(written.drift.different).toContainEqual({ cognitoSub: drifted.different[0], fields: ['email'] });
    expect(written.drift.different).toContainEqual({
      cognitoSub: drifted.different.at(-1),
      fields: ['status'],
    });
    expect(sorted(written.drift.orphaned)).toEqual(sorted(drifted.orphaned));
    expect([...service.users.entries()]).toEqual(before);
    expect(out).toMatch(/orphaned\s+6/);
  });

  it('--apply with --max-deletes stops deleting at its cap; a second --apply finishes; a dry run then finds none', async () => {
    const capped = await run('--apply', '--max-deletes', '2', '--report', join(dir, 'capped.json'));

    expect(capped.code).toBe(3);
    expect((await report(join(dir, 'capped.json'))).counts).toMatchObject({
      created: DRIFT.missing,
      updated: DRIFT.email + DRIFT.name + DRIFT.disabled,
      deleted: 2,
      deletesCapped: DRIFT.orphaned - 2,
    });
    expect(drifted.orphaned.filter((sub) => service.users.has(sub))).toHaveLength(DRIFT.orphaned - 2);

    const rest = await run('--apply', '--report', join(dir, 'rest.json'));
    expect(rest.code).toBe(0);
    expect((await report(join(dir, 'rest.json'))).counts).toMatchObject({
      created: 0,
      updated: 0,
      deleted: 4,
    });

    const after = await run('--report', join(dir, 'after.json'));
    expect(after.code).toBe(0);
    expect((await report(join(dir, 'after.json'))).counts).toMatchObject({
      missing: 0,
      different: 0,
      orphaned: 0,
    });
    const disabled = drifted.different.at(-1) ?? '';
    expect(service.users.get(disabled)?.status).toBe('DISABLED');
  });

  it('a run killed after a few slices resumes from its report and ends in the same state', async () => {
    drifted = seedService();
    const path = join(dir, 'killed.json');
    const child = spawn(
      process.execPath,
      [
        join(REPO, 'bin/cognito-user-sync.mjs'),
        'reconcile',
        '--user-pool-id',
        userPoolId,
        '--apply',
        '--slices',
        '16',
        '--max-rps',
        '8',
        '--report',
        path,
      ],
      { cwd: REPO, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    // Kill it once it has written a slice or two.
    for (;;) {
      const written = await report(path).catch(() => undefined);
      if (written && written.nextSlice >= 2) break;
      if (child.exitCode !== null) throw new Error(`the run ended before it was killed:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    const stopped = await report(path);

    expect(code).toBe(143);
    expect(stopped.complete).toBe(false);
    expect(stopped.nextSlice).toBeLessThan(16);

    const resumed = await run('--resume-from', path, '--report', join(dir, 'resumed.json'));
    expect(resumed.code).toBe(0);
    const final = await run('--report', join(dir, 'final.json'));
    expect(final.code).toBe(0);
    expect(drifted.orphaned.filter((sub) => service.users.has(sub))).toEqual([]);
    expect(drifted.missing.every((sub) => service.users.has(sub))).toBe(true);
  }, 120_000);

  it('ListUsers throttled for a while: the run slows down and finishes', async () => {
    await motoControl(moto().controlEndpoint, { op: 'throttle', operation: 'ListUsers', count: 8 });

    const { code, out } = await run('--report', join(dir, 'throttled.json'));

    expect(code).toBe(0);
    expect(out).toMatch(/[1-9]\d* throttle\(s\)/);
    expect((await report(join(dir, 'throttled.json'))).complete).toBe(true);
  }, 60_000);

  describe('the scheduled form', () => {
    let queues: { reconcile: Queues; changes: Queues };

    beforeAll(async () => {
      queues = { reconcile: await createQueues(), changes: await createQueues() };
      vi.stubEnv('USER_POOL_ID', userPoolId);
      vi.stubEnv('RECONCILE_QUEUE_URL', queues.reconcile.retryQueueUrl);
      vi.stubEnv('RECONCILE_TABLE_NAME', await createLedgerTable());
      vi.stubEnv('CHANGES_QUEUE_URL', queues.changes.retryQueueUrl);
      vi.stubEnv('CHANGES_DEAD_LETTER_QUEUE_URL', queues.changes.deadLetterQueueUrl);
      vi.stubEnv('RECONCILE_SLICES', '16');
      vi.stubEnv('RECONCILE_MAX_RPS', '25');
    });

    it('pages through the pool one slice per invocation, carrying its position, and the repairs arrive through the changes queue', async () => {
      drifted = seedService();
      const reconcile = createReconcile();
      // A time limit that ends every invocation after its first slice.
      const nearlyOutOfTime = lambdaContext({
        functionName: 'reconcile',
        getRemainingTimeInMillis: () => 60_000,
      });
      const output = captureOutput();
      let invocations = 0;
      try {
        await reconcile({ 'detail-type': 'Scheduled Event', source: 'aws.events' }, nearlyOutOfTime);
        invocations++;
        for (;;) {
          const { Messages = [] } = await sqs().send(
            new ReceiveMessageCommand({ QueueUrl: queues.reconcile.retryQueueUrl, MaxNumberOfMessages: 1 }),
          );
          const [message] = Messages;
          if (!message) break;
          await reconcile(
            {
              Records: [
                {
                  messageId: message.MessageId ?? '',
                  receiptHandle: message.ReceiptHandle ?? '',
                  body: message.Body ?? '',
                  attributes: {} as never,
                  messageAttributes: {},
                  md5OfBody: '',
                  eventSource: 'aws:sqs',
                  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:reconcile',
                  awsRegion: 'eu-west-1',
                },
              ],
            },
            nearlyOutOfTime,
          );
          invocations++;
          await sqs().send(
            new DeleteMessageCommand({
              QueueUrl: queues.reconcile.retryQueueUrl,
              ReceiptHandle: message.ReceiptHandle,
            }),
          );
        }
      } finally {
        output.restore();
      }

      expect(invocations).toBe(16);
      expect(output.metric('ReconcileRunCompleted')).toEqual([1]);
      expect(output.metric('ReconcileMissing').reduce((sum, value) => sum + value, 0)).toBe(DRIFT.missing);
      expect(output.metric('ReconcileOrphaned').reduce((sum, value) => sum + value, 0)).toBe(DRIFT.orphaned);

      // The repairs, written by the user-changes workers.
      const changes = captureOutput();
      await drain(queues.changes.retryQueueUrl, 50, createUserChanges()).finally(() => changes.restore());
      const after = await run('--report', join(dir, 'after-scheduled.json'));
      expect(after.code).toBe(0);
    }, 120_000);
  });
});
