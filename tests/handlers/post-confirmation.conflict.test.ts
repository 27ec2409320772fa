// The post-confirmation chain and a 409 that is no "already exists": an email clash whose body
// echoes the sub sent must not be recorded as UserAlreadyExists (the user would never be created);
// it is a refusal, kept on the dead-letter queue for an operator.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricName } from '../../src/metric-names.js';
import { DEAD_LETTER_QUEUE_URL, resetHandlerState, sentMessages } from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';

describe('post-confirmation and a 409 conflict', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    resetHandlerState();
    setEnv({ SYNC_DEADLINE_MS: '1200', USER_SERVICE_API_KEY: 'k-1', DEAD_LETTER_QUEUE_URL });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('dead-letters a 409 conflict that echoes the sub sent, rather than count the user as existing', async () => {
    server = await startScriptedServer([
      (request, response, n) =>
        reply(409, {
          error: 'conflict',
          field: 'email',
          reason: 'email belongs to another user',
          cognitoSub: (request.json as { cognitoSub: string }).cognitoSub,
        })(request, response, n),
    ]);
    setEnv({ USER_SERVICE_URL: server.url });

    const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(output.metric(MetricName.UserAlreadyExists)).toEqual([]);
    expect(sentMessages()).toEqual([
      expect.objectContaining({
        queueUrl: DEAD_LETTER_QUEUE_URL,
        message: expect.objectContaining({ reason: 'http-409' }),
      }),
    ]);
  });
});
