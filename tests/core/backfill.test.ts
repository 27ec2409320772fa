import { describe, expect, it } from 'vitest';
import type { ListedUser, UserPage } from '../../src/clients/cognito-users.js';
import type { WriteResult } from '../../src/clients/user-service.js';
import { DEFAULT_STATUSES, runBackfill } from '../../src/core/backfill.js';
import { idempotencyKey } from '../../src/core/idempotency.js';

const user = (n: number, status: string): ListedUser => ({
  username: `user-${n}@example.com`,
  status,
  attributes: { sub: `sub-${n}`, email: `user-${n}@example.com` },
});

async function* pagesOf(pages: UserPage[], failAt?: number) {
  for (const [index, page] of pages.entries()) {
    if (index === failAt) throw Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' });
    yield page;
  }
}

const measured = { attempts: 1, attemptLatenciesMs: [1], durationMs: 1 };
const written = (outcome: 'created' | 'exists', httpStatus: number): WriteResult<'created' | 'exists'> => ({
  outcome,
  httpStatus,
  ...measured,
});
const refused = (httpStatus: number): WriteResult<'created' | 'exists'> => ({
  failure: 'rejected',
  reason: `http-${httpStatus}`,
  httpStatus,
  ...measured,
});

const base = {
  userPoolId: 'eu-west-1_Qx7Lm2Rt9',
  statuses: new Set<string>(DEFAULT_STATUSES),
  userDefaults: { status: 'ACTIVE', role: 'USER' },
  dryRun: false,
  concurrency: 4,
};

describe('runBackfill', () => {
  it('sends confirmed and federated users, skips the rest, counts each outcome', async () => {
    const sent: string[] = [];
    const outcome = await runBackfill({
      ...base,
      pages: pagesOf([
        {
          users: [user(1, 'CONFIRMED'), user(2, 'UNCONFIRMED'), user(3, 'EXTERNAL_PROVIDER')],
          nextToken: 't1',
        },
        {
          users: [user(4, 'CONFIRMED'), user(5, 'FORCE_CHANGE_PASSWORD'), user(6, 'CONFIRMED')],
          nextToken: undefined,
        },
      ]),
      send: async (body, key) => {
        sent.push(body.cognitoSub);
        expect(key).toBe(idempotencyKey(base.userPoolId, body.cognitoSub));
        return body.cognitoSub === 'sub-4'
          ? written('exists', 409)
          : body.cognitoSub === 'sub-6'
            ? refused(422)
            : written('created', 201);
      },
    });

    expect(sent.sort()).toEqual(['sub-1', 'sub-3', 'sub-4', 'sub-6']);
    expect(outcome).toEqual({
      counts: { seen: 6, created: 2, exists: 1, skipped: 2, failed: 1, wouldSend: 0 },
      failures: [{ cognitoSub: 'sub-6', reason: 'http-422', httpStatus: 422 }],
      pages: 2,
      resumeToken: undefined,
    });
  });

  it('sends nothing in a dry run', async () => {
    const outcome = await runBackfill({
      ...base,
      dryRun: true,
      pages: pagesOf([{ users: [user(1, 'CONFIRMED'), user(2, 'UNCONFIRMED')], nextToken: undefined }]),
      send: () => Promise.reject(new Error('must not send')),
    });

    expect(outcome.counts).toMatchObject({ wouldSend: 1, skipped: 1, created: 0 });
  });

  it('stops at a page that cannot be listed, keeping the token to resume from', async () => {
    const outcome = await runBackfill({
      ...base,
      pages: pagesOf(
        [
          { users: [user(1, 'CONFIRMED')], nextToken: 't1' },
          { users: [user(2, 'CONFIRMED')], nextToken: 't2' },
          { users: [user(3, 'CONFIRMED')], nextToken: undefined },
        ],
        2,
      ),
      send: async () => written('created', 201),
    });

    expect(outcome).toMatchObject({
      pages: 2,
      resumeToken: 't2',
      stoppedBy: 'page-failed: TooManyRequestsException',
      counts: { created: 2 },
    });
  });

  it('survives a next page failing while this page is still being sent', async () => {
    async function* slowThenFailing() {
      yield { users: [user(1, 'CONFIRMED')], nextToken: 't1' };
      throw Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' });
    }

    const outcome = await runBackfill({
      ...base,
      pages: slowThenFailing(),
      send: () => new Promise((resolve) => setTimeout(() => resolve(written('created', 201)), 50)),
    });

    expect(outcome).toMatchObject({
      pages: 1,
      resumeToken: 't1',
      stoppedBy: 'page-failed: TooManyRequestsException',
    });
  });

  it('counts a user whose send throws as failed, and goes on', async () => {
    const outcome = await runBackfill({
      ...base,
      pages: pagesOf([{ users: [user(1, 'CONFIRMED'), user(2, 'CONFIRMED')], nextToken: undefined }]),
      send: async (body) => {
        if (body.cognitoSub === 'sub-1') throw new TypeError('boom');
        return written('created', 201);
      },
    });

    expect(outcome.counts).toMatchObject({ created: 1, failed: 1 });
    expect(outcome.failures).toEqual([{ cognitoSub: 'sub-1', reason: 'error-TypeError' }]);
  });
});
