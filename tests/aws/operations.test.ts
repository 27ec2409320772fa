// On call, against moto: `status` shows every queue without consuming a message or bumping a
// retry message's receive count; `replay` counts (--dry-run), picks (--reason) and serves the
// changes queue too; a backfill killed with SIGTERM resumes from its report.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { createQueues, peek, type Queues, sqs, useMoto } from './aws.js';

const REPO = new URL('../..', import.meta.url).pathname;

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

const send = (QueueUrl: string, MessageBody: string, reason?: string) =>
  sqs().send(
    new SendMessageCommand({
      QueueUrl,
      MessageBody,
      ...(reason && { MessageAttributes: { reason: { DataType: 'String', StringValue: reason } } }),
    }),
  );

describe('operations', () => {
  let retry: Queues;
  let changes: Queues;

  beforeAll(async () => {
    useMoto();
    retry = await createQueues();
    changes = await createQueues();
    vi.stubEnv('RETRY_QUEUE_URL', retry.retryQueueUrl);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', retry.deadLetterQueueUrl);
    vi.stubEnv('CHANGES_QUEUE_URL', changes.retryQueueUrl);
    vi.stubEnv('CHANGES_DEAD_LETTER_QUEUE_URL', changes.deadLetterQueueUrl);
    await send(retry.retryQueueUrl, 'waiting-1');
    await send(retry.retryQueueUrl, 'waiting-2');
    for (const [body, reason] of [
      ['a', 'http-422'],
      ['b', 'http-422'],
      ['c', 'malformed-message'],
      ['d', undefined],
    ] as const) {
      await send(retry.deadLetterQueueUrl, body, reason);
    }
    await send(changes.deadLetterQueueUrl, 'changed', 'http-409');
  });
  afterAll(() => vi.unstubAllEnvs());

  it('status: depths and dead letters by reason for every queue, as a table and as JSON', async () => {
    const table = await run('status');
    const json = await run('status', '--output', 'json');

    expect(table.code).toBe(0);
    expect(table.out).toMatch(
      /^queue\s+waiting\s+hidden\s+delayed\s+oldest\s+retrying\s+dead letters by reason/,
    );
    expect(table.out).toMatch(
      /\ndead-letter\s+4\s+0\s+0\s+\S+( \S+)?\s+http-422: 2, malformed-message: 1, none: 1/,
    );
    const statuses = JSON.parse(json.out);
    expect(statuses.map((status: { name: string }) => status.name)).toEqual([
      'retry',
      'dead-letter',
      'changes',
      'changes-dead-letter',
    ]);
    expect(statuses[0]).toMatchObject({ name: 'retry', waiting: 2, hidden: 0 });
    expect(statuses[3]).toMatchObject({ reasons: { 'http-409': 1 } });
  });

  it('status never consumes a message, nor bumps the receive count of a retry message', async () => {
    await run('status');
    await run('status');

    const retryMessages = await sqs().send(
      new ReceiveMessageCommand({
        QueueUrl: retry.retryQueueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(retryMessages.Messages?.map((message) => message.Attributes?.ApproximateReceiveCount)).toEqual([
      '1',
      '1',
    ]);
    expect(await peek(retry.deadLetterQueueUrl)).toHaveLength(4);
  });

  it('replay --dry-run counts by reason and moves nothing; --reason moves only that reason', async () => {
    const dry = await run('replay', '--dry-run');
    expect(dry).toMatchObject({ code: 0 });
    expect(dry.out).toBe('Dry run: 4 dead letters would move (http-422: 2, malformed-message: 1, none: 1).');
    expect(await peek(retry.deadLetterQueueUrl)).toHaveLength(4);

    const picked = await run('replay', '--reason', 'http-422');
    expect(picked.out).toBe('Moved 2 messages back, one by one.');
    expect((await peek(retry.deadLetterQueueUrl)).map((message) => message.Body).sort()).toEqual(['c', 'd']);
  });

  it('replay --queue changes moves the changes dead letters back to the changes queue', async () => {
    const moved = await run('replay', '--queue', 'changes');

    expect(moved.out).toMatch(/Moved 1 message back/);
    expect((await peek(changes.retryQueueUrl)).map((message) => message.Body)).toEqual(['changed']);
  });

  it('every command says its version', async () => {
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'));
    for (const argv of [['--version'], ['status', '--version'], ['backfill', '--version']]) {
      await expect(run(...argv)).resolves.toMatchObject({ code: 0, out: `cognito-user-sync ${version}` });
    }
  });
});

describe('backfill, stopped by SIGTERM', () => {
  let service: DevUserService;

  beforeAll(async () => {
    useMoto();
    service = await startDevUserService();
    vi.stubEnv('USER_SERVICE_URL', service.url);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await service.close();
  });

  it('finishes the page in hand, leaves the position in its report, and --resume-from ends the run', async () => {
    const client = new CognitoIdentityProviderClient({});
    const { UserPool } = await client.send(new CreateUserPoolCommand({ PoolName: 'sigterm' }));
    const userPoolId = UserPool?.Id ?? '';
    await mapConcurrent(
      Array.from({ length: 600 }, (_, n) => n),
      16,
      (n) =>
        client.send(
          new AdminCreateUserCommand({
            UserPoolId: userPoolId,
            Username: `user${n}`,
            MessageAction: 'SUPPRESS',
            UserAttributes: [{ Name: 'email', Value: `user${n}@example.com` }],
          }),
        ),
    );
    const dir = await mkdtemp(join(tmpdir(), 'sigterm-'));
    const report = join(dir, 'backfill.json');
    const child = spawn(
      process.execPath,
      [
        join(REPO, 'bin/cognito-user-sync.mjs'),
        'backfill',
        '--user-pool-id',
        userPoolId,
        '--max-rps',
        '2',
        '--report',
        report,
      ],
      { cwd: REPO, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    for (;;) {
      const written = await readFile(report, 'utf8').then(JSON.parse, () => undefined);
      if (written && written.pages >= 2) break;
      if (child.exitCode !== null) throw new Error(`backfill ended before it was stopped:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    const stopped = JSON.parse(await readFile(report, 'utf8'));

    expect(code).toBe(143);
    expect(stderr).toMatch(/SIGTERM: finishing the work in hand/);
    expect(stopped).toMatchObject({ complete: false, stoppedBy: 'interrupted' });
    expect(stopped.resumeToken).toEqual(expect.any(String));
    // Every page counted in the report was sent whole.
    expect(service.users.size).toBe(stopped.counts.created);

    const resumed = await run(
      'backfill',
      '--resume-from',
      report,
      '--max-rps',
      '25',
      '--report',
      join(dir, 'resumed.json'),
    );
    expect(resumed.code).toBe(0);
    expect(service.users.size).toBe(600);
    expect(JSON.parse(await readFile(join(dir, 'resumed.json'), 'utf8')).counts).toMatchObject({
      seen: 600,
      created: 600,
      failed: 0,
    });
  }, 120_000);
});
