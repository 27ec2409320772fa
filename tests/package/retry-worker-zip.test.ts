// dist/retry-worker.zip, as built by `npm run package`, on the runtime we ship on.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../src/core/idempotency.js';
import { toUserRecord } from '../../src/core/user-record.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { runZipUnderNode22, type ZipRun } from './lambda-runtime.js';

const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SUB = '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

describe('dist/retry-worker.zip', () => {
  let service: DevUserService;
  let run: ZipRun;

  beforeAll(async () => {
    service = await startDevUserService({ signingSecrets: [SIGNING_SECRET] });
    const message = {
      version: 1,
      idempotencyKey: idempotencyKey('eu-west-1_Qx7Lm2Rt9', SUB),
      userPoolId: 'eu-west-1_Qx7Lm2Rt9',
      triggerSource: 'PostConfirmation_ConfirmSignUp',
      body: toUserRecord(
        SUB,
        { email: 'queued@example.com', name: 'Queued' },
        { status: 'ACTIVE', role: 'USER' },
      ),
      reason: 'http-503',
      attempts: 2,
      firstFailedAt: '2026-11-26T10:00:00.000Z',
    };
    const event = {
      Records: [
        {
          messageId: 'm-1',
          receiptHandle: 'r-1',
          body: JSON.stringify(message),
          attributes: { ApproximateReceiveCount: '1' },
          messageAttributes: {},
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:retry',
          awsRegion: 'eu-west-1',
        },
      ],
    };
    run = await runZipUnderNode22('dist/retry-worker.zip', [event], {
      USER_SERVICE_URL: service.url,
      USER_SERVICE_SIGNING_SECRET: SIGNING_SECRET,
      RETRY_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/retry',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
    });
  });
  afterAll(() => service.close());

  it('runs under Node 22 and delivers a queued user, signed', () => {
    expect(run.node).toMatch(/^v22\./);
    expect(run.results[0]?.result).toEqual({ batchItemFailures: [] });
    expect(service.users.get(SUB)).toMatchObject({ email: 'queued@example.com' });
    expect(run.stdout).toContain('"RetrySucceeded":1');
    expect(run.stderr).toBe('');
  });
});
