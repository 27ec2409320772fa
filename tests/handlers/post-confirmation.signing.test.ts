// Signed requests end to end: the function signs with the secret from Secrets Manager, the dev
// User Service verifies with verifyUserSyncRequest; a wrong secret is a 401, and the user is
// queued while Cognito still gets its event in time.

import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { MetricName } from '../../src/metric-names.js';
import { verifyUserSyncRequest } from '../../src/verify.js';
import { webhookIdFor } from '../../src/webhooks/signature.js';
import { resetHandlerState, secretsMock, sentMessages } from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';

const CURRENT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PREVIOUS = 'whsec_cHJldmlvdXMta2V5LW9mLWEtcm90YXRpb24tMjAyNg==';
const OTHER = 'whsec_c29tZWJvZHktZWxzZXMta2V5LW5vdC1vdXJzLTk5OQ==';
const DEADLINE_MS = 1000;
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';

describe('post-confirmation handler with signing on', () => {
  let service: DevUserService | undefined;

  beforeEach(() => {
    resetHandlerState();
    setEnv({ USER_SERVICE_SIGNING_SECRET_ID: 'user-service/signing', SYNC_DEADLINE_MS: String(DEADLINE_MS) });
  });
  afterEach(() => service?.close());

  const serve = async (signingSecrets: string[]) => {
    service = await startDevUserService({ signingSecrets });
    setEnv({ USER_SERVICE_URL: service.url });
    return service;
  };
  const holdSecret = (SecretString: string) =>
    secretsMock.on(GetSecretValueCommand, { SecretId: 'user-service/signing' }).resolves({ SecretString });

  it('signs each request so that the User Service verifies it: 201', async () => {
    const received = await serve([CURRENT]);
    holdSecret(CURRENT);

    const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(output.metric(MetricName.UserSynced)).toEqual([1]);
    const [request] = received.requests;
    expect(request?.headers['webhook-id']).toBe(webhookIdFor(idempotencyKey('eu-west-1_Qx7Lm2Rt9', SUB)));
    expect(
      verifyUserSyncRequest({ headers: request?.headers ?? {}, body: request?.body ?? '', secrets: CURRENT }),
    ).toMatchObject({ ok: true });
  });

  it('during a rotation signs with both keys, so a service still on the previous key accepts it', async () => {
    await serve([PREVIOUS]);
    holdSecret(JSON.stringify({ current: CURRENT, previous: PREVIOUS }));

    const { output } = await invokeHandler(loadEvent('post-confirmation-signup'));

    expect(output.metric(MetricName.UserSynced)).toEqual([1]);
    expect(service?.requests[0]?.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
  });

  it('with the wrong secret: 401, the user queued, the event returned in time', async () => {
    const received = await serve([OTHER]);
    holdSecret(CURRENT);
    const event = loadEvent('post-confirmation-signup');

    const { result, elapsedMs, output } = await invokeHandler(event);

    expect(result).toBe(event);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + 200);
    // Refused, then once more after refetching the secret (it may have been rotated), refused again.
    expect(received.requests.map((request) => request.status)).toEqual([401, 401]);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(sentMessages().map(({ message }) => message.reason)).toEqual(['http-401']);
    expect(output.metric(MetricName.UserSyncQueued)).toEqual([1]);
  });
});
