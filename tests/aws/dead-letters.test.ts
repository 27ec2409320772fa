// Dead letters: a refused payload and a malformed message end in the DLQ with their reason;
// `replay` moves them back; once the service accepts the payload, the worker delivers it.

import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { forwardTo, reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { createPool, createQueues, drain, peek, type Queues, queueDepth, sqs, useMoto } from './aws.js';

describe('dead letters and replay', () => {
  let queues: Queues;
  let service: DevUserService;
  let gate: ScriptedServer;
  // The User Service refuses this user's payload until its team fixes the validation.
  let refusing = true;
  // Al, a user of a moto pool: the worker asks Cognito before it sends.
  let userPoolId: string;
  let SUB: string;

  beforeAll(async () => {
    useMoto();
    queues = await createQueues();
    const pool = await createPool([{ username: 'al', attributes: { email: 'al@example.com', name: 'Al' } }]);
    userPoolId = pool.userPoolId;
    SUB = pool.subs[0] ?? '';
    service = await startDevUserService();
    gate = await startScriptedServer([
      (request, response, n) =>
        refusing
          ? reply(422, { error: 'unprocessable', reason: 'fullName too short' })(request, response, n)
          : forwardTo(service.url)(request, response, n),
    ]);
    vi.stubEnv('RETRY_QUEUE_URL', queues.retryQueueUrl);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', queues.deadLetterQueueUrl);
    vi.stubEnv('USER_SERVICE_URL', gate.url);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await gate.close();
    await service.close();
  });

  it('dead-letters a 422 and a malformed message with their reasons, and replays them', async () => {
    const good = JSON.stringify({
      version: 1,
      idempotencyKey: idempotencyKey(userPoolId, SUB),
      userPoolId,
      triggerSource: 'PostConfirmation_ConfirmSignUp',
      body: toUserRecord(SUB, { email: 'al@example.com', name: 'Al' }, { status: 'ACTIVE', role: 'USER' }),
      reason: 'http-503',
      attempts: 1,
      firstFailedAt: new Date().toISOString(),
    });
    for (const MessageBody of [good, '{"truncated": ']) {
      await sqs().send(new SendMessageCommand({ QueueUrl: queues.retryQueueUrl, MessageBody }));
    }

    await drain(queues.retryQueueUrl);

    const dead = await peek(queues.deadLetterQueueUrl);
    expect(
      dead.map((message) => [message.Body, message.MessageAttributes?.reason?.StringValue]).sort(),
    ).toEqual(
      [
        [good, 'http-422'],
        ['{"truncated": ', 'malformed-message'],
      ].sort(),
    );
    expect(await queueDepth(queues.retryQueueUrl)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });

    // The User Service team fixes its validation; the operator replays.
    refusing = false;
    const out: string[] = [];
    const code = await main(['replay'], { out: (line) => out.push(line), err: (line) => out.push(line) });
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/Moved 2 messages back, one by one/);
    // moto has no message move tasks: replay says so in words.
    expect(out.join('\n')).toMatch(/No message move task \(this SQS endpoint offers no message move tasks\)/);

    await drain(queues.retryQueueUrl);

    expect(service.users.get(SUB)).toMatchObject({ email: 'al@example.com', fullName: 'Al' });
    // The malformed message cannot be delivered by any fix on the service side: back in the DLQ.
    expect((await peek(queues.deadLetterQueueUrl)).map((message) => message.Body)).toEqual([
      '{"truncated": ',
    ]);
  });

  it('replay --max moves only that many', async () => {
    const out: string[] = [];
    await main(['replay', '--max', '1'], { out: (line) => out.push(line), err: (line) => out.push(line) });
    expect(out).toEqual(['Moved 1 message back, one by one.']);
  });
});
