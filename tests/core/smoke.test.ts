// smoke's plan with a world of the test's making: the hop named from each kind of observation, the
// steps in their order, a refused call reported as one, and the user removed whatever happened.

import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { byPrefix } from '../../src/clients/deployment.js';
import { ABSENT, type Inventory, Unreadable } from '../../src/clients/deployment-reads.js';
import { type Check, fail, pass } from '../../src/core/checklist.js';
import { nameTheHop, runSmoke, type SmokeWorld } from '../../src/core/smoke.js';
import type { ListedUser } from '../../src/domain/contract.js';

const failing = (id: string, detail = 'broken', unreadable = false): Check => ({
  ...fail(id, 'S', `${id} holds`, detail, `fix ${id}`),
  ...(unreadable && { evidence: { unreadable: 'x:Y' } }),
});

describe('nameTheHop', () => {
  it.each([
    ['trail', [failing('trail.logging'), failing('function.userChanges.config')]],
    ['rule', [failing('rule.pattern'), failing('queue.changes.policy')]],
    ['queue', [failing('queue.changes.policy'), failing('function.userChanges.event-source')]],
    ['queue', [failing('kms.events')]],
    ['function', [failing('function.userChanges.event-source')]],
  ])('names the first hop of the path whose check fails: %s', (hop, pathChecks) => {
    const verdict = nameTheHop({ pathChecks, functionLog: [] });

    expect(verdict.hop).toBe(hop);
    expect(verdict.fix).toBe(`fix ${pathChecks[0]?.id}`);
  });

  it('names no hop from a check that failed only for want of a read', () => {
    const verdict = nameTheHop({
      pathChecks: [failing('trail.logging', 'could not read it', true), pass('rule.enabled', 'S', 'ok')],
      functionLog: [{ outcome: 'deferred', reason: 'http-503', httpStatus: 503 }],
    });

    expect(verdict.hop).toBe('service');
  });

  it.each([
    ['service', { outcome: 'updated' }, /took the write, but its list does not show it/],
    ['service', { outcome: 'deferred', reason: 'http-503', httpStatus: 503 }, /failed or refused the write/],
    ['service', { outcome: 'deferred', reason: 'network-ECONNREFUSED' }, /failed or refused/],
    ['service', { outcome: 'dead-lettered', reason: 'http-422' }, /failed or refused/],
    [
      'function',
      { outcome: 'deferred', reason: 'cognito-AccessDeniedException' },
      /reason cognito-AccessDeniedException/,
    ],
    ['function', { outcome: 'skipped', reason: 'not-in-pool' }, /outcome skipped/],
  ])("with the path sound, the function's own log names %s", (hop, line, why) => {
    const verdict = nameTheHop({ pathChecks: [], functionLog: [{ outcome: 'created' }, line] });

    expect(verdict).toMatchObject({ hop, why: expect.stringMatching(why) });
  });

  it('names the function when messages wait and nothing consumes them', () => {
    expect(nameTheHop({ pathChecks: [], waiting: 3, functionLog: [] })).toMatchObject({
      hop: 'function',
      why: '3 messages wait on the changes queue: the user-changes function does not consume them',
    });
  });

  it.each([
    [
      'not deployed',
      { why: 'user changes are not deployed: test names no user-changes function', fix: 'deploy them' },
    ],
    [
      'unreadable',
      { why: 'the user-changes function could not be read', fix: 'let the credentials read it' },
    ],
  ])(
    'says the user-changes function is %s, rather than blame CloudTrail, when nothing else shows the change',
    (_, userChanges) => {
      const verdict = nameTheHop({ pathChecks: [], waiting: 0, functionLog: 'no log', userChanges });

      expect(verdict.hop).toBe('function');
      expect(verdict.why).toContain(userChanges.why);
      expect(verdict.why).not.toMatch(/CloudTrail/);
      expect(verdict.fix).toBe(userChanges.fix);
    },
  );

  it("names CloudTrail's delivery when nothing shows the change past Cognito, and says the log could not be read", () => {
    const verdict = nameTheHop({ pathChecks: [], waiting: 0, functionLog: 'AccessDeniedException: no' });

    expect(verdict.hop).toBe('trail');
    expect(verdict.why).toMatch(/\(its log could not be read: AccessDeniedException: no\)/);
    expect(verdict.fix).toMatch(/--step-timeout/);
  });
});

/** A deployment with nothing to read: doctor's checks of it are not what these tests are about. */
const NOTHING: Inventory = {
  deployment: byPrefix('p', 'eu-west-1_Qx7Lm2Rt9', 'eu-west-1', 'test'),
  pool: ABSENT,
  trigger: undefined,
  functions: { postConfirmation: null, retryWorker: null, userChanges: null, reconcile: null },
  secrets: {},
  queues: {
    retry: null,
    deadLetter: null,
    changes: null,
    changesDeadLetter: null,
    reconcile: null,
    reconcileDeadLetter: null,
  },
  keys: {},
  rules: { userChanges: null, reconcile: null },
  trails: [],
  alarms: [],
  simulations: [],
};

/** A deployment with user changes whose function cannot be read, and nothing else to read. */
const DEPLOYED: Inventory = {
  ...NOTHING,
  functions: {
    ...NOTHING.functions,
    userChanges: new Unreadable('lambda:GetFunctionConfiguration', 'AccessDeniedException: no'),
  },
};

/** A pool and a User Service in memory; the path delivers each change at once, unless told not to. */
const fakeWorld = ({
  deliver = () => true,
  refuse,
  inventory = DEPLOYED,
}: {
  deliver?: (call: string) => boolean;
  refuse?: string;
  inventory?: Inventory;
} = {}) => {
  const calls: string[] = [];
  const pool = new Map<
    string,
    { sub: string; email: string; name: string; enabled: boolean; status: string }
  >();
  const service = new Map<string, ListedUser>();
  const list = (sub: string, change: (user: ListedUser) => void) => {
    const user = service.get(sub);
    if (user) change(user);
  };
  const world: SmokeWorld = {
    readPath: async () => inventory,
    usernameFor: (email) => email,
    async create(username, email, name) {
      calls.push('create');
      if (refuse === 'create')
        throw Object.assign(new Error('Required attribute phone_number'), {
          name: 'InvalidParameterException',
        });
      const sub = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
      pool.set(username, { sub, email, name, enabled: true, status: 'FORCE_CHANGE_PASSWORD' });
      if (deliver('create'))
        service.set(sub, {
          cognitoSub: sub,
          email,
          fullName: name,
          status: 'ACTIVE',
          cognitoLastModified: null,
        });
      return sub;
    },
    async confirm(username) {
      calls.push('confirm');
      const user = pool.get(username);
      if (user) user.status = 'CONFIRMED';
    },
    async statusOf(username) {
      if (refuse === 'statusOf')
        throw Object.assign(new Error('not authorized to perform: cognito-idp:AdminGetUser'), {
          name: 'AccessDeniedException',
        });
      return pool.get(username)?.status;
    },
    async rename(username, name) {
      calls.push('rename');
      const user = pool.get(username);
      if (user && deliver('rename')) list(user.sub, (listed) => (listed.fullName = name));
    },
    async disable(username) {
      calls.push('disable');
      const user = pool.get(username);
      if (user && deliver('disable')) list(user.sub, (listed) => (listed.status = 'DISABLED'));
    },
    async enable(username) {
      calls.push('enable');
      const user = pool.get(username);
      if (user && deliver('enable')) list(user.sub, (listed) => (listed.status = 'ACTIVE'));
    },
    async remove(username) {
      calls.push('remove');
      const user = pool.get(username);
      if (!user) return false;
      pool.delete(username);
      if (deliver('remove')) service.delete(user.sub);
      return true;
    },
    async listed(sub) {
      if (refuse === 'listed' && calls.includes('rename')) throw new TypeError('a bug in the list');
      return service.get(sub) ?? null;
    },
    async removeFromService(sub) {
      calls.push('removeFromService');
      service.delete(sub);
      return true;
    },
    observe: async () => ({ inventory, waiting: 0, functionLog: [] }),
    removalCommand: (username) => `aws cognito-idp admin-delete-user --username ${username}`,
    serviceRemovalCommand: (sub) => `DELETE https://users.example/api/v1/users/${sub}`,
  };
  return { world, calls, pool, service };
};

const options = { runId: '20261205t000000z-abcd', stepTimeoutMs: 50, intervalMs: 5 };
/** A call that never answers: it fails when `signal` aborts, as the SDK's and fetch's do. */
const hangsUntil = (signal?: AbortSignal) =>
  new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
const steps = (checks: Check[]) =>
  checks.filter((check) => check.id.startsWith('step.') || check.id === 'cleanup');

describe('runSmoke', () => {
  it('walks the steps in their order and removes nothing more than the path did', async () => {
    const { world, calls, pool, service } = fakeWorld();

    const checks = steps(await runSmoke(world, options));

    expect(checks.map((check) => [check.id, check.status])).toEqual([
      ['step.create', 'pass'],
      ['step.confirm', 'pass'],
      ['step.update', 'pass'],
      ['step.disable', 'pass'],
      ['step.enable', 'pass'],
      ['step.delete', 'pass'],
      ['cleanup', 'pass'],
    ]);
    expect(calls).toEqual(['create', 'confirm', 'rename', 'disable', 'enable', 'remove', 'remove']);
    expect(checks.at(-1)?.detail).toEqual(['not in the pool', 'not in the User Service']);
    expect(pool.size + service.size).toBe(0);
  });

  it('a change that never arrives fails its step with the hop, skips the rest, and the clean-up removes the user from both', async () => {
    const { world, calls, pool, service } = fakeWorld({
      deliver: (call) => !['disable', 'remove'].includes(call),
    });

    const checks = steps(await runSmoke(world, options));

    expect(checks.map((check) => [check.id, check.status])).toEqual([
      ['step.create', 'pass'],
      ['step.confirm', 'pass'],
      ['step.update', 'pass'],
      ['step.disable', 'fail'],
      ['step.enable', 'skip'],
      ['step.delete', 'skip'],
      ['cleanup', 'pass'],
    ]);
    expect(checks[3]?.detail[0]).toBe('the change stopped at: trail');
    expect(checks[3]?.detail[1]).toMatch(
      /^waited 0\.\d s for a status other than ACTIVE; the service lists \{"fullName":".*\(renamed\)","status":"ACTIVE"\}$/,
    );
    expect(calls.slice(-2)).toEqual(['remove', 'removeFromService']);
    expect(pool.size + service.size).toBe(0);
  });

  it('a call Cognito refuses is reported as one, and nothing is left behind', async () => {
    const { world, pool } = fakeWorld({ refuse: 'create' });

    const checks = steps(await runSmoke(world, options));

    expect(checks[0]).toMatchObject({
      id: 'step.create',
      status: 'fail',
      detail: ['Cognito refused AdminCreateUser: InvalidParameterException: Required attribute phone_number'],
      fix: expect.stringMatching(/cognito-idp:AdminCreateUser/),
    });
    expect(checks.at(-1)).toMatchObject({ id: 'cleanup', status: 'pass' });
    expect(pool.size).toBe(0);
  });

  it('stopped while a change is awaited: the step is skipped as stopped, the user removed', async () => {
    const { world, pool, service } = fakeWorld({ deliver: (call) => call === 'create' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);

    const checks = steps(
      await runSmoke(world, { ...options, stepTimeoutMs: 10_000, signal: controller.signal }),
    );

    expect(checks.find((check) => check.id === 'step.update')).toMatchObject({
      status: 'skip',
      detail: ['stopped (SIGINT, SIGTERM or SIGHUP) before the change arrived'],
    });
    expect(checks.at(-1)).toMatchObject({ id: 'cleanup', status: 'pass' });
    expect(pool.size + service.size).toBe(0);
  });

  it("leaves no listener on the run's signal, however many times it polls", async () => {
    const { world } = fakeWorld({ deliver: (call) => call !== 'rename' });
    const controller = new AbortController();

    const checks = steps(
      await runSmoke(world, { ...options, stepTimeoutMs: 100, intervalMs: 1, signal: controller.signal }),
    );

    expect(checks.find((check) => check.id === 'step.update')?.status).toBe('fail');
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
  });

  it('a read Cognito refuses part-way fails its step, and the checklist still says what the clean-up removed', async () => {
    const { world, pool, service } = fakeWorld({ refuse: 'statusOf' });

    const checks = steps(await runSmoke(world, options));

    expect(checks.map((check) => [check.id, check.status])).toEqual([
      ['step.create', 'pass'],
      ['step.confirm', 'fail'],
      ['step.update', 'skip'],
      ['step.disable', 'skip'],
      ['step.enable', 'skip'],
      ['step.delete', 'skip'],
      ['cleanup', 'pass'],
    ]);
    expect(checks[1]?.detail).toEqual([
      'Cognito refused AdminGetUser: AccessDeniedException: not authorized to perform: cognito-idp:AdminGetUser',
    ]);
    expect(checks.at(-1)?.detail).toEqual([
      'deleted from the pool by the clean-up',
      'not in the User Service',
    ]);
    expect(pool.size + service.size).toBe(0);
  });

  it('any other error part-way fails the step in hand, and the clean-up is still reported', async () => {
    const { world, pool, service } = fakeWorld({ refuse: 'listed', deliver: (call) => call === 'create' });

    const checks = steps(await runSmoke(world, options));

    expect(checks.find((check) => check.id === 'step.update')).toMatchObject({
      status: 'fail',
      detail: ['smoke failed: TypeError: a bug in the list'],
    });
    expect(checks.at(-1)).toMatchObject({ id: 'cleanup', status: 'fail' });
    expect(pool.size).toBe(0);
    expect(service.size).toBe(1);
  });

  it.each([
    [
      'the source says they are not deployed',
      NOTHING,
      /^user changes are not deployed: test names no user-changes function/,
    ],
    [
      'their function is not there',
      { ...NOTHING, functions: { ...NOTHING.functions, userChanges: ABSENT } },
      /^there is no function p-user-changes in eu-west-1/,
    ],
  ] as const)(
    'refuses before creating a user when %s, rather than blame CloudTrail after the wait',
    async (_, inventory, why) => {
      const { world, calls } = fakeWorld({ inventory });

      const checks = steps(await runSmoke(world, options));

      expect(calls).toEqual([]);
      expect(checks.map((check) => [check.id, check.status])).toEqual([
        ['step.create', 'skip'],
        ['step.confirm', 'skip'],
        ['step.update', 'skip'],
        ['step.disable', 'skip'],
        ['step.enable', 'skip'],
        ['step.delete', 'skip'],
      ]);
      const refusal = (await runSmoke(world, options)).find((check) => check.id === 'user-changes');
      expect(refusal).toMatchObject({ status: 'fail', detail: [expect.stringMatching(why)] });
      expect(JSON.stringify(refusal)).not.toMatch(/CloudTrail/);
    },
  );

  it("stopped, it cuts short the list in hand: the list is given the run's signal", async () => {
    const { world, pool, service } = fakeWorld({ deliver: (call) => call === 'create' });
    const controller = new AbortController();
    const signals: (AbortSignal | undefined)[] = [];
    const listed = world.listed;
    world.listed = (sub, signal) => {
      signals.push(signal);
      return listed(sub, signal);
    };
    setTimeout(() => controller.abort(), 20);

    const checks = steps(
      await runSmoke(world, { ...options, stepTimeoutMs: 10_000, signal: controller.signal }),
    );

    expect(signals[0]).toBe(controller.signal);
    // The clean-up's own list is not cut short by the signal that stopped the run.
    expect(signals.at(-1)).not.toBe(controller.signal);
    expect(checks.at(-1)).toMatchObject({ id: 'cleanup', status: 'pass' });
    expect(pool.size + service.size).toBe(0);
  });

  it('a clean-up cut short (a second signal) says what may be left, and the commands that remove it', async () => {
    const { world } = fakeWorld({ deliver: (call) => call === 'create' });
    const stop = new AbortController();
    const cut = new AbortController();
    // AdminDeleteUser hangs until the clean-up is cut short.
    world.remove = (_, signal) => hangsUntil(signal);
    setTimeout(() => stop.abort(), 20);
    setTimeout(() => cut.abort(), 40);

    const checks = steps(
      await runSmoke(world, { ...options, stepTimeoutMs: 10_000, signal: stop.signal, cutShort: cut.signal }),
    );

    const user = 'smoke+20261205t000000z-abcd@example.invalid';
    const sub = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
    expect(checks.at(-1)).toEqual({
      id: 'cleanup',
      section: 'Clean-up',
      title: 'the smoke user is gone from the pool and the User Service',
      status: 'fail',
      detail: [
        'the clean-up was cut short (a second signal)',
        `left, perhaps: the user ${user} in the pool`,
        `left, perhaps: the user ${sub} in the User Service`,
      ],
      fix: `remove what is left: aws cognito-idp admin-delete-user --username ${user}; DELETE https://users.example/api/v1/users/${sub}`,
    });
  });

  it('a clean-up cut short after the pool: only the User Service is left to do', async () => {
    const { world, pool } = fakeWorld({ deliver: (call) => call === 'create' });
    const stop = new AbortController();
    const cut = new AbortController();
    world.removeFromService = (_, signal) => hangsUntil(signal);
    const listed = world.listed;
    world.listed = async (sub, signal) => {
      // The clean-up's list: the second signal comes now.
      if (stop.signal.aborted) setTimeout(() => cut.abort(), 5);
      return listed(sub, signal);
    };
    setTimeout(() => stop.abort(), 20);

    const checks = steps(
      await runSmoke(world, { ...options, stepTimeoutMs: 10_000, signal: stop.signal, cutShort: cut.signal }),
    );

    expect(pool.size).toBe(0);
    expect(checks.at(-1)).toMatchObject({
      status: 'fail',
      detail: [
        'deleted from the pool by the clean-up',
        'the clean-up was cut short (a second signal)',
        'left, perhaps: the user 3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13 in the User Service',
      ],
      fix: 'remove what is left: DELETE https://users.example/api/v1/users/3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13',
    });
  });
});
