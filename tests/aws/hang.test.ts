// AWS endpoints that accept the connection and never answer: the SDK's own timeouts fire (they only
// warned before), the invocation gives up in time, and the next one in the same container works
// (a fetch given up on is not left in middy's cache for the container's life).

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { createHandler as createPostConfirmation } from '../../src/handlers/post-confirmation.js';
import { createHandler as createRetryWorker } from '../../src/handlers/retry-worker.js';
import { MetricName } from '../../src/metric-names.js';
import { loadEvent } from '../helpers/handler.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { captureOutput } from '../helpers/output.js';
import {
  createPool,
  createQueues,
  eventually,
  moto,
  peek,
  pollOnce,
  type Queues,
  sqs,
  startHangingProxy,
  useMoto,
} from './aws.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const REPO = new URL('../..', import.meta.url).pathname;

describe('AWS endpoints that never answer', () => {
  let service: DevUserService;
  let proxy: Awaited<ReturnType<typeof startHangingProxy>>;
  let queues: Queues;

  beforeEach(async () => {
    useMoto();
    service = await startDevUserService({ apiKeys: ['key-from-secret'] });
    proxy = await startHangingProxy(moto().endpoint);
    queues = await createQueues();
    const { ARN } = await new SecretsManagerClient({}).send(
      new CreateSecretCommand({
        Name: `user-service/api-key-${randomUUID()}`,
        SecretString: 'key-from-secret',
      }),
    );
    vi.stubEnv('USER_SERVICE_URL', service.url);
    vi.stubEnv('USER_SERVICE_API_KEY_SECRET_ID', ARN ?? '');
    vi.stubEnv('RETRY_QUEUE_URL', queues.retryQueueUrl);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', queues.deadLetterQueueUrl);
    // Only Secrets Manager goes through the proxy (the SDK's service-specific endpoint variable).
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', proxy.url);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await proxy.close();
    await service.close();
  });

  it('post-confirmation: queues the user in time, the SDK gives up, and the next invocation in the container syncs', async () => {
    vi.stubEnv('SYNC_DEADLINE_MS', '1500');
    const handler = createPostConfirmation(); // one container: one chain, one middy cache
    const event = loadEvent('post-confirmation-signup');

    const output = captureOutput();
    const started = performance.now();
    const first = await handler(event, lambdaContext()).finally(() => output.restore());
    const elapsedMs = performance.now() - started;

    expect(first).toBe(event);
    expect(elapsedMs).toBeLessThan(1500 + 200);
    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
    expect(
      (await peek(queues.retryQueueUrl)).map((message) => JSON.parse(message.Body ?? '{}').reason),
    ).toEqual(['secret-unavailable']);
    // The SDK's request timeout really fires: the hung connections are closed by the client.
    await eventually(() => proxy.state.closedByClient > 0, 8000);

    proxy.state.hang = false;
    const next = captureOutput();
    await handler(loadEvent('post-confirmation-admin-confirm'), lambdaContext()).finally(() =>
      next.restore(),
    );

    expect(next.metric(MetricName.UserSynced)).toEqual([1]);
    expect(service.requests.at(-1)?.headers['x-api-key']).toBe('key-from-secret');
  });

  it('retry worker: defers the batch within its bound, and the next batch in the container is sent', async () => {
    const worker = createRetryWorker();
    // Users of a moto pool: the worker asks Cognito (not behind the proxy) before it sends.
    const {
      userPoolId,
      subs: [hungSub = '', nextSub = ''],
    } = await createPool([{ username: 'hang-1' }, { username: 'hang-2' }]);
    const message = (sub: string) =>
      JSON.stringify({
        version: 1,
        idempotencyKey: idempotencyKey(userPoolId, sub),
        userPoolId,
        triggerSource: 'PostConfirmation_ConfirmSignUp',
        body: toUserRecord(sub, { email: `${sub}@example.com` }, { status: 'ACTIVE', role: 'USER' }),
        reason: 'http-503',
        attempts: 1,
        firstFailedAt: new Date().toISOString(),
      });
    await sqs().send(
      new SendMessageCommand({ QueueUrl: queues.retryQueueUrl, MessageBody: message(hungSub) }),
    );

    const started = performance.now();
    const first = await pollOnce(queues.retryQueueUrl, worker);

    expect(performance.now() - started).toBeLessThan(10_000);
    expect(first?.batchItemFailures).toHaveLength(1);
    expect(service.requests).toEqual([]);

    proxy.state.hang = false;
    await sqs().send(
      new SendMessageCommand({ QueueUrl: queues.retryQueueUrl, MessageBody: message(nextSub) }),
    );
    const next = await pollOnce(queues.retryQueueUrl, worker);

    expect(next).toEqual({ batchItemFailures: [] });
    expect(service.users.has(nextSub)).toBe(true);
  });

  it('backfill: a ListUsers that never answers ends the run with a clear failure, not a hang', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER', proxy.url);
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    const lines: string[] = [];

    const started = performance.now();
    const code = await main(
      ['backfill', '--user-pool-id', POOL, '--dry-run', '--report', `/tmp/hang-${randomUUID()}.json`],
      {
        out: (line) => lines.push(line),
        err: (line) => lines.push(line),
      },
    );

    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/could not be listed: AWS did not answer in time/);
    expect(performance.now() - started).toBeLessThan(40_000);
  }, 60_000);
});

describe('backfill against a ListUsers that never answers', () => {
  it('stops at the first Ctrl-C, not at the request timeout, and says so', async () => {
    useMoto();
    const proxy = await startHangingProxy(moto().endpoint);
    const dir = await mkdtemp(join(tmpdir(), 'ctrl-c-'));
    const child = spawn(
      process.execPath,
      [
        join(REPO, 'bin/cognito-user-sync.mjs'),
        'backfill',
        '--user-pool-id',
        POOL,
        '--dry-run',
        '--report',
        join(dir, 'r.json'),
      ],
      {
        cwd: REPO,
        env: { ...process.env, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: proxy.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    // Once the run has started and its first request hangs.
    await eventually(() => proxy.state.connections > 0, 20_000);

    const started = performance.now();
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');

    expect(code).toBe(130);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(output).toMatch(/SIGINT: finishing the work in hand/);
    await proxy.close();
  }, 60_000);
});
