// reconcile's command line with Cognito mocked at the SDK and the dev User Service on loopback:
// what a resumed run really uses (its pace and its statuses, not only what it prints), that a dry
// run asks for no deletion, that a report resumed into another cannot be resumed again, and that
// --apply asks Cognito again before it creates a user a lagging listing still shows.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  ListUsersCommand,
  type UserStatusType,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { emptyReconcileCounts } from '../../src/core/reconcile.js';
import { type DevUserService, type StoredUser, startDevUserService } from '../../src/dev/user-service.js';
import { startProxy } from '../helpers/proxy.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const cognito = mockClient(CognitoIdentityProviderClient);
const SUB_F = 'f3c5a1e0-7b2d-4e8a-9f61-2d4b8c0e7a13';
const SUB_A = 'a3c5a1e0-7b2d-4e8a-9f61-2d4b8c0e7a13';
const userNotFound = () =>
  Object.assign(new Error('User does not exist.'), {
    name: 'UserNotFoundException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
const poolUser = (sub: string, status: UserStatusType = 'CONFIRMED') => ({
  Username: sub,
  UserStatus: status,
  Enabled: true,
  Attributes: [
    { Name: 'sub', Value: sub },
    { Name: 'email', Value: `${sub}@example.com` },
  ],
});
/** Polls until `condition` holds, or fails after a deadline. */
const until = async (condition: () => boolean, what: string) => {
  for (const deadline = Date.now() + 10_000; !condition(); ) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
/** A gate AdminGetUser waits behind, so that a run stays in its slice until the test opens it. */
const gated = () => {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { gate, open: () => open() };
};
const held = (sub: string): StoredUser => ({
  cognitoSub: sub,
  email: `${sub}@example.com`,
  fullName: null,
  status: 'ACTIVE',
  role: 'USER',
  createdBy: sub,
  updatedBy: sub,
  createdAt: '2026-01-01T00:00:00.000Z',
  idempotencyKey: 'seed',
});

describe('reconcile', () => {
  let service: DevUserService;
  let dir: string;
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await main(['reconcile', ...argv], {
      out: (line) => out.push(line),
      err: (line) => out.push(line),
    });
    return { code, out: out.join('\n') };
  };
  const report = async (name: string) => JSON.parse(await readFile(join(dir, name), 'utf8'));
  /** A report of a run stopped before slice 11 of 16, as reconcile writes one. */
  const stoppedReport = async (name: string, fields: Record<string, unknown>) => {
    await writeFile(
      join(dir, name),
      JSON.stringify({
        command: 'reconcile',
        userPoolId: POOL,
        apply: false,
        maxDeletes: 10,
        sliceDigits: 1,
        nextSlice: 11,
        complete: false,
        counts: { ...emptyReconcileCounts(16), slicesDone: 11 },
        drift: {},
        failures: [],
        ...fields,
      }),
    );
    return join(dir, name);
  };

  beforeEach(async () => {
    cognito.reset();
    cognito.on(DescribeUserPoolCommand).resolves({ UserPool: { EstimatedNumberOfUsers: 2 } });
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    cognito.on(AdminGetUserCommand).rejects(userNotFound());
    service = await startDevUserService({ apiKeys: ['reconcile-key'] });
    dir = await mkdtemp(join(tmpdir(), 'reconcile-cli-'));
    for (const [name, value] of Object.entries({
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      USER_SERVICE_URL: service.url,
      USER_SERVICE_API_KEY: 'reconcile-key',
    })) {
      vi.stubEnv(name, value);
    }
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await service.close();
  });

  it("a resumed run goes at the report's pace and compares with the report's statuses, not the defaults", async () => {
    // An invited user (FORCE_CHANGE_PASSWORD) the service holds, in slice f: a user under the
    // default statuses, excluded under the report's CONFIRMED alone.
    service.users.set(SUB_F, held(SUB_F));
    cognito
      .on(ListUsersCommand, { Filter: 'sub ^= "f"' })
      .resolves({ Users: [poolUser(SUB_F, 'FORCE_CHANGE_PASSWORD')] });
    cognito
      .on(AdminGetUserCommand)
      .resolves({ ...poolUser(SUB_F, 'FORCE_CHANGE_PASSWORD'), UserAttributes: poolUser(SUB_F).Attributes });
    const path = await stoppedReport('paced.json', { maxRps: 2, statuses: ['CONFIRMED'] });
    const started = performance.now();

    const { code } = await run('--resume-from', path);

    // Slices 12 to 16: five ListUsers calls, two a second at most.
    expect(cognito.commandCalls(ListUsersCommand)).toHaveLength(5);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
    expect(code).toBe(3);
    expect((await report('paced.json')).counts.excluded).toBe(1);
  });

  it('a dry run asks for no deletion: resumed with --apply, it has the whole of --max-deletes', async () => {
    const orphans = ['c1', 'c2', 'c3'].map((start) => `${start}${SUB_A.slice(2)}`);
    for (const sub of orphans) service.users.set(sub, held(sub));
    const path = await stoppedReport('dry.json', { maxDeletes: 3, wouldDelete: 3 });

    const { out } = await run('--resume-from', path, '--apply');

    expect(out).toContain('0 deletion(s) asked for already; 3 left under --max-deletes 3');
    expect(orphans.filter((sub) => service.users.has(sub))).toEqual([]);
    expect(await report('dry.json')).toMatchObject({ deletesAsked: 3, apply: true });
  });

  it.each([
    ['stopped', { complete: false }],
    ['complete', { complete: true, nextSlice: 16, counts: { ...emptyReconcileCounts(16), slicesDone: 16 } }],
  ])(
    'a dry run %s, resumed with --apply, starts again at slice 1 with its limits, and repairs what it found',
    async (_, state) => {
      const orphan = `1a${SUB_A.slice(2)}`;
      service.users.set(orphan, held(orphan));
      const path = await stoppedReport('dry-then-apply.json', {
        maxDeletes: 3,
        wouldDelete: 1,
        counts: { ...emptyReconcileCounts(16), slicesDone: 11, checked: 7, orphaned: 1 },
        drift: { orphaned: [orphan] },
        ...state,
      });

      const { code, out } = await run('--resume-from', path, '--apply');

      expect(service.users.has(orphan)).toBe(false);
      expect(code).toBe(0);
      expect(out).toContain('a dry run: --apply starts again at slice 1');
      expect(out).toContain('0 deletion(s) asked for already; 3 left under --max-deletes 3');
      expect(await report('dry-then-apply.json')).toMatchObject({
        apply: true,
        complete: true,
        nextSlice: 16,
        deletesAsked: 1,
        counts: { slicesDone: 16, checked: 0, orphaned: 1, deleted: 1 },
        drift: { orphaned: [orphan] },
      });
    },
  );

  it('keeps writing the report it resumes; one resumed into another cannot be resumed again', async () => {
    const path = await stoppedReport('first.json', { apply: true, deletesAsked: 2, maxDeletes: 3 });

    expect((await run('--resume-from', path, '--report', join(dir, 'second.json'))).code).toBe(0);

    expect((await report('first.json')).supersededBy).toBe(join(dir, 'second.json'));
    const again = await run('--resume-from', path);
    expect(again.code).toBe(2);
    expect(again.out).toContain(
      `this run was resumed into ${join(dir, 'second.json')}; resume from that report`,
    );

    const inPlace = await stoppedReport('third.json', { apply: true });
    const { out } = await run('--resume-from', inPlace);
    expect(out).toContain(`Report: ${inPlace}`);
    expect(await report('third.json')).toMatchObject({ complete: true, nextSlice: 16 });
  });

  it.each([
    ['deletesAsked', { apply: true, maxDeletes: 2, deletesAsked: -3 }, 'deletesAsked must be a whole number'],
    ['deletesAsked', { apply: true, maxDeletes: 2, deletesAsked: 3 }, 'between 0 and 2'],
    ['sliceDigits', { sliceDigits: -1, nextSlice: 0 }, 'must be 1, 16, 256 or 4096'],
    ['maxDeletes', { apply: true, maxDeletes: 5000 }, 'between 0 and 1000'],
    ['maxRps', { maxRps: 100 }, 'between 0.2 and 25'],
    ['nextSlice', { nextSlice: 17 }, 'between 0 and 16'],
    ['nextSlice', { nextSlice: -1 }, 'must be a whole number'],
    ['statuses', { statuses: ['CONFIRMED', 'NOPE'] }, 'must list Cognito user statuses'],
    ['wouldDelete', { wouldDelete: 11 }, 'between 0 and 10'],
    [
      'counts.deleted',
      { apply: true, counts: { ...emptyReconcileCounts(16), deleted: -4 } },
      'must be a whole number',
    ],
  ])(
    "a report whose %s is out of the flag's bounds is refused (exit 2), naming the field; nothing is deleted",
    async (field, fields, says) => {
      const orphans = ['c1', 'c2', 'c3', 'c4', 'c5'].map((start) => `${start}${SUB_A.slice(2)}`);
      for (const sub of orphans) service.users.set(sub, held(sub));
      const path = await stoppedReport('tampered.json', fields);

      const { code, out } = await run('--resume-from', path);

      expect(code).toBe(2);
      expect(out).toContain(`--resume-from ${path}: the report's ${field}`);
      expect(out).toContain(says);
      expect(orphans.filter((sub) => service.users.has(sub))).toEqual(orphans);
      expect(cognito.commandCalls(ListUsersCommand)).toEqual([]);
    },
  );

  it('two resumes of one report at once: the second is refused, naming the pid and the lock file, and the cap holds', async () => {
    const orphans = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((start) => `${start}${SUB_A.slice(2)}`);
    for (const sub of orphans) service.users.set(sub, held(sub));
    const { gate, open } = gated();
    cognito.on(AdminGetUserCommand).callsFake(async () => {
      await gate;
      throw userNotFound();
    });
    const path = await stoppedReport('twice.json', { apply: true, maxDeletes: 3, deletesAsked: 0 });

    const first = run('--resume-from', path);
    await until(
      () => cognito.commandCalls(AdminGetUserCommand).length > 0,
      'the first run confirms a deletion',
    );
    let secondEnded = false;
    const second = run('--resume-from', path).finally(() => {
      secondEnded = true;
    });
    await until(
      () => secondEnded || cognito.commandCalls(AdminGetUserCommand).length > 1,
      'the second run ends or confirms a deletion',
    );
    open();
    const [one, two] = await Promise.all([first, second]);

    expect(two.code).toBe(1);
    expect(two.out).toContain(`${path}.lock`);
    expect(two.out).toContain(`pid ${process.pid}`);
    expect(one.code).toBe(3);
    expect(orphans.filter((sub) => service.users.has(sub))).toHaveLength(3);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('--resume-from a report in a folder that does not exist is a usage error, and makes no folder', async () => {
    const path = join(dir, 'no-such-folder', 'report.json');

    const { code, out } = await run('--resume-from', path);

    expect(code).toBe(2);
    expect(out).toContain(`--resume-from ${path}: ENOENT`);
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
  });

  it('a lock left by a process no longer running is taken over, saying so; one whose process runs is refused', async () => {
    const path = await stoppedReport('locked.json', { apply: true });
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const lock = (pid: number) =>
      writeFile(
        `${path}.lock`,
        JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }),
      );

    await lock(process.ppid);
    const refused = await run('--resume-from', path);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`${path}.lock`);
    expect(refused.out).toContain(`pid ${process.ppid}`);
    expect(await report('locked.json')).toMatchObject({ nextSlice: 11 });

    await lock(dead);
    const { code, out } = await run('--resume-from', path);
    expect(out).toContain(`pid ${dead}`);
    expect(out).toContain('taking it over');
    expect(code).toBe(0);
    expect(await report('locked.json')).toMatchObject({ nextSlice: 16, complete: true });
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('a run stopped by SIGINT lets go of its lock as it ends', async () => {
    service.users.set(`c1${SUB_A.slice(2)}`, held(`c1${SUB_A.slice(2)}`));
    const { gate, open } = gated();
    cognito.on(AdminGetUserCommand).callsFake(async () => {
      await gate;
      throw userNotFound();
    });
    const path = await stoppedReport('stopped.json', { apply: true });

    const stopped = run('--resume-from', path);
    await until(() => cognito.commandCalls(AdminGetUserCommand).length > 0, 'the run confirms a deletion');
    expect(existsSync(`${path}.lock`)).toBe(true);
    process.emit('SIGINT');
    open();

    expect((await stopped).code).toBe(130);
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(await report('stopped.json')).toMatchObject({ nextSlice: 12, complete: false });
  });

  it('a slice that failed partway, resumed, is counted once: what it found, its failures and its drift', async () => {
    const SUB_M = `b${SUB_A.slice(1)}`;
    const orphans = ['c1', 'c2'].map((start) => `${start}${SUB_A.slice(2)}`);
    for (const sub of orphans) service.users.set(sub, held(sub));
    cognito.on(ListUsersCommand).resolves({ Users: [poolUser(SUB_M)] });
    // Cognito fails once as the missing user is asked for again before it is created.
    cognito
      .on(AdminGetUserCommand, { Username: SUB_M })
      .rejectsOnce(Object.assign(new Error('boom'), { name: 'InternalErrorException' }))
      .resolves({ ...poolUser(SUB_M), UserAttributes: poolUser(SUB_M).Attributes });
    const path = join(dir, 'partway.json');

    const first = await run(
      ...['--user-pool-id', POOL, '--apply', '--slices', '1', '--max-deletes', '1', '--report', path],
    );
    expect(first.code).toBe(1);
    const resumed = await run('--resume-from', path);

    expect(service.users.has(SUB_M)).toBe(true);
    expect(orphans.filter((sub) => service.users.has(sub))).toEqual([orphans[1]]);
    expect(resumed.code).toBe(3);
    expect(await report('partway.json')).toMatchObject({
      complete: true,
      deletesAsked: 1,
      counts: {
        slicesDone: 1,
        checked: 1,
        missing: 1,
        orphaned: 1,
        deletesCapped: 1,
        created: 1,
        deleted: 1,
        failed: 0,
      },
      drift: { missing: [SUB_M], orphaned: [orphans[0]], capped: [orphans[1]] },
      failures: [],
    });
    expect(resumed.out).toMatch(/over the cap\s+1\n/);
  });

  it('a user the service dropped before its PATCH (404) is not counted as updated: it is drift left, exit 3', async () => {
    service.users.set(SUB_A, { ...held(SUB_A), email: 'old@example.com' });
    cognito.on(ListUsersCommand).resolves({ Users: [poolUser(SUB_A)] });
    const proxy = await startProxy(service.url);
    proxy.intercept(({ method }) => {
      if (method === 'PATCH') service.users.delete(SUB_A);
      return 'forward';
    });
    vi.stubEnv('USER_SERVICE_URL', proxy.url);
    const path = join(dir, 'dropped.json');

    const { code, out } = await run(
      '--user-pool-id',
      POOL,
      '--apply',
      '--slices',
      '1',
      '--report',
      path,
    ).finally(() => proxy.close());

    expect(proxy.requests.filter((request) => request.method === 'PATCH')).toHaveLength(1);
    expect((await report('dropped.json')).counts).toMatchObject({
      different: 1,
      updated: 0,
      droppedByService: 1,
    });
    expect(code).toBe(3);
    expect(out).toMatch(/dropped, not updated\s+1/);
    expect(out).toContain('1 user(s) the User Service no longer held when patched');
  });

  it('--apply does not create a user Cognito says is gone, though a lagging ListUsers still lists them', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [poolUser(SUB_A)] });

    const { out } = await run(
      '--user-pool-id',
      POOL,
      '--apply',
      '--slices',
      '1',
      '--report',
      join(dir, 'lagging.json'),
    );

    expect(service.users.has(SUB_A)).toBe(false);
    expect(out).toMatch(/gone, not created\s+1/);
    expect((await report('lagging.json')).counts).toMatchObject({ missing: 1, created: 0, gone: 1 });
  });
});
