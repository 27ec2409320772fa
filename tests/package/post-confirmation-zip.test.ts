// dist/post-confirmation.zip, as built by `npm run package`, on the runtime we ship on.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { runZipUnderNode22, TRACE_ROOT, type ZipRun } from './lambda-runtime.js';

const ZIP = 'dist/post-confirmation.zip';
const eventPath = (name: string) => fileURLToPath(new URL(`../../events/${name}.json`, import.meta.url));

describe('dist/post-confirmation.zip', () => {
  let service: DevUserService;
  let run: ZipRun;

  beforeAll(async () => {
    service = await startDevUserService({ apiKeys: ['zip-key'] });
    run = await runZipUnderNode22(
      ZIP,
      [eventPath('post-confirmation-signup'), eventPath('post-confirmation-forgot-password')],
      { USER_SERVICE_URL: service.url, USER_SERVICE_API_KEY: 'zip-key' },
    );
  });
  afterAll(() => service.close());

  it('holds index.mjs and its source map, nothing else', () => {
    expect(Object.keys(unzipSync(new Uint8Array(readFileSync(ZIP)))).sort()).toEqual([
      'index.mjs',
      'index.mjs.map',
    ]);
  });

  it('runs under Node 22 with tracing on', () => {
    expect(run.node).toMatch(/^v22\./);
  });

  it('syncs a sign-up and returns the event unchanged', () => {
    const [signUp] = run.results;
    expect(signUp?.result).toEqual(signUp?.event);
    expect(service.users.get('3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13')).toMatchObject({
      email: 'ada.lovelace@example.com',
      fullName: 'Ada Lovelace',
    });
    expect(run.stdout).toContain('"UserSynced":1');
  });

  it('skips a password reset without a request', () => {
    const [, reset] = run.results;
    expect(reset?.result).toEqual(reset?.event);
    expect(service.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('traces the handler and the User Service call to X-Ray, with its annotations and no PII', () => {
    const handler = run.segments.find((segment) => segment.name === '## index.handler');
    expect(handler).toMatchObject({
      trace_id: TRACE_ROOT,
      annotations: { outcome: 'created', triggerSource: 'PostConfirmation_ConfirmSignUp', ColdStart: true },
    });
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
});
