// The user-changes function on a launch day, through its real chain: one container against a
// loopback User Service that cannot take its writes. It writes to the same service as the
// trigger and the retry worker, so it keeps the same overload guard: its retries are paid from a
// container's budget, and once the breaker opens (failures, or the service's Retry-After) the rest
// of the batch is deferred without a request (§15). Nothing is dropped or dead-lettered for it.

import { readFileSync } from 'node:fs';
import {
  AdminGetUserCommand,
  type AdminGetUserCommandInput,
  CognitoIdentityProviderClient,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CIRCUIT_BREAKER, RETRY_BUDGET } from '../../src/clients/user-service.js';
import { RETRY_SCHEDULE_SECONDS } from '../../src/core/backoff.js';
import { createHandler, USER_CHANGES_CONCURRENCY } from '../../src/handlers/user-changes.js';
import { MetricName } from '../../src/metric-names.js';
import { invokeConsumer } from '../helpers/handler.js';
import {
  type Responder,
  reply,
  type ScriptedServer,
  startScriptedServer,
} from '../helpers/scripted-server.js';
import { sqsRecord } from '../helpers/sqs-record.js';
import { stubUserChangesEnv } from '../helpers/user-changes-env.js';

const sqs = mockClient(SQSClient);
const cognito = mockClient(CognitoIdentityProviderClient);
mockClient(SecretsManagerClient).on(GetSecretValueCommand).rejects(new Error('no secret expected'));

const sample = readFileSync(
  new URL('../../events/cloudtrail-admin-update-user-attributes.json', import.meta.url),
  'utf8',
);
const subOf = (n: number) => `0000000${n}-7b2d-4e8a-9f61-2d4b8c0e7a13`.slice(-36);

/** An attribute update of a user of its own for each record: no two coalesce. */
const changes = (count: number): SQSRecord[] =>
  Array.from({ length: count }, (_, n) => {
    const event = JSON.parse(sample) as { detail: { additionalEventData: { sub: string } } };
    event.detail.additionalEventData.sub = subOf(n);
    return sqsRecord(JSON.stringify(event), { messageId: `m-${n}`, queue: 'cognito-user-sync-changes' });
  });

/** The user a request was about: the PATCH's path, or the POST's body. */
const userOf = (request: ScriptedServer['requests'][number]) =>
  request.method === 'POST'
    ? String((request.json as { cognitoSub?: unknown }).cognitoSub)
    : decodeURIComponent(request.path.split('/').at(-1) ?? '');

const deferrals = () => sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);
const deadLetters = () => sqs.commandCalls(SendMessageCommand);

describe('user-changes function, a User Service that cannot take the writes', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    clearCache();
    sqs.reset();
    cognito.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    cognito.on(AdminGetUserCommand).callsFake(async ({ Username }: AdminGetUserCommandInput) => ({
      Username,
      UserStatus: 'CONFIRMED',
      Enabled: true,
      UserLastModifiedDate: new Date('2026-11-26T10:00:00.000Z'),
      UserAttributes: [
        { Name: 'sub', Value: Username },
        { Name: 'email', Value: `${Username}@example.com` },
      ],
    }));
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    stubUserChangesEnv();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server?.close();
    server = undefined;
  });

  const serve = async (...script: Responder[]) => {
    server = await startScriptedServer(script);
    vi.stubEnv('USER_SERVICE_URL', server.url);
    return server;
  };

  it('retries only what its budget pays, then defers the rest of the batch without a request once its breaker opens', async () => {
    const service = await serve(reply(503, { error: 'unavailable' }));
    const records = changes(20);

    const { result, output } = await invokeConsumer(createHandler, records);

    // The breaker opens at its 5th failure in a row, with at most one write in flight in each other
    // lane; no retry goes once it has opened, and the budget pays two in all.
    const paidRetries = RETRY_BUDGET.capacity / RETRY_BUDGET.retryCost;
    expect(service.requests.length).toBeLessThanOrEqual(
      CIRCUIT_BREAKER.failureThreshold + USER_CHANGES_CONCURRENCY - 1,
    );
    const perUser = new Map<string, number>();
    for (const request of service.requests)
      perUser.set(userOf(request), (perUser.get(userOf(request)) ?? 0) + 1);
    expect(Math.max(...perUser.values())).toBeLessThanOrEqual(1 + paidRetries);
    // Nothing lost: every record stays on the queue, on its backoff step.
    expect(result.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier).sort()).toEqual(
      records.map(({ messageId }) => messageId).sort(),
    );
    expect(
      deferrals()
        .map(({ ReceiptHandle }) => ReceiptHandle)
        .sort(),
    ).toEqual(records.map(({ receiptHandle }) => receiptHandle).sort());
    expect(
      deferrals().every(({ VisibilityTimeout = 0 }) => VisibilityTimeout >= RETRY_SCHEDULE_SECONDS[0]),
    ).toBe(true);
    expect(deadLetters()).toEqual([]);
    expect(output.metric(MetricName.UserChangeDeferred)).toHaveLength(records.length);
    expect(output.logs()).toContainEqual(
      expect.objectContaining({ outcome: 'deferred', reason: 'circuit-open' }),
    );
  });

  it("takes the service's Retry-After for the whole container: the rest waits that long, Cognito unasked", async () => {
    const service = await serve(reply(429, { error: 'slow down' }, { 'retry-after': '120' }));
    const records = changes(12);
    const handler = createHandler();

    const { result } = await invokeConsumer(() => handler, records);
    const next = await invokeConsumer(() => handler, changes(3));

    // Only the writes already under way when the service answered were sent, each once.
    expect(service.requests.length).toBeLessThanOrEqual(USER_CHANGES_CONCURRENCY);
    expect(new Set(service.requests.map(userOf)).size).toBe(service.requests.length);
    expect(cognito.commandCalls(AdminGetUserCommand).length).toBeLessThanOrEqual(USER_CHANGES_CONCURRENCY);
    expect(result.batchItemFailures).toHaveLength(records.length);
    expect(next.result.batchItemFailures).toHaveLength(3);
    const waits = deferrals().map(({ VisibilityTimeout = 0 }) => VisibilityTimeout);
    expect(waits).toHaveLength(records.length + 3);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(120);
    expect(deadLetters()).toEqual([]);
  });
});
