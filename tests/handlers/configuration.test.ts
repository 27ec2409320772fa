// Every function reads its configuration once per container: one chain (createHandler) invoked
// twice reads each variable once, through the environment it was given. A bad value is raised
// inside each invocation (fail-open catches it; reconcile fails the invocation), names the
// variable, and is never kept: it is read again, and fails again, until it is fixed.

import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Env } from '../../src/config.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { createHandler as createPostConfirmation } from '../../src/handlers/post-confirmation.js';
import { createHandler as createReconcile } from '../../src/handlers/reconcile.js';
import { createHandler as createRetryWorker } from '../../src/handlers/retry-worker.js';
import { createHandler as createUserChanges } from '../../src/handlers/user-changes.js';
import { MetricName } from '../../src/metric-names.js';
import { resetHandlerState, sentMessages, sqsMock } from '../helpers/aws-mocks.js';
import { loadEvent, setEnv } from '../helpers/handler.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { type CapturedOutput, captureOutput } from '../helpers/output.js';
import { sqsRecord } from '../helpers/sqs-record.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const QUEUE = (name: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`;
const dynamo = mockClient(DynamoDBClient);

/** process.env, counting the reads of each variable made through it. */
const countingEnv = () => {
  const reads = new Map<string, number>();
  const env: Env = new Proxy(process.env, {
    get: (target, name) => {
      if (typeof name === 'string') reads.set(name, (reads.get(name) ?? 0) + 1);
      return Reflect.get(target, name);
    },
  });
  return { env, reads: (name: string) => reads.get(name) ?? 0 };
};

/** One invocation of a chain already made (one container), its output captured. */
const invokeOnce = async <TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  event: TEvent,
  context: Context = lambdaContext({ getRemainingTimeInMillis: () => 30_000 }),
): Promise<{ result: TResult | undefined; error?: unknown; output: CapturedOutput }> => {
  const output = captureOutput();
  try {
    return { result: await handler(event, context), output };
  } catch (error) {
    return { result: undefined, error, output };
  } finally {
    output.restore();
  }
};

const batch = (body: string): SQSEvent => ({ Records: [sqsRecord(body, { messageId: 'm-1' })] });

describe('configuration, read once per container', () => {
  let service: DevUserService;

  beforeEach(async () => {
    resetHandlerState();
    dynamo.reset();
    service = await startDevUserService({ apiKeys: ['config-key'] });
    setEnv({
      USER_SERVICE_URL: service.url,
      USER_SERVICE_API_KEY: 'config-key',
      SYNC_DEADLINE_MS: '1000',
      DEAD_LETTER_QUEUE_URL: QUEUE('dlq'),
    });
  });
  afterEach(() => service.close());

  describe('post-confirmation', () => {
    it('reads each variable once for two invocations', async () => {
      const { env, reads } = countingEnv();
      const handler = createPostConfirmation(env);

      const first = await invokeOnce(handler, loadEvent('post-confirmation-signup'));
      const second = await invokeOnce(handler, loadEvent('post-confirmation-admin-confirm'));

      expect(first.output.metric(MetricName.UserSynced)).toEqual([1]);
      expect(second.output.metric(MetricName.UserSynced)).toEqual([1]);
      for (const variable of [
        'USER_SERVICE_URL',
        'USER_SERVICE_TIMEOUT_MS',
        'SYNC_DEADLINE_MS',
        'SYNC_USER_STATUSES',
        'DEFAULT_USER_STATUS',
        'DEFAULT_USER_ROLE',
        'DISABLED_USER_STATUS',
        'RETRY_QUEUE_URL',
        'DEAD_LETTER_QUEUE_URL',
      ]) {
        expect({ variable, reads: reads(variable) }).toEqual({ variable, reads: 1 });
      }
    });

    it('reads nothing at creation: a bad value cannot fail the import', () => {
      setEnv({ USER_SERVICE_URL: 'not a url' });
      const { env, reads } = countingEnv();

      createPostConfirmation(env);

      expect(reads('USER_SERVICE_URL')).toBe(0);
    });

    it('fails every invocation with a bad value, inside it and naming the variable, until it is fixed', async () => {
      setEnv({ USER_SERVICE_URL: 'http://users.example.com/api/v1/users' });
      const { env, reads } = countingEnv();
      const handler = createPostConfirmation(env);
      const event = loadEvent('post-confirmation-signup');

      const first = await invokeOnce(handler, event);
      const second = await invokeOnce(handler, event);
      setEnv({ USER_SERVICE_URL: service.url });
      const fixed = await invokeOnce(handler, event);

      for (const { result, output } of [first, second]) {
        expect(result).toBe(event);
        expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
        expect(output.logs()).toContainEqual(
          expect.objectContaining({
            level: 'ERROR',
            errorName: 'ConfigError',
            variable: 'USER_SERVICE_URL',
            errorMessage: expect.stringMatching(/^USER_SERVICE_URL must use https:\/\//),
          }),
        );
      }
      expect(sentMessages().map(({ message }) => message.reason)).toEqual([
        'config-USER_SERVICE_URL',
        'config-USER_SERVICE_URL',
      ]);
      expect(fixed.output.metric(MetricName.UserSynced)).toEqual([1]);
      expect(reads('USER_SERVICE_URL')).toBe(3);
    });
  });

  describe.each([
    {
      consumer: 'retry worker',
      create: createRetryWorker,
      env: { RETRY_QUEUE_URL: QUEUE('retry') },
      variables: ['RETRY_QUEUE_URL', 'DEAD_LETTER_QUEUE_URL', 'USER_SERVICE_URL', 'DEFAULT_USER_ROLE'],
      bad: { DEFAULT_USER_ROLE: 'power user' },
    },
    {
      consumer: 'user-changes',
      create: createUserChanges,
      env: {
        USER_POOL_ID: POOL,
        CHANGES_QUEUE_URL: QUEUE('changes'),
        CHANGES_DEAD_LETTER_QUEUE_URL: QUEUE('changes-dlq'),
      },
      variables: ['USER_POOL_ID', 'SYNC_USER_STATUSES', 'CHANGES_QUEUE_URL', 'USER_SERVICE_URL'],
      bad: { USER_POOL_ID: 'Qx7Lm2Rt9' },
    },
  ])('$consumer', ({ create, env: variables, variables: read, bad }) => {
    beforeEach(() => setEnv(variables));

    it('reads each variable once for two batches', async () => {
      const { env, reads } = countingEnv();
      const consumer = create(env);

      // Malformed: dead-lettered without Cognito or the User Service, after the configuration is read.
      const first = await invokeOnce(consumer, batch('not json'));
      const second = await invokeOnce(consumer, batch('not json'));

      expect([first.result, second.result]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(2);
      for (const variable of read) {
        expect({ variable, reads: reads(variable) }).toEqual({ variable, reads: 1 });
      }
    });

    it('defers every batch while a value is bad, naming the variable, and reads it again each time', async () => {
      setEnv(bad);
      const [variable = ''] = Object.keys(bad);
      const { env, reads } = countingEnv();
      const consumer = create(env);

      for (let n = 0; n < 2; n++) {
        const { result, output } = await invokeOnce(consumer, batch('not json'));
        expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
        expect(output.logs()).toContainEqual(
          expect.objectContaining({ level: 'ERROR', variable, reason: `config-${variable}` }),
        );
      }
      expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(2);
      expect(reads(variable)).toBe(2);
    });
  });

  describe('reconcile', () => {
    beforeEach(() => {
      setEnv({
        USER_POOL_ID: POOL,
        RECONCILE_QUEUE_URL: QUEUE('reconcile'),
        CHANGES_QUEUE_URL: QUEUE('changes'),
        RECONCILE_TABLE_NAME: 'cognito-user-sync-runs',
        RECONCILE_SLICES: '16',
      });
      dynamo
        .on(GetItemCommand)
        .rejects(Object.assign(new Error('ledger down'), { name: 'ServiceUnavailable' }));
    });
    const schedule = { id: 'schedule-1', source: 'aws.events' };

    it('reads each variable once for two invocations', async () => {
      const { env, reads } = countingEnv();
      const reconcile = createReconcile(env);

      // Both get as far as the run ledger, past the configuration.
      const first = await invokeOnce(reconcile, schedule);
      const second = await invokeOnce(reconcile, schedule);

      expect([first.error, second.error]).toEqual([
        expect.objectContaining({ name: 'ServiceUnavailable' }),
        expect.objectContaining({ name: 'ServiceUnavailable' }),
      ]);
      for (const variable of [
        'USER_POOL_ID',
        'RECONCILE_TABLE_NAME',
        'RECONCILE_MAX_RPS',
        'USER_SERVICE_URL',
      ]) {
        expect({ variable, reads: reads(variable) }).toEqual({ variable, reads: 1 });
      }
    });

    it('fails every invocation while a value is bad, naming the variable, and reads it again each time', async () => {
      setEnv({ RECONCILE_TABLE_NAME: 'no' });
      const { env, reads } = countingEnv();
      const reconcile = createReconcile(env);

      const first = await invokeOnce(reconcile, schedule);
      const second = await invokeOnce(reconcile, schedule);

      for (const { error } of [first, second]) {
        expect(error).toMatchObject({
          name: 'ConfigError',
          variable: 'RECONCILE_TABLE_NAME',
          message: expect.stringMatching(/^RECONCILE_TABLE_NAME is not a DynamoDB table name/),
        });
      }
      expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(0);
      expect(reads('RECONCILE_TABLE_NAME')).toBe(2);
    });
  });
});
