// dist/post-confirmation.zip, as built by `npm run package`, on the runtime we ship on, with its
// AWS calls (the secret, the retry queue) made by the client it bundles, against moto.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { runZipUnderNode22, TRACE_ROOT, type ZipRun } from './lambda-runtime.js';
import { startZipMoto, type ZipMoto } from './moto-fixtures.js';

const ZIP = 'dist/post-confirmation.zip';
const eventPath = (name: string) => fileURLToPath(new URL(`../../events/${name}.json`, import.meta.url));
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';

/** The log lines a run wrote (the logger writes WARN and ERROR to stderr), parsed; EMF lines included. */
const logLines = (run: ZipRun) =>
  `${run.stdout}\n${run.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
/** What a run wrote to stderr that is not a log line of ours at WARN: nothing, when all is well. */
const unexpectedOutput = (run: ZipRun) =>
  run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{"level":"WARN"'));

describe('dist/post-confirmation.zip', () => {
  let aws: ZipMoto;
  let service: DevUserService;
  let failing: ScriptedServer;
  let secretArn: string;
  let queues: { RETRY_QUEUE_URL: string; DEAD_LETTER_QUEUE_URL: string };
  let run: ZipRun;

  beforeAll(async () => {
    aws = await startZipMoto();
    service = await startDevUserService({ apiKeys: ['zip-key'] });
    failing = await startScriptedServer([
      (_request, response) => {
        response.writeHead(503);
        response.end();
      },
    ]);
    secretArn = await aws.createSecret(JSON.stringify({ apiKey: 'zip-key' }));
    queues = {
      RETRY_QUEUE_URL: await aws.createQueue('retry'),
      DEAD_LETTER_QUEUE_URL: await aws.createQueue('dlq'),
    };
    run = await runZipUnderNode22(
      ZIP,
      [eventPath('post-confirmation-signup'), eventPath('post-confirmation-forgot-password')],
      {
        ...aws.env,
        ...queues,
        USER_SERVICE_URL: service.url,
        USER_SERVICE_API_KEY_SECRET_ID: secretArn,
      },
    );
  });
  afterAll(async () => {
    await service.close();
    await failing.close();
    await aws.stop();
  });

  it('holds index.mjs and its source map, nothing else', () => {
    expect(Object.keys(unzipSync(new Uint8Array(readFileSync(ZIP)))).sort()).toEqual([
      'index.mjs',
      'index.mjs.map',
    ]);
  });

  it('runs under Node 22 with tracing on', () => {
    expect(run.node).toMatch(/^v22\./);
  });

  it('syncs a sign-up with the API key from Secrets Manager and returns the event unchanged', () => {
    const [signUp] = run.results;
    expect(signUp?.result).toEqual(signUp?.event);
    expect(service.users.get(SUB)).toMatchObject({
      email: 'ada.lovelace@example.com',
      fullName: 'Ada Lovelace',
    });
    expect(service.requests.find((request) => request.method === 'POST')?.headers['x-api-key']).toBe(
      'zip-key',
    );
    expect(run.stdout).toContain('"UserSynced":1');
  });

  it('skips a password reset without a request', () => {
    const [, reset] = run.results;
    expect(reset?.result).toEqual(reset?.event);
    expect(service.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('traces the handler, the Secrets Manager call and the User Service call to X-Ray, with no PII', () => {
    const handler = run.segments.find((segment) => segment.name === '## index.handler');
    expect(handler).toMatchObject({
      trace_id: TRACE_ROOT,
      annotations: { outcome: 'created', triggerSource: 'PostConfirmation_ConfirmSignUp', ColdStart: true },
    });
    // The AWS call, as captureAWSv3Client records it: a subsegment of the handler's.
    expect(run.segments).toContainEqual(
      expect.objectContaining({
        name: 'SecretsManager',
        parent_id: handler?.id,
        trace_id: TRACE_ROOT,
        namespace: 'aws',
        aws: expect.objectContaining({ operation: 'GetSecretValue', region: 'eu-west-1' }),
        http: { response: expect.objectContaining({ status: 200 }) },
      }),
    );
    // The fetch to the User Service, streamed as its own subsegment of the handler's.
    expect(run.segments).toContainEqual(
      expect.objectContaining({
        parent_id: handler?.id,
        trace_id: TRACE_ROOT,
        namespace: 'remote',
        http: expect.objectContaining({
          request: { method: 'POST', url: `http://127.0.0.1${new URL(service.url).pathname}` },
          response: expect.objectContaining({ status: 201 }),
        }),
      }),
    );
    expect(JSON.stringify(run.segments)).not.toContain('ada.lovelace@example.com');
    expect(JSON.stringify(run.segments)).not.toContain('zip-key');
  });

  it('writes no error and no warning', () => {
    expect(run.stderr).toBe('');
  });

  it('queues a user the User Service refuses on the SQS retry queue, traced', async () => {
    const refused = await runZipUnderNode22(ZIP, [eventPath('post-confirmation-signup')], {
      ...aws.env,
      ...queues,
      USER_SERVICE_URL: failing.url,
      USER_SERVICE_API_KEY_SECRET_ID: secretArn,
      SYNC_DEADLINE_MS: '1000',
    });

    const [message] = await aws.receiveAll(queues.RETRY_QUEUE_URL);
    expect(refused.results[0]?.result).toEqual(refused.results[0]?.event);
    expect(JSON.parse(message?.Body ?? '{}')).toMatchObject({
      userPoolId: 'eu-west-1_Qx7Lm2Rt9',
      reason: 'http-503',
      body: { cognitoSub: SUB },
    });
    expect(message?.MessageAttributes?.reason).toMatchObject({ StringValue: 'http-503' });
    expect(refused.stdout).toContain('"UserSyncQueued":1');
    expect(refused.segments).toContainEqual(
      expect.objectContaining({
        name: 'SQS',
        namespace: 'aws',
        aws: expect.objectContaining({ operation: 'SendMessage', queue_url: queues.RETRY_QUEUE_URL }),
      }),
    );
    expect(unexpectedOutput(refused)).toEqual([]);
  });

  it('logs a failure with its stack mapped to our sources, without --enable-source-maps', async () => {
    const misconfigured = await runZipUnderNode22(ZIP, [eventPath('post-confirmation-signup')], {
      ...aws.env,
      ...queues,
      USER_SERVICE_URL: 'not-a-url',
      USER_SERVICE_API_KEY_SECRET_ID: secretArn,
    });

    const failure = logLines(misconfigured).find((line) => line.level === 'ERROR');
    expect(failure).toMatchObject({
      reason: 'config-USER_SERVICE_URL',
      errorName: 'ConfigError',
      stack: expect.arrayContaining([expect.stringMatching(/^at src\/config\.ts:\d+:\d+$/)]),
    });
    const [first] = (failure?.stack ?? []) as string[];
    const [, line] = /:(\d+):\d+$/.exec(first ?? '') ?? [];
    const source = readFileSync('src/config.ts', 'utf8').split('\n')[Number(line) - 1];
    expect(source).toContain('throw new ConfigError');
    expect(misconfigured.results[0]?.result).toEqual(misconfigured.results[0]?.event);
  });
});
