import { describe, expect, it } from 'vitest';
import type { UserPage } from '../../src/clients/cognito-users.js';
import type { WriteResult } from '../../src/clients/user-service.js';
import { readUserPolicy } from '../../src/config.js';
import { runBackfill } from '../../src/core/backfill.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import type { PoolUser } from '../../src/domain/pool-user.js';
import { DEFAULT_SYNCED_STATUSES } from '../../src/domain/user-policy.js';

const user = (n: number, status: string, enabled = true): PoolUser => ({
  username: `user-${n}@example.com`,
  sub: `sub-${n}`,
  status,
  enabled,
  attributes: { sub: `sub-${n}`, email: `user-${n}@example.com` },
  lastModified: '2026-11-20T09:00:00.000Z',
});

async function* pagesOf(pages: Omit<UserPage, 'withoutSub'>[], failAt?: number) {
  for (const [index, page] of pages.entries()) {
    if (index === failAt) throw Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' });
    yield { withoutSub: 0, ...page };
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

const policy = readUserPolicy({});
const base = {
  userPoolId: 'eu-west-1_Qx7Lm2Rt9',
  policy,
  statuses: new Set<string>(DEFAULT_SYNCED_STATUSES),
  dryRun: false,
  concurrency: 4,
};

describe('runBackfill', () => {
  it('sends the users the policy syncs (confirmed, federated, invited), skips the rest, counts each outcome', async () => {
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

    expect(sent.sort()).toEqual(['sub-1', 'sub-3', 'sub-4', 'sub-5', 'sub-6']);
    expect(outcome).toEqual({
      counts: { seen: 6, created: 3, exists: 1, skipped: 1, failed: 1, wouldSend: 0 },
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
      yield { users: [user(1, 'CONFIRMED')], withoutSub: 0, nextToken: 't1' };
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

  it('creates a disabled user with the disabled status, and carries when Cognito last changed it', async () => {
    const bodies: unknown[] = [];

    await runBackfill({
      ...base,
      pages: pagesOf([{ users: [user(1, 'CONFIRMED', false)], nextToken: undefined }]),
      send: async (body) => {
        bodies.push(body);
        return written('created', 201);
      },
    });

    expect(bodies).toEqual([
      expect.objectContaining({ status: 'DISABLED', cognitoLastModified: '2026-11-20T09:00:00.000Z' }),
    ]);
  });

  it('counts users listed without a sub as failed, and users gone from the pool as gone, not created', async () => {
    const outcome = await runBackfill({
      ...base,
      pages: (async function* () {
        yield { users: [user(1, 'CONFIRMED')], withoutSub: 1, gone: 2, nextToken: undefined };
      })(),
      send: async () => written('created', 201),
    });

    expect(outcome.counts).toMatchObject({ seen: 4, created: 1, failed: 1, skipped: 0, gone: 2 });
    expect(outcome.failures).toEqual([{ cognitoSub: null, reason: 'no-sub-attribute' }]);
  });

  it('stops, resumable, once --max-failures users failed', async () => {
    const outcome = await runBackfill({
      ...base,
      maxFailures: 2,
      pages: pagesOf([
        { users: [user(1, 'CONFIRMED'), user(2, 'CONFIRMED')], nextToken: 't1' },
        { users: [user(3, 'CONFIRMED')], nextToken: undefined },
      ]),
      send: async () => refused(422),
    });

    expect(outcome).toMatchObject({ pages: 1, resumeToken: 't1', stoppedBy: 'too-many-failures' });
    expect(outcome.counts.failed).toBe(2);
  });

  it('adds to the counts of the run it resumes', async () => {
    const outcome = await runBackfill({
      ...base,
      counts: { seen: 60, created: 50, exists: 5, skipped: 5, failed: 0, wouldSend: 0 },
      pages: pagesOf([{ users: [user(61, 'CONFIRMED')], nextToken: undefined }]),
      send: async () => written('created', 201),
    });

    expect(outcome.counts).toMatchObject({ seen: 61, created: 51 });
  });
});
