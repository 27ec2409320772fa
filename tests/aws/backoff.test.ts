// A transient failure in the worker: the message is reported in batchItemFailures and stays
// invisible for the scheduled delay, well past the queue's own visibility timeout.

import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { createPool, createQueues, pollOnce, type Queues, queueDepth, sqs, useMoto } from './aws.js';

describe('retry worker backoff', () => {
  let queues: Queues;
  let server: ScriptedServer;

  beforeAll(async () => {
    useMoto();
    // The queue's own visibility timeout is 1 s: only the worker's deferral can keep a message longer.
    queues = await createQueues({ visibilityTimeout: 1 });
    server = await startScriptedServer([reply(503, { error: 'maintenance' })]);
    vi.stubEnv('RETRY_QUEUE_URL', queues.retryQueueUrl);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', queues.deadLetterQueueUrl);
    vi.stubEnv('USER_SERVICE_URL', server.url);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await server.close();
  });

  it('reports the message as failed and hides it for the scheduled delay', async () => {
    // A user the pool has: the worker asks Cognito before it sends.
    const {
      userPoolId,
      subs: [sub = ''],
    } = await createPool([{ username: 'late', attributes: { email: 'late@example.com' } }]);
    const { MessageId } = await sqs().send(
      new SendMessageCommand({
        QueueUrl: queues.retryQueueUrl,
        MessageBody: JSON.stringify({
          version: 1,
          idempotencyKey: idempotencyKey(userPoolId, sub),
          userPoolId,
          triggerSource: 'PostConfirmation_ConfirmSignUp',
          body: toUserRecord(sub, { email: 'late@example.com' }, { status: 'ACTIVE', role: 'USER' }),
          reason: 'http-503',
          attempts: 2,
          firstFailedAt: new Date().toISOString(),
        }),
      }),
    );

    const response = await pollOnce(queues.retryQueueUrl);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: MessageId }] });
    expect(server.requests.length).toBeGreaterThan(0);
    // Twice the queue's visibility timeout later, the deferred message is still hidden: this wait
    // is the assertion, not a wait for something to happen.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const { Messages = [] } = await sqs().send(
      new ReceiveMessageCommand({ QueueUrl: queues.retryQueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages).toEqual([]);
    expect(await queueDepth(queues.retryQueueUrl)).toMatchObject({ visible: 0, notVisible: 1 });
  });
});
