// A stale write never wins: two changes of one user processed concurrently by two workers, the
// one that read the older state writing last, against the dev User Service (which keeps the
// contract's rule: a PATCH older than the state it holds is refused with 412).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUserServiceClient } from '../../src/clients/user-service.js';
import { readUserPolicy } from '../../src/config.js';
import { startDeadline } from '../../src/core/deadline.js';
import { applyUserChange, type UserChangeDeps } from '../../src/core/user-change.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import type { PoolUser } from '../../src/domain/pool-user.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';

const state = (name: string, lastModified: string): PoolUser => ({
  username: SUB,
  sub: SUB,
  status: 'CONFIRMED',
  enabled: true,
  attributes: { sub: SUB, email: 'ada@example.com', name },
  lastModified,
});

/** A promise and the function that resolves it: the test decides when each worker's read returns. */
const gate = () => {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
};

describe('a stale write never wins', () => {
  let service: DevUserService;

  beforeEach(async () => {
    service = await startDevUserService();
  });
  afterEach(() => service.close());

  const worker = (read: () => Promise<PoolUser>): UserChangeDeps => {
    const client = createUserServiceClient({ url: new URL(service.url) });
    const write = { credentials: { apiKey: undefined }, deadline: startDeadline(5000) };
    return {
      userPoolId: POOL,
      policy: readUserPolicy({}),
      findUser: read,
      userService: {
        createUser: (body, idempotencyKey) => client.createUser(body, { ...write, idempotencyKey }),
        patchUser: (sub, patch, idempotencyKey) => client.patchUser(sub, patch, { ...write, idempotencyKey }),
        deleteUser: (sub, idempotencyKey) => client.deleteUser(sub, { ...write, idempotencyKey }),
      },
    };
  };
  const change = {
    sub: SUB,
    userPoolId: POOL,
    kind: 'changed' as const,
    source: 'AdminUpdateUserAttributes',
  };

  it('the worker that read the older state writes last, and is refused', async () => {
    // The user exists, as the trigger created it.
    await applyUserChange(
      [change],
      worker(async () => state('Ada', '2026-11-26T09:00:00.000Z')),
    );
    const older = gate();

    // Worker A reads the state at 10:00, then stalls; worker B reads 10:05 and writes it.
    const a = applyUserChange(
      [change],
      worker(async () => {
        await older.opened;
        return state('Ada Lovelace', '2026-11-26T10:00:00.000Z');
      }),
    );
    const b = await applyUserChange(
      [change],
      worker(async () => state('Ada King', '2026-11-26T10:05:00.000Z')),
    );
    older.open();
    const lateA = await a;

    expect(b.outcome).toBe('updated');
    expect(lateA).toMatchObject({ outcome: 'skipped', reason: 'newer-state-stored' });
    expect(service.users.get(SUB)).toMatchObject({
      fullName: 'Ada King',
      cognitoLastModified: '2026-11-26T10:05:00.000Z',
    });
    // The first PATCH found no user (404) and created it; then B's applied, and A's was refused.
    expect(
      service.requests.filter((request) => request.method === 'PATCH').map((request) => request.status),
    ).toEqual([404, 200, 412]);
  });
});
