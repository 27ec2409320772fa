import { describe, expect, it } from 'vitest';
import type { WriteResult } from '../../src/clients/user-service.js';
import { readUserPolicy } from '../../src/config.js';
import { applyUserChange, coalesce, type UserChangeDeps } from '../../src/core/user-change.js';
import { idempotencyKey, writeKey } from '../../src/domain/idempotency.js';
import type { PoolUser } from '../../src/domain/pool-user.js';
import type { UserChange } from '../../src/domain/user-events.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const measured = { attempts: 1, attemptLatenciesMs: [5], durationMs: 5 };

describe('coalesce', () => {
  it('groups the records of a batch by user, keeping their order', () => {
    const change = (sub: string, source: string): { change: UserChange } => ({
      change: { sub, userPoolId: POOL, kind: 'changed', source },
    });

    const groups = coalesce([change('a', '1'), change('b', '2'), change('a', '3')]);

    expect([...groups.entries()].map(([sub, records]) => [sub, records.map((r) => r.change.source)])).toEqual(
      [
        ['a', ['1', '3']],
        ['b', ['2']],
      ],
    );
  });
});

describe('applyUserChange', () => {
  const policy = readUserPolicy({});
  const ada = (overrides: Partial<PoolUser> = {}): PoolUser => ({
    username: SUB,
    sub: SUB,
    status: 'CONFIRMED',
    enabled: true,
    attributes: { sub: SUB, email: 'ada@example.com', name: 'Ada Lovelace' },
    lastModified: '2026-11-26T10:00:00.000Z',
    ...overrides,
  });
  const change = (
    kind: UserChange['kind'] = 'changed',
    userPoolId: string | undefined = POOL,
  ): UserChange => ({
    sub: SUB,
    userPoolId,
    kind,
    source: kind === 'deleted' ? 'AdminDeleteUser' : 'AdminUpdateUserAttributes',
  });

  /** A User Service that answers each call as scripted, in order, and keeps what it was asked. */
  const service = (...answers: WriteResult[]) => {
    const calls: { method: string; sub: string; body?: unknown; key: string }[] = [];
    const next = () => {
      const answer = answers.shift();
      if (!answer) throw new Error('no more answers scripted');
      return answer;
    };
    const userService: UserChangeDeps['userService'] = {
      createUser: async (body, key) => {
        calls.push({ method: 'POST', sub: body.cognitoSub, body, key });
        return next() as WriteResult<'created' | 'exists'>;
      },
      patchUser: async (sub, patch, key) => {
        calls.push({ method: 'PATCH', sub, body: patch, key });
        return next() as WriteResult<'updated' | 'stale' | 'missing'>;
      },
      deleteUser: async (sub, key) => {
        calls.push({ method: 'DELETE', sub, key });
        return next() as WriteResult<'deleted'>;
      },
    };
    return { userService, calls };
  };
  const deps = (
    user: PoolUser | undefined | Error,
    userService: UserChangeDeps['userService'],
  ): UserChangeDeps => ({
    userPoolId: POOL,
    policy,
    findUser: async () => {
      if (user instanceof Error) throw user;
      return user;
    },
    userService,
  });
  const done = (outcome: WriteResult['outcome']) => ({ outcome, ...measured }) as WriteResult;
  const failed = (failure: 'rejected' | 'transient', reason: string, detail?: string) =>
    ({ failure, reason, ...measured, ...(detail && { detail }) }) as WriteResult;

  it('patches the Cognito-owned fields of the current state, with its last-modified time', async () => {
    const { userService, calls } = service(done('updated'));

    const report = await applyUserChange([change()], deps(ada(), userService));

    expect(report).toMatchObject({ outcome: 'updated', keys: { cognitoSub: SUB, userPoolId: POOL } });
    const patch = {
      email: 'ada@example.com',
      fullName: 'Ada Lovelace',
      status: 'ACTIVE',
      updatedBy: SUB,
      cognitoLastModified: '2026-11-26T10:00:00.000Z',
    };
    expect(calls).toEqual([
      {
        method: 'PATCH',
        sub: SUB,
        body: patch,
        key: writeKey(POOL, SUB, { method: 'PATCH', body: JSON.stringify(patch) }),
      },
    ]);
  });

  it('gives a disabled user the disabled status, and an enabled one the default', async () => {
    const disabled = service(done('updated'));
    const enabled = service(done('updated'));

    await applyUserChange([change()], deps(ada({ enabled: false }), disabled.userService));
    await applyUserChange([change()], deps(ada({ enabled: true }), enabled.userService));

    expect(disabled.calls[0]?.body).toMatchObject({ status: 'DISABLED' });
    expect(enabled.calls[0]?.body).toMatchObject({ status: 'ACTIVE' });
  });

  it('creates a user the User Service does not have (an invited user), with its whole state', async () => {
    const { userService, calls } = service(done('missing'), done('created'));

    const report = await applyUserChange(
      [change()],
      deps(ada({ status: 'FORCE_CHANGE_PASSWORD' }), userService),
    );

    expect(report.outcome).toBe('created');
    expect(calls.map((call) => call.method)).toEqual(['PATCH', 'POST']);
    expect(calls[1]).toMatchObject({
      key: idempotencyKey(POOL, SUB),
      body: {
        cognitoSub: SUB,
        role: 'USER',
        status: 'ACTIVE',
        cognitoLastModified: '2026-11-26T10:00:00.000Z',
      },
    });
  });

  it('patches again when the user was created meanwhile by another path', async () => {
    const { userService, calls } = service(done('missing'), done('exists'), done('updated'));

    const report = await applyUserChange([change()], deps(ada(), userService));

    expect(report.outcome).toBe('updated');
    expect(calls.map((call) => call.method)).toEqual(['PATCH', 'POST', 'PATCH']);
  });

  it('skips a write the User Service holds a newer state than', async () => {
    const { userService } = service(done('stale'));

    await expect(applyUserChange([change()], deps(ada(), userService))).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'newer-state-stored',
    });
  });

  it('deletes a user only when a delete event says so and Cognito confirms the user is gone', async () => {
    const { userService, calls } = service(done('deleted'));

    const report = await applyUserChange([change('deleted')], deps(undefined, userService));

    expect(report.outcome).toBe('deleted');
    expect(calls).toEqual([{ method: 'DELETE', sub: SUB, key: writeKey(POOL, SUB, { method: 'DELETE' }) }]);
  });

  it('never deletes on a bare "not found": an update event of a user the pool does not have is skipped', async () => {
    const { userService, calls } = service();

    const report = await applyUserChange([change('changed')], deps(undefined, userService));

    expect(report).toMatchObject({ outcome: 'skipped', reason: 'not-in-pool' });
    expect(calls).toEqual([]);
  });

  it('does not delete a user a delete event names when Cognito still has it (writes its state instead)', async () => {
    const { userService, calls } = service(done('updated'));

    await applyUserChange([change('deleted')], deps(ada(), userService));

    expect(calls.map((call) => call.method)).toEqual(['PATCH']);
  });

  it('skips an event of another pool without reading Cognito', async () => {
    const { userService, calls } = service();
    let read = false;

    const report = await applyUserChange([change('deleted', 'eu-west-1_Other0000')], {
      ...deps(undefined, userService),
      findUser: async () => {
        read = true;
        return undefined;
      },
    });

    expect(report).toMatchObject({ outcome: 'skipped', reason: 'other-pool' });
    expect(read).toBe(false);
    expect(calls).toEqual([]);
  });

  it('removes a user reconcile found the policy leaves out, when Cognito says so too', async () => {
    const { userService, calls } = service(done('deleted'));

    const report = await applyUserChange(
      [change('removed')],
      deps(ada({ status: 'UNCONFIRMED' }), userService),
    );

    expect(report.outcome).toBe('deleted');
    expect(calls).toEqual([{ method: 'DELETE', sub: SUB, key: writeKey(POOL, SUB, { method: 'DELETE' }) }]);
  });

  it('removes a user reconcile wanted removed who has since left the pool', async () => {
    const { userService, calls } = service(done('deleted'));

    await applyUserChange([change('removed')], deps(undefined, userService));

    expect(calls.map((call) => call.method)).toEqual(['DELETE']);
  });

  it('keeps a user reconcile wanted removed who has since become a user (confirmed the sign-up): writes their state', async () => {
    const { userService, calls } = service(done('updated'));

    const report = await applyUserChange([change('removed')], deps(ada(), userService));

    expect(report.outcome).toBe('updated');
    expect(calls.map((call) => call.method)).toEqual(['PATCH']);
  });

  it('skips a user whose status the policy leaves out', async () => {
    const { userService, calls } = service();

    const report = await applyUserChange([change()], deps(ada({ status: 'UNCONFIRMED' }), userService));

    expect(report).toMatchObject({ outcome: 'skipped', reason: 'status-not-synced' });
    expect(calls).toEqual([]);
  });

  it('defers when Cognito throttles, and dead-letters when the configured pool does not exist', async () => {
    const throttle = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
    const noPool = Object.assign(new Error('User pool does not exist'), {
      name: 'ResourceNotFoundException',
    });

    await expect(applyUserChange([change()], deps(throttle, service().userService))).resolves.toMatchObject({
      outcome: 'deferred',
      reason: 'cognito-TooManyRequestsException',
    });
    await expect(
      applyUserChange([change('deleted')], deps(noPool, service().userService)),
    ).resolves.toMatchObject({
      outcome: 'dead-lettered',
      reason: 'pool-not-found',
    });
  });

  it('defers a User Service failure worth trying again, and dead-letters a refused one with what it said', async () => {
    await expect(
      applyUserChange([change()], deps(ada(), service(failed('transient', 'http-503')).userService)),
    ).resolves.toMatchObject({ outcome: 'deferred', reason: 'http-503' });
    await expect(
      applyUserChange(
        [change()],
        deps(ada(), service(failed('rejected', 'http-422', 'email is invalid')).userService),
      ),
    ).resolves.toMatchObject({ outcome: 'dead-lettered', reason: 'http-422', detail: 'email is invalid' });
  });

  it('reads and writes a user once for all the changes of a batch, the sources listed', async () => {
    const { userService, calls } = service(done('updated'));

    const report = await applyUserChange(
      [change(), { ...change(), source: 'AdminDisableUser' }, { ...change(), source: 'AdminEnableUser' }],
      deps(ada(), userService),
    );

    expect(calls).toHaveLength(1);
    expect(report.keys.source).toBe('AdminUpdateUserAttributes,AdminDisableUser,AdminEnableUser');
  });
});
