// No PII, no secrets: success and failure paths run with distinctive values in every place a
// user's data or a key can be, and nothing written to stdout or stderr contains any of them.

import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetHandlerState, secretsMock, sqsMock } from '../helpers/aws-mocks.js';
import { invokeHandler, loadEvent, setEnv } from '../helpers/handler.js';
import {
  type Responder,
  refusedUrl,
  reply,
  type ScriptedServer,
  startScriptedServer,
} from '../helpers/scripted-server.js';
import { sqsTexts } from '../helpers/sqs-text.js';

// Everything the function can write, the input/output lines included. The logger reads its level
// when the handler module loads; vi.hoisted runs before the imports above.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

const PII = {
  email: 'zq.pii.mailbox.7731@example.org',
  name: 'Zebulon Quixoticname',
  given_name: 'Zebulongiven',
  family_name: 'Quixoticfamily',
  phone_number: '+15550109931',
  'custom:national_id': 'PII-CUSTOM-4242-XYZ',
  preferred_username: 'zq_handle_9931',
  userName: 'zq-username-login-5512',
  clientMetadata: 'PII-METADATA-6631',
};
const API_KEY = 'sk-live-PII-SECRET-998877';
// Its base64 is what must not leak; the signatures made with it must not either.
const SIGNING_SECRET = 'whsec_UElJLXNpZ25pbmcta2V5LW5ldmVyLWluLWEtbG9nLTQy';

const piiEvent = () => {
  const event = loadEvent('post-confirmation-signup');
  const { userName, clientMetadata, ...attributes } = PII;
  return {
    ...event,
    userName,
    request: {
      userAttributes: {
        sub: '6d1f0c2e-5a4b-4c3d-9e8f-0a1b2c3d4e5f',
        'cognito:user_status': 'CONFIRMED',
        ...attributes,
      },
      clientMetadata: { referral: clientMetadata },
    },
  };
};

/** The answer body echoes the user's data back, as an error response might. */
const echo =
  (status: number): Responder =>
  (request, response, n) =>
    reply(status, { error: 'rejected', received: request.json, key: request.headers['x-api-key'] })(
      request,
      response,
      n,
    );

const paths: { name: string; script?: Responder[]; env?: Record<string, string>; setup?: () => void }[] = [
  { name: 'created (201)', script: [echo(201)] },
  { name: 'already exists (409)', script: [echo(409)] },
  { name: 'rejected (422, the body echoed back)', script: [echo(422)] },
  { name: 'transient (500 until queued)', script: [echo(500)] },
  { name: 'unauthorized (401, the key echoed back)', script: [echo(401)] },
  { name: 'connection refused' },
  { name: 'no queue configured: dropped', script: [echo(503)], env: { RETRY_QUEUE_URL: '' } },
  {
    name: 'the queue send fails: dropped',
    script: [echo(503)],
    setup: () => sqsMock.on(SendMessageCommand).rejects(new Error(`send failed for ${PII.email}`)),
  },
  {
    name: 'configuration error',
    script: [echo(201)],
    env: { USER_SERVICE_URL: 'http://users.example.com/api' },
  },
  {
    name: 'key from Secrets Manager (JSON), then 401 and a refetch',
    script: [echo(401)],
    env: { USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key', USER_SERVICE_API_KEY: '' },
    setup: () =>
      secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKey: API_KEY }) }),
  },
  {
    name: 'signed requests (201), the signing secret from Secrets Manager',
    script: [echo(201)],
    env: { USER_SERVICE_SIGNING_SECRET_ID: 'user-service/signing' },
    setup: () => secretsMock.on(GetSecretValueCommand).resolves({ SecretString: SIGNING_SECRET }),
  },
  {
    name: 'signed requests refused (401, signature echoed back)',
    script: [
      (request, response, n) =>
        reply(401, { error: 'unauthorized', signature: request.headers['webhook-signature'] })(
          request,
          response,
          n,
        ),
    ],
    env: { USER_SERVICE_SIGNING_SECRET: SIGNING_SECRET },
  },
  {
    name: 'Secrets Manager failing',
    script: [echo(201)],
    env: { USER_SERVICE_API_KEY_SECRET_ID: 'user-service/api-key' },
    setup: () => secretsMock.on(GetSecretValueCommand).rejects(new Error(`denied ${API_KEY}`)),
  },
];

describe('post-confirmation handler output', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => {
    resetHandlerState();
    setEnv({ SYNC_DEADLINE_MS: '800', USER_SERVICE_API_KEY: API_KEY });
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each(paths)('$name: writes no PII and no secret', async ({ script, env, setup }) => {
    if (script) {
      server = await startScriptedServer(script);
      setEnv({ USER_SERVICE_URL: server.url });
    } else {
      setEnv({ USER_SERVICE_URL: await refusedUrl() });
    }
    setEnv(env ?? {});
    setup?.();

    const { output } = await invokeHandler(piiEvent());

    const written = output.text();
    expect(output.logs().filter((line) => line.message === 'Lambda input/output')).toHaveLength(2);
    const signatures = (server?.requests ?? []).flatMap((request) =>
      String(request.headers['webhook-signature'] ?? '')
        .split(' ')
        .filter(Boolean)
        .map((signature) => signature.slice('v1,'.length)),
    );
    // The test is only worth something if the handler did write its logs.
    expect(written).toContain('6d1f0c2e-5a4b-4c3d-9e8f-0a1b2c3d4e5f');
    expect(output.emf().length).toBeGreaterThan(0);
    for (const value of [
      ...Object.values(PII),
      API_KEY,
      SIGNING_SECRET.slice('whsec_'.length),
      ...signatures,
    ]) {
      expect(written).not.toContain(value);
    }
    // The queues may hold the user's data (they are encrypted), never a credential.
    const queued = sqsMock.commandCalls(SendMessageCommand).flatMap((call) => sqsTexts(call.args[0].input));
    for (const value of [API_KEY, SIGNING_SECRET.slice('whsec_'.length), ...signatures]) {
      expect(queued.join('\n')).not.toContain(value);
    }
  });
});
