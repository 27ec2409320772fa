// backfill's flags and its report, with Cognito mocked at the SDK and the dev User Service on
// loopback: a flag is checked by the parser of its kind, and a run resumed from its report keeps
// the limits it was started with (as reconcile's does), unless a flag is given again, and says so.

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
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const cognito = mockClient(CognitoIdentityProviderClient);

const poolUser = (n: number, status: UserStatusType = 'CONFIRMED') => ({
  Username: `user${n}`,
  UserStatus: status,
  Enabled: true,
  Attributes: [
    { Name: 'sub', Value: `3c5a1e0f-7b2d-4e8a-9f61-00000000000${n}` },
    { Name: 'email', Value: `user${n}@example.com` },
  ],
});

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['backfill', ...argv], {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

/** An earlier run's report, stopped after its first page. */
const earlierReport = (fields: Record<string, unknown> = {}) => ({
  command: 'backfill',
  version: '0.2.0',
  userPoolId: POOL,
  dryRun: false,
  statuses: ['CONFIRMED'],
  concurrency: 3,
  maxRps: 7,
  maxFailures: 9,
  complete: false,
  stoppedBy: 'interrupted',
  pages: 1,
  resumeToken: 'page-2',
  counts: { seen: 1, created: 1, exists: 0, skipped: 0, failed: 0, wouldSend: 0 },
  failures: [],
  ...fields,
});

describe('backfill', () => {
  let service: DevUserService;
  let dir: string;

  beforeEach(async () => {
    cognito.reset();
    cognito.on(DescribeUserPoolCommand).resolves({ UserPool: { EstimatedNumberOfUsers: 3 } });
    cognito.on(ListUsersCommand).resolves({ Users: [poolUser(2), poolUser(3, 'UNCONFIRMED')] });
    service = await startDevUserService({ apiKeys: ['backfill-key'] });
    dir = await mkdtemp(join(tmpdir(), 'backfill-cli-'));
    for (const [name, value] of Object.entries({
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      USER_SERVICE_URL: service.url,
      USER_SERVICE_API_KEY: 'backfill-key',
    })) {
      vi.stubEnv(name, value);
    }
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await service.close();
  });

  it.each([
    [['--concurrency', 'lots'], '--concurrency must be a whole number between 1 and 64, got "lots"'],
    [['--max-rps', '30'], '--max-rps must be a number of ListUsers requests a second between 0.2 and 25'],
    [['--status', 'CONFIRMED,SLEEPING'], '--status must list Cognito user statuses'],
    [['--max-failures', '1.5'], '--max-failures must be a whole number, at least 0, got "1.5"'],
  ])('%j: a usage error in the words of the parser the variables use too', async (flags, message) => {
    const { code, err } = await run('--user-pool-id', POOL, ...flags);

    expect(code).toBe(2);
    expect(err).toContain(`cognito-user-sync: ${message}`);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('refuses a pool id that is none, as USER_POOL_ID is refused', async () => {
    const { code, err } = await run('--user-pool-id', 'Qx7Lm2Rt9');

    expect(code).toBe(2);
    expect(err).toMatch(/^cognito-user-sync: --user-pool-id is not a user pool id \(region_id/);
  });

  it('--from-report sends again only the failed users Cognito still has: one deleted since is not created, and counted apart', async () => {
    const kept = poolUser(4);
    const keptSub = kept.Attributes[0]?.Value ?? '';
    const deletedSub = '3c5a1e0f-7b2d-4e8a-9f61-000000000009';
    cognito
      .on(AdminGetUserCommand, { Username: keptSub })
      .resolves({ ...kept, UserAttributes: kept.Attributes });
    cognito
      .on(AdminGetUserCommand, { Username: deletedSub })
      .rejects(Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException' }));
    cognito.on(ListUsersCommand, { Filter: `sub = "${deletedSub}"` }).resolves({ Users: [] });
    const path = join(dir, 'failed.json');
    await writeFile(
      path,
      JSON.stringify(
        earlierReport({
          complete: true,
          failures: [
            { cognitoSub: keptSub, reason: 'http-503' },
            { cognitoSub: deletedSub, reason: 'http-503' },
          ],
        }),
      ),
    );

    const { code, out } = await run('--from-report', path, '--report', join(dir, 'again.json'));

    expect(code).toBe(0);
    expect(service.users.has(keptSub)).toBe(true);
    expect(service.users.has(deletedSub)).toBe(false);
    expect(out).toMatch(/gone, not created\s+1/);
    expect(JSON.parse(await readFile(join(dir, 'again.json'), 'utf8')).counts).toMatchObject({
      created: 1,
      gone: 1,
    });
  });

  it('writes the limits it ran with into its report', async () => {
    const path = join(dir, 'first.json');

    const { code } = await run(
      '--user-pool-id',
      POOL,
      '--concurrency',
      '2',
      '--max-rps',
      '9',
      '--report',
      path,
    );

    expect(code).toBe(0);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({
      complete: true,
      concurrency: 2,
      maxRps: 9,
      maxFailures: 500,
      dryRun: false,
      statuses: ['CONFIRMED', 'EXTERNAL_PROVIDER', 'FORCE_CHANGE_PASSWORD', 'RESET_REQUIRED'],
      counts: { seen: 2, created: 1, skipped: 1 },
    });
  });

  it("--resume-from keeps the report's limits and page, a flag given again overrides one, and it says which hold", async () => {
    const earlier = join(dir, 'earlier.json');
    await writeFile(earlier, JSON.stringify(earlierReport()));
    const path = join(dir, 'resumed.json');

    const { code, out } = await run('--resume-from', earlier, '--max-rps', '20', '--report', path);

    expect(code).toBe(0);
    expect(out).toContain(`Resuming ${earlier}; the run's limits:`);
    for (const line of [
      '  --status CONFIRMED (from the report)',
      '  --dry-run off (from the report)',
      '  --concurrency 3 (from the report)',
      "  --max-rps 20 (given: overrides the report's 7)",
      '  --max-failures 9 (from the report)',
    ]) {
      expect(out.split('\n')).toContain(line);
    }
    expect(cognito.commandCalls(ListUsersCommand)[0]?.args[0].input).toMatchObject({
      UserPoolId: POOL,
      PaginationToken: 'page-2',
    });
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({
      resumedFrom: earlier,
      complete: true,
      statuses: ['CONFIRMED'],
      concurrency: 3,
      maxRps: 20,
      maxFailures: 9,
      counts: { seen: 3, created: 2, skipped: 1 },
    });
  });

  it('refuses to resume a report a running backfill holds, naming the pid and the lock file', async () => {
    const earlier = join(dir, 'held.json');
    await writeFile(earlier, JSON.stringify(earlierReport()));
    await writeFile(
      `${earlier}.lock`,
      JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }),
    );

    const { code, err } = await run('--resume-from', earlier);

    expect(code).toBe(1);
    expect(err).toContain(`${earlier}.lock`);
    expect(err).toContain(`pid ${process.ppid}`);
    expect(cognito.calls()).toHaveLength(0);
  });

  it.each([
    ['concurrency', { concurrency: 5000 }, 'between 1 and 64'],
    ['maxRps', { maxRps: 100 }, 'between 0.2 and 25'],
    ['maxFailures', { maxFailures: -1 }, 'must be a whole number, at least 0'],
    ['statuses', { statuses: ['CONFIRMED', 'NOPE'] }, 'must list Cognito user statuses'],
    ['dryRun', { dryRun: 'no' }, 'must be true or false'],
  ])(
    "refuses a report whose %s is out of the flag's bounds (exit 2), naming the field",
    async (field, fields, says) => {
      const earlier = join(dir, 'tampered.json');
      await writeFile(earlier, JSON.stringify(earlierReport(fields)));

      const { code, err } = await run('--resume-from', earlier);

      expect(code).toBe(2);
      expect(err).toContain(`--resume-from ${earlier}: the report's ${field}`);
      expect(err).toContain(says);
      expect(cognito.calls()).toHaveLength(0);
    },
  );

  it('a dry run resumed stays a dry run', async () => {
    const earlier = join(dir, 'dry.json');
    await writeFile(earlier, JSON.stringify(earlierReport({ dryRun: true })));

    const { code, out } = await run('--resume-from', earlier, '--report', join(dir, 'dry-resumed.json'));

    expect(code).toBe(0);
    expect(out.split('\n')).toContain('  --dry-run on (from the report)');
    expect(service.requests).toEqual([]);
  });

  it.each([
    [
      'another pool',
      earlierReport(),
      ['--user-pool-id', 'eu-west-1_Other0000'],
      /is not the pool of the report/,
    ],
    ['no JSON', 'not json', [], /--resume-from .*: not a JSON report/],
    ['a reconcile report', earlierReport({ command: 'reconcile' }), [], /is not a backfill report/],
  ])('refuses to resume from %s', async (_, content, flags, message) => {
    const earlier = join(dir, 'bad.json');
    await writeFile(earlier, typeof content === 'string' ? content : JSON.stringify(content));

    const { code, err } = await run('--resume-from', earlier, ...flags);

    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});
