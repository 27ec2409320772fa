// Defects an adversarial review found in the post-confirmation path, each pinned by a test that
// failed before its fix: what is written to SQS, answers judged by more than their status, waits
// that do not fit the budget, a key fetch cannot send, and a slow but healthy User Service.

import { GetSecretValueCommand as GetSecret } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricName } from '../../src/metric-names.js';
import {
  DEAD_LETTER_QUEUE_URL,
  resetHandlerState,
  secretsMock,
  sentMessages,
  sqsMock,
} from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';
import { after, reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { isSqsText, sqsTexts } from '../helpers/sqs-text.js';

const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const API_KEY = 'sk-live-never-in-a-queue-5521';

const sends = () => sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input);

describe('post-confirmation hardening', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    resetHandlerState();
    setEnv({ SYNC_DEADLINE_MS: '1200', USER_SERVICE_API_KEY: API_KEY });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const serve = async (...script: Parameters<typeof startScriptedServer>[0]) => {
    server = await startScriptedServer(script);
    setEnv({ USER_SERVICE_URL: server.url });
    return server;
  };

  it('queues a user whose attributes hold characters SQS refuses, as valid SQS text, instead of dropping it', async () => {
    await serve(reply(503));
    const event = loadEvent('post-confirmation-signup');
    const attributes = (event.request as { userAttributes: Record<string, string> }).userAttributes;
    attributes.name = 'Ada\uFFFF Love\uFFFElace\u0007';

    const { output } = await invokeHandler(event);

    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
    expect(output.metric(MetricName.UserSyncDropped)).toEqual([]);
    const [input] = sends();
    expect(input && sqsTexts(input).every(isSqsText)).toBe(true);
    // The body is exactly the one that was sent: JSON escapes keep every character.
    expect(sentMessages()[0]?.message.body.fullName).toBe('Ada\uFFFF Love\uFFFElace\u0007');
  });

  it('stores what the User Service answered as valid SQS text, whatever bytes it sent', async () => {
    setEnv({ DEAD_LETTER_QUEUE_URL });
    await serve(reply(422, `bad\u0000 request\u001b[31m \uFFFF end`));

    await invokeHandler(loadEvent('post-confirmation-signup'));

    const [input] = sends();
    expect(input?.QueueUrl).toBe(DEAD_LETTER_QUEUE_URL);
    expect(input && sqsTexts(input).every(isSqsText)).toBe(true);
    expect(sentMessages()[0]?.message.detail).toContain('request');
  });

  it.each([
    ['a 422 that echoes the request headers', 422],
    ['a 503 that echoes the request headers', 503],
    ['a 401 that echoes the request headers', 401],
  ])('never stores a credential in SQS: %s', async (_, status) => {
    setEnv({ USER_SERVICE_SIGNING_SECRET: 'whsec_UElJLXNpZ25pbmcta2V5LW5ldmVyLWluLWEtbG9nLTQy' });
    const service = await serve((request, response, n) =>
      reply(status, { error: 'refused', headers: request.headers })(request, response, n),
    );

    await invokeHandler(loadEvent('post-confirmation-signup'));

    const signatures = service.requests.flatMap((request) =>
      String(request.headers['webhook-signature'])
        .split(' ')
        .map((entry) => entry.slice('v1,'.length)),
    );
    const stored = sends().flatMap(sqsTexts).join('\n');
    expect(stored).toContain('refused'); // the answer was kept, less the credentials
    for (const secret of [API_KEY, ...signatures]) expect(stored).not.toContain(secret);
  });

  it("does not count a proxy's HTML 200 as a created user", async () => {
    await serve(
      reply(200, '<html><body>Welcome to the proxy</body></html>', { 'content-type': 'text/html' }),
    );

    const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(output.metric(MetricName.UserSynced)).toEqual([]);
    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
  });

  it('does not count a 2xx naming another cognitoSub as a created user', async () => {
    await serve(reply(201, { cognitoSub: 'someone-else' }));

    const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(output.metric(MetricName.UserSynced)).toEqual([]);
    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
  });

  it('counts a 409 as "already exists" only when it names this cognitoSub; a clash on another field goes to the dead-letter queue', async () => {
    setEnv({ DEAD_LETTER_QUEUE_URL });
    await serve(
      reply(409, { error: 'already_exists', cognitoSub: SUB }),
      reply(409, { error: 'conflict', field: 'email', reason: 'email belongs to another user' }),
    );

    const exists = await invokeHandler(loadEvent('post-confirmation-signup'));
    const clash = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(exists.output.metric(MetricName.UserAlreadyExists)).toEqual([1]);
    expect(clash.output.metric(MetricName.UserAlreadyExists)).toEqual([]);
    expect(sentMessages()).toEqual([
      expect.objectContaining({
        queueUrl: DEAD_LETTER_QUEUE_URL,
        message: expect.objectContaining({ reason: 'http-409' }),
      }),
    ]);
  });

  it('queues at once on Retry-After: Infinity instead of waiting out the budget', async () => {
    const service = await serve(reply(503, {}, { 'retry-after': 'Infinity' }));

    const { elapsedMs, output } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(service.requests).toHaveLength(1);
    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
    expect(elapsedMs).toBeLessThan(600);
  });

  it('syncs a slow but healthy User Service on the first attempt, within the budget', async () => {
    setEnv({ SYNC_DEADLINE_MS: '3500' });
    const service = await serve(after(2000, reply(201, { cognitoSub: SUB })));

    const { output, elapsedMs } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(output.metric(MetricName.UserSynced)).toEqual([1]);
    expect(service.requests).toHaveLength(1);
    expect(elapsedMs).toBeLessThan(3500);
  });

  it.each([
    [
      'a secret',
      { USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key', USER_SERVICE_API_KEY: '' },
      'USER_SERVICE_API_KEY_SECRET_ID',
    ],
    ['a local value', { USER_SERVICE_API_KEY: 'key-with-\u0100-beyond-latin-1' }, 'USER_SERVICE_API_KEY'],
  ])(
    'reports an API key no HTTP header can carry, from %s, as a secret error naming the variable',
    async (_, env, variable) => {
      const service = await serve(reply(201));
      setEnv(env);
      secretsMock.on(GetSecret).resolves({ SecretString: 'key-with-a\nnewline' });

      const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

      expect(service.requests).toEqual([]);
      expect(sentMessages().map(({ message }) => message.reason)).toEqual(['secret-unavailable']);
      expect(output.logs()).toContainEqual(expect.objectContaining({ level: 'ERROR', variable }));
    },
  );
});
