// Backfill against a moto user pool of 250 users in every status, into the dev User Service.

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { motoControl } from '../../scripts/moto.mjs';
import { main } from '../../src/cli/main.js';
import { mapConcurrent } from '../../src/core/concurrency.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { forwardTo, reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { moto, useMoto } from './aws.js';

const DEFAULTS = { status: 'ACTIVE', role: 'USER' };
const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface PoolUser {
  username: string;
  sub: string;
  status: 'CONFIRMED' | 'UNCONFIRMED' | 'FORCE_CHANGE_PASSWORD' | 'EXTERNAL_PROVIDER';
  attributes: Record<string, string>;
}

const cognito = () => new CognitoIdentityProviderClient({ region: 'eu-west-1' });

/** 120 confirmed, 40 unconfirmed, 30 never signed in, 60 federated: 250 users. */
const createPool = async (): Promise<{ userPoolId: string; users: PoolUser[] }> => {
  const client = cognito();
  const { UserPool } = await client.send(new CreateUserPoolCommand({ PoolName: 'backfill' }));
  const userPoolId = UserPool?.Id ?? '';
  const { UserPoolClient } = await client.send(
    new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: 'app' }),
  );
  const plan: PoolUser['status'][] = [
    ...Array<PoolUser['status']>(120).fill('CONFIRMED'),
    ...Array<PoolUser['status']>(40).fill('UNCONFIRMED'),
    ...Array<PoolUser['status']>(30).fill('FORCE_CHANGE_PASSWORD'),
    ...Array<PoolUser['status']>(60).fill('EXTERNAL_PROVIDER'),
  ];
  const users = await mapConcurrent(plan, 8, async (status, n): Promise<PoolUser> => {
    const username = status === 'EXTERNAL_PROVIDER' ? `google_${100000 + n}` : `user${n}@example.com`;
    const attributes: Record<string, string> =
      n % 3 === 0
        ? { email: `user${n}@example.com`, name: `User ${n}` }
        : { email: `user${n}@example.com`, given_name: `Given${n}`, family_name: `Family${n}` };
    const UserAttributes = Object.entries(attributes).map(([Name, Value]) => ({ Name, Value }));
    if (status === 'UNCONFIRMED') {
      const { UserSub } = await client.send(
        new SignUpCommand({
          ClientId: UserPoolClient?.ClientId,
          Username: username,
          Password: 'Passw0rd!x',
          UserAttributes,
        }),
      );
      return { username, sub: UserSub ?? '', status, attributes };
    }
    const { User } = await client.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: username,
        UserAttributes,
        MessageAction: 'SUPPRESS',
      }),
    );
    const sub = User?.Attributes?.find(({ Name }) => Name === 'sub')?.Value ?? '';
    if (status === 'CONFIRMED') {
      await client.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: userPoolId,
          Username: username,
          Password: 'Passw0rd!x',
          Permanent: true,
        }),
      );
    }
    if (status === 'EXTERNAL_PROVIDER') {
      await motoControl(moto().controlEndpoint, { op: 'set-user-status', userPoolId, username, status });
    }
    return { username, sub, status, attributes };
  });
  return { userPoolId, users };
};

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['backfill', ...argv], {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

const readReport = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

describe('backfill from a Cognito user pool', () => {
  let userPoolId: string;
  let users: PoolUser[];
  let dir: string;
  let service: DevUserService;
  let gate: ScriptedServer | undefined;
  // The default user policy: everyone but the unconfirmed (invited users are users).
  const synced = () => users.filter((user) => user.status !== 'UNCONFIRMED');
  const posts = () => service.requests.filter((request) => request.method === 'POST');

  beforeAll(async () => {
    useMoto();
    ({ userPoolId, users } = await createPool());
    dir = await mkdtemp(join(tmpdir(), 'backfill-'));
    // Signed, as in production: every 201 below is a request whose signature verified.
    service = await startDevUserService({ signingSecrets: [SIGNING_SECRET] });
    vi.stubEnv('USER_SERVICE_URL', service.url);
    vi.stubEnv('USER_SERVICE_SIGNING_SECRET', SIGNING_SECRET);
    // 25 of the confirmed users made it to the User Service before the trigger existed.
    for (const user of synced().slice(0, 25)) {
      service.users.set(user.sub, {
        ...toUserRecord(user.sub, user.attributes, DEFAULTS),
        createdAt: '2025-01-01T00:00:00.000Z',
        idempotencyKey: 'legacy',
      });
    }
  }, 300_000);
  afterEach(async () => {
    await gate?.close();
    gate = undefined;
  });

  it('sends nothing in a dry run', async () => {
    const report = join(dir, 'dry-run.json');

    const { code } = await run('--user-pool-id', userPoolId, '--dry-run', '--report', report);

    expect(code).toBe(0);
    expect(posts()).toEqual([]);
    expect((await readReport(report)).counts).toMatchObject({ seen: 250, wouldSend: 210, skipped: 40 });
  });

  it('creates exactly the missing confirmed, invited and federated users, page by page, and skips the rest', async () => {
    const report = join(dir, 'first.json');

    const { code, out } = await run('--user-pool-id', userPoolId, '--report', report);

    expect(code).toBe(0);
    expect(await readReport(report)).toMatchObject({
      complete: true,
      pages: 5, // 250 users, 60 a page
      resumeToken: null,
      counts: { seen: 250, created: 185, exists: 25, skipped: 40, failed: 0 },
      failures: [],
    });
    expect(out).toMatch(/created\s+185/);
    expect([...service.users.keys()].sort()).toEqual(
      synced()
        .map((user) => user.sub)
        .sort(),
    );
    expect(posts().filter((request) => request.status === 201)).toHaveLength(185);
    // Mapped exactly as the trigger maps them, with the trigger's idempotency key.
    const federated = users.find((user) => user.status === 'EXTERNAL_PROVIDER');
    const sent = posts().find((request) => JSON.parse(request.body).cognitoSub === federated?.sub);
    expect(JSON.parse(sent?.body ?? '')).toEqual({
      ...toUserRecord(federated?.sub ?? '', federated?.attributes ?? {}, DEFAULTS),
      cognitoLastModified: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(sent?.headers['idempotency-key']).toBe(idempotencyKey(userPoolId, federated?.sub ?? ''));
  });

  it('creates nothing on a second run', async () => {
    const report = join(dir, 'second.json');
    const before = service.users.size;

    const { code } = await run('--user-pool-id', userPoolId, '--report', report);

    expect(code).toBe(0);
    expect((await readReport(report)).counts).toMatchObject({ created: 0, exists: 210, failed: 0 });
    expect(service.users.size).toBe(before);
  });

  it('exits non-zero when the User Service fails some users, lists them, and syncs everyone else', async () => {
    const fresh = await startDevUserService();
    const failing = new Set(
      synced()
        .slice(40, 47)
        .map((user) => user.sub),
    );
    gate = await startScriptedServer([
      (request, response, n) =>
        failing.has((request.json as { cognitoSub: string }).cognitoSub)
          ? reply(422, { error: 'unprocessable' })(request, response, n)
          : forwardTo(fresh.url)(request, response, n),
    ]);
    vi.stubEnv('USER_SERVICE_URL', gate.url);
    const report = join(dir, 'failing.json');

    const { code } = await run('--user-pool-id', userPoolId, '--report', report, '--concurrency', '16');

    expect(code).toBe(1);
    const written = await readReport(report);
    expect(written.counts).toMatchObject({ created: 203, failed: 7 });
    expect(written.failures.map((failure: { cognitoSub: string }) => failure.cognitoSub).sort()).toEqual(
      [...failing].sort(),
    );
    expect(written.failures[0]).toMatchObject({ reason: 'http-422', httpStatus: 422 });
    expect(fresh.users.size).toBe(203);
    await fresh.close();
    vi.stubEnv('USER_SERVICE_URL', service.url);
  });

  it('rejects bad flags with a usage error', async () => {
    expect((await run('--user-pool-id', userPoolId, '--concurrency', 'lots')).code).toBe(2);
    expect((await run('--user-pool-id', userPoolId, '--status', 'CONFIRMED,SLEEPING')).code).toBe(2);
    expect((await run()).code).toBe(2);
  });
});
