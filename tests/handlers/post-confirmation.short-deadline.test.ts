// SYNC_DEADLINE_MS at its lowest (200 ms) is a setting the configuration accepts: with a User
// Service nearby that answers in a few milliseconds, the sign-up is synced at once, not queued for
// want of time. (The queue keeps its reserve: 100 ms of the 200, src/core/deadline.ts.)

import { beforeEach, describe, expect, it } from 'vitest';
import { MetricName } from '../../src/metric-names.js';
import { resetHandlerState, sentMessages } from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';
import { after, reply, startScriptedServer } from '../helpers/scripted-server.js';

describe('post-confirmation, SYNC_DEADLINE_MS at its lowest', () => {
  beforeEach(() => resetHandlerState());

  it('syncs a sign-up against a service that answers in 5 ms, without queueing it', async () => {
    const server = await startScriptedServer([after(5, reply(201, { id: 'u-1' }))]);
    try {
      setEnv({ SYNC_DEADLINE_MS: '200', USER_SERVICE_URL: server.url });
      // A warm container: the first invocation read the configuration and the secrets.
      await invokeHandler(loadEvent('post-confirmation-signup'));

      const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

      expect(output.metric(MetricName.UserSynced)).toEqual([1]);
      expect(server.requests).toHaveLength(2);
      expect(sentMessages()).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
