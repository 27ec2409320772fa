// With POWERTOOLS_LOG_LEVEL=DEBUG, the input/output logger writes the event and the response,
// the user's data masked.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { resetHandlerState } from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';

// The logger reads its level when the handler module loads; vi.hoisted runs before the imports.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

describe('post-confirmation handler at DEBUG', () => {
  let service: DevUserService;

  beforeEach(async () => {
    resetHandlerState();
    service = await startDevUserService();
    setEnv({ USER_SERVICE_URL: service.url });
  });
  afterEach(() => service.close());

  it('logs the event and the response with the user name, attributes and client metadata masked', async () => {
    const event = loadEvent('post-confirmation-given-family');

    const { output } = await invokeHandler(event);

    const masked = {
      ...event,
      userName: '*****',
      request: { userAttributes: '*****', clientMetadata: '*****' },
    };
    expect(output.logs().filter((line) => line.message === 'Lambda input/output')).toEqual([
      expect.objectContaining({ level: 'DEBUG', event: masked }),
      expect.objectContaining({ level: 'DEBUG', response: masked }),
    ]);
  });

  it.each([
    [
      'unknown top-level keys',
      { ...loadEvent('post-confirmation-forgot-password'), session: { token: 'tok-secret-1' } },
    ],
    [
      "another trigger's response with values",
      {
        ...loadEvent('post-confirmation-signup'),
        triggerSource: 'PreTokenGeneration_Authentication',
        response: { claimsOverrideDetails: { claimsToAddOrOverride: { email: 'tok-secret-1@example.com' } } },
      },
    ],
    ['an array', [{ email: 'tok-secret-1@example.com' }]],
    ['a string', 'tok-secret-1'],
  ])('masks whatever it does not know, whatever the shape: %s', async (_, event) => {
    const { output } = await invokeHandler(event);

    const lines = output.logs().filter((line) => line.message === 'Lambda input/output');
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain('tok-secret-1');
  });
});
