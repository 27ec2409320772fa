// A deleted user is never brought back, against moto: sign-ups are queued by the real
// post-confirmation handler while the User Service is down; one user is then deleted from the pool
// (AdminDeleteUser); when the service is back and the retry worker drains the queue, Cognito is
// asked first: the deleted user is not created, and the RetryUserGone metric says why, while the
// users the pool still has (a federated one among them) are. A replay from the dead-letter queue
// goes through the same check; a throttled Cognito makes the message wait, never guess.

import {
  AdminDeleteUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { motoControl } from '../../scripts/moto.mjs';
import { main } from '../../src/cli/main.js';
import { LISTING_CATCH_UP_MS } from '../../src/clients/cognito-users.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { MetricName } from '../../src/metric-names.js';
import { invokeHandler, loadEvent } from '../helpers/handler.js';
import type { CapturedOutput } from '../helpers/output.js';
import { refusedUrl } from '../helpers/scripted-server.js';
import {
  createPool,
  createQueues,
  drain,
  moto,
  pollOnce,
  type Queues,
  queueDepth,
  skipBackoff,
  sqs,
  useMoto,
} from './aws.js';

const total = (outputs: CapturedOutput[], metric: string) =>
  outputs.flatMap((output) => output.metric(metric)).reduce((sum, value) => sum + value, 0);
const logsOf = (outputs: CapturedOutput[]) => outputs.flatMap((output) => output.logs());
/** A retry message as the sign-up trigger writes it for a user the User Service did not take. */
const retryMessage = (userPoolId: string, sub: string, email: string) =>
  JSON.stringify({
    version: 1,
    idempotencyKey: idempotencyKey(userPoolId, sub),
    userPoolId,
    triggerSource: 'PostConfirmation_ConfirmSignUp',
    body: toUserRecord(sub, { email }, { status: 'ACTIVE', role: 'USER' }),
    reason: 'http-503',
    attempts: 3,
    // As old as a dead-lettered message is: ListUsers has long caught up with the sign-up.
    firstFailedAt: new Date(Date.now() - LISTING_CATCH_UP_MS).toISOString(),
  });

describe('a user deleted from the pool while queued for retry', () => {
  let queues: Queues;
  let service: DevUserService | undefined;

  beforeAll(async () => {
    useMoto();
    queues = await createQueues();
    vi.stubEnv('RETRY_QUEUE_URL', queues.retryQueueUrl);
    vi.stubEnv('DEAD_LETTER_QUEUE_URL', queues.deadLetterQueueUrl);
    vi.stubEnv('SYNC_DEADLINE_MS', '600');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await service?.close();
  });

  it('is not created when the queue drains; the users the pool still has are, a federated one too', async () => {
    const { userPoolId, subs } = await createPool([
      { username: 'ada', attributes: { email: 'ada@example.com', name: 'Ada' } },
      { username: 'grace', attributes: { email: 'grace@example.com', name: 'Grace' } },
      {
        username: 'google_104857392018475629384',
        status: 'EXTERNAL_PROVIDER',
        attributes: { email: 'katherine@example.com', name: 'Katherine' },
      },
    ]);
    const [ada = '', grace = '', katherine = ''] = subs;
    const signUp = (fixture: string, userName: string, sub: string, email: string) => {
      const event = loadEvent(fixture) as { request: { userAttributes: Record<string, string> } };
      return {
        ...event,
        userPoolId,
        userName,
        request: { userAttributes: { ...event.request.userAttributes, sub, email } },
      };
    };

    // The User Service is down: each sign-up is queued, as the trigger does.
    vi.stubEnv('USER_SERVICE_URL', await refusedUrl());
    // Signed up (and queued) as long ago as ListUsers is given to catch up, so that "not in the pool"
    // is no guess; a drop sooner is deferred (tests/handlers/retry-worker.listing-lag.test.ts).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - LISTING_CATCH_UP_MS, shouldAdvanceTime: true });
    for (const event of [
      signUp('post-confirmation-signup', 'ada', ada, 'ada@example.com'),
      signUp('post-confirmation-signup', 'grace', grace, 'grace@example.com'),
      signUp(
        'post-confirmation-federated',
        'google_104857392018475629384',
        katherine,
        'katherine@example.com',
      ),
    ]) {
      const { output } = await invokeHandler(event);
      expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
    }
    vi.useRealTimers();
    expect(await queueDepth(queues.retryQueueUrl)).toEqual({ visible: 3, notVisible: 0, delayed: 0 });

    // Ada deletes her account while her sign-up waits on the queue.
    await new CognitoIdentityProviderClient({}).send(
      new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: 'ada' }),
    );

    service = await startDevUserService();
    vi.stubEnv('USER_SERVICE_URL', service.url);
    const outputs: CapturedOutput[] = [];
    await drain(queues.retryQueueUrl, 10, undefined, outputs);

    expect(service.users.has(ada)).toBe(false);
    expect(
      service.requests.filter(
        (request) => request.headers['idempotency-key'] === idempotencyKey(userPoolId, ada),
      ),
    ).toEqual([]);
    expect([...service.users.keys()].sort()).toEqual([grace, katherine].sort());
    expect(total(outputs, MetricName.RetryUserGone)).toBe(1);
    expect(total(outputs, MetricName.RetrySucceeded)).toBe(2);
    expect(logsOf(outputs)).toContainEqual(
      expect.objectContaining({ outcome: 'gone', reason: 'not-in-pool', userPoolId, cognitoSub: ada }),
    );
    // Dropped for good: neither waiting on the retry queue nor dead-lettered.
    expect(await queueDepth(queues.retryQueueUrl)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
    expect(await queueDepth(queues.deadLetterQueueUrl)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('is not created by a replay from the dead-letter queue either', async () => {
    const {
      userPoolId,
      subs: [edsger = ''],
    } = await createPool([{ username: 'edsger', attributes: { email: 'edsger@example.com' } }]);
    service ??= await startDevUserService();
    vi.stubEnv('USER_SERVICE_URL', service.url);
    // Refused once (a 422 the User Service team has since fixed), so dead-lettered as the worker does:
    // the body unchanged, the reason attached.
    await sqs().send(
      new SendMessageCommand({
        QueueUrl: queues.deadLetterQueueUrl,
        MessageBody: retryMessage(userPoolId, edsger, 'edsger@example.com'),
        MessageAttributes: { reason: { DataType: 'String', StringValue: 'http-422' } },
      }),
    );
    await new CognitoIdentityProviderClient({}).send(
      new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: 'edsger' }),
    );

    const said: string[] = [];
    expect(await main(['replay'], { out: (line) => said.push(line), err: (line) => said.push(line) })).toBe(
      0,
    );
    const outputs: CapturedOutput[] = [];
    await drain(queues.retryQueueUrl, 5, undefined, outputs);

    expect(service.users.has(edsger)).toBe(false);
    expect(total(outputs, MetricName.RetryUserGone)).toBe(1);
    expect(await queueDepth(queues.deadLetterQueueUrl)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('waits, never creating blindly nor dropping, while Cognito throttles; creates the user after', async () => {
    const { userPoolId, subs } = await createPool([
      { username: 'mary', attributes: { email: 'mary@example.com' } },
    ]);
    const [mary = ''] = subs;
    service ??= await startDevUserService();
    vi.stubEnv('USER_SERVICE_URL', service.url);
    await sqs().send(
      new SendMessageCommand({
        QueueUrl: queues.retryQueueUrl,
        MessageBody: retryMessage(userPoolId, mary, 'mary@example.com'),
      }),
    );
    // Every attempt the SDK makes (the worker's AWS profile allows 3) answers TooManyRequestsException.
    await motoControl(moto().controlEndpoint, { op: 'throttle', operation: 'AdminGetUser', count: 3 });

    const throttled: CapturedOutput[] = [];
    const first = await pollOnce(queues.retryQueueUrl, undefined, throttled);

    expect(first?.batchItemFailures).toHaveLength(1);
    expect(service.users.has(mary)).toBe(false);
    expect(total(throttled, MetricName.RetryDeferred)).toBe(1);
    expect(logsOf(throttled)).toContainEqual(
      expect.objectContaining({
        outcome: 'deferred',
        reason: 'cognito-TooManyRequestsException',
        cognitoSub: mary,
      }),
    );

    await skipBackoff(queues.retryQueueUrl);
    const after: CapturedOutput[] = [];
    await drain(queues.retryQueueUrl, 5, undefined, after);

    expect(service.users.has(mary)).toBe(true);
    expect(total(after, MetricName.RetrySucceeded)).toBe(1);
    expect(await queueDepth(queues.deadLetterQueueUrl)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });
});
