// The two sides of a reconcile, paged: ListUsers with the slice's sub filter (Cognito mocked at the
// SDK), the User Service's list by cursor and prefix (a real loopback server).

import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ListLoopError } from '../../src/clients/list-guard.js';
import { createPacer } from '../../src/clients/pacer.js';
import { createUserServiceClient } from '../../src/clients/user-service.js';
import { readUserPolicy } from '../../src/config.js';
import { reconcileSources, ServiceListError, sliceThePool } from '../../src/core/reconcile-sources.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const cognitoMock = mockClient(CognitoIdentityProviderClient);
const user = (sub: string) => ({
  Username: sub,
  UserStatus: 'CONFIRMED' as const,
  Enabled: true,
  Attributes: [
    { Name: 'sub', Value: sub },
    { Name: 'email', Value: `${sub}@example.com` },
  ],
});
const listed = (sub: string) => ({
  cognitoSub: sub,
  email: null,
  fullName: null,
  status: 'ACTIVE',
  cognitoLastModified: null,
});

describe('reconcileSources', () => {
  let server: ScriptedServer | undefined;

  beforeEach(() => cognitoMock.reset());
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const sources = (url = 'http://127.0.0.1:1/api/v1/users') =>
    reconcileSources({
      cognito: new CognitoIdentityProviderClient({ region: 'eu-west-1' }),
      userPoolId: POOL,
      userService: createUserServiceClient({ url: new URL(url), baseBackoffMs: 1 }),
      credentials: { apiKey: 'k' },
      policy: readUserPolicy({}),
      listPacer: createPacer({ maxRps: 1000 }),
      getPacer: createPacer({ maxRps: 1000 }),
    });

  it("pages through the pool's slice with its sub filter, and keeps only exact prefix matches", async () => {
    cognitoMock
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [user('a1'), user('a2')], PaginationToken: 't1' })
      .resolvesOnce({ Users: [user('a3'), user('b9')], PaginationToken: '' });

    const users = await sources().listPool('a');

    expect(users.map((poolUser) => poolUser.sub)).toEqual(['a1', 'a2', 'a3']);
    expect(cognitoMock.commandCalls(ListUsersCommand).map((call) => call.args[0].input)).toEqual([
      { UserPoolId: POOL, Limit: 60, PaginationToken: undefined, Filter: 'sub ^= "a"' },
      { UserPoolId: POOL, Limit: 60, PaginationToken: 't1', Filter: 'sub ^= "a"' },
    ]);
  });

  it('lists the whole pool, unfiltered, for the single slice', async () => {
    cognitoMock.on(ListUsersCommand).resolves({ Users: [user('x')] });

    await sources().listPool('');

    expect(cognitoMock.commandCalls(ListUsersCommand)[0]?.args[0].input.Filter).toBeUndefined();
  });

  it("pages through the service's slice by cursor, a full last page included, with nothing twice", async () => {
    server = await startScriptedServer([
      reply(200, { users: [listed('a1'), listed('a2')], nextCursor: 'c1' }),
      reply(200, { users: [listed('a3'), listed('a4')], nextCursor: null }),
    ]);

    const users = await sources(server.url).listService('a');

    expect(users.map((held) => held.cognitoSub)).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(server.requests.map((request) => request.path)).toEqual([
      '/api/v1/users?limit=1000&prefix=a',
      '/api/v1/users?limit=1000&cursor=c1&prefix=a',
    ]);
  });

  it('fails the slice when the service list does not answer as the contract says', async () => {
    server = await startScriptedServer([reply(200, '<html>proxy</html>', { 'content-type': 'text/html' })]);

    await expect(sources(server.url).listService('a')).rejects.toThrow(ServiceListError);
  });

  it('looks a deletion candidate up with AdminGetUser, then ListUsers for a federated user', async () => {
    cognitoMock
      .on(AdminGetUserCommand)
      .rejects(Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException' }));
    cognitoMock
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [{ ...user('fed-1'), UserStatus: 'EXTERNAL_PROVIDER' }] })
      .resolves({ Users: [] });

    await expect(sources().lookup('fed-1')).resolves.toMatchObject({ sub: 'fed-1' });
    await expect(sources().lookup('gone-1')).resolves.toBeUndefined();
    expect(cognitoMock.commandCalls(ListUsersCommand)[0]?.args[0].input.Filter).toBe('sub = "fed-1"');
  });

  it('ends a service list that hands back a cursor it gave before, naming the loop, after two pages', async () => {
    server = await startScriptedServer([
      reply(200, { users: [listed('a1')], nextCursor: 'again' }),
      reply(200, { users: [listed('a2')], nextCursor: 'again' }),
      ...Array.from({ length: 20 }, () => reply(200, { users: [listed('a3')], nextCursor: 'again' })),
    ]);

    await expect(sources(server.url).listService('a')).rejects.toThrow(ListLoopError);
    expect(server.requests).toHaveLength(2);
  });

  it('ends a service list that gives the same page again', async () => {
    server = await startScriptedServer([
      reply(200, { users: [listed('a1'), listed('a2')], nextCursor: 'c1' }),
      reply(200, { users: [listed('a1'), listed('a2')], nextCursor: 'c2' }),
      reply(200, { users: [], nextCursor: null }),
    ]);

    await expect(sources(server.url).listService('a')).rejects.toThrow(/does not go past page 1/);
  });

  it('ends a service list of empty pages that each hand on a new cursor', async () => {
    server = await startScriptedServer(
      Array.from({ length: 30 }, (_, n) => reply(200, { users: [], nextCursor: `c${n}` })),
    );

    await expect(sources(server.url).listService('a')).rejects.toThrow(/10 empty pages in a row/);
    expect(server.requests).toHaveLength(10);
  });
});

describe('sliceThePool', () => {
  const cognito = new CognitoIdentityProviderClient({ region: 'eu-west-1' });
  const noWait = { sleep: async () => undefined };
  const failing = (name: string) => Object.assign(new Error(name), { name });

  beforeEach(() => cognitoMock.reset());

  it("slices the pool from Cognito's estimate of its size", async () => {
    cognitoMock.on(DescribeUserPoolCommand).resolves({ UserPool: { EstimatedNumberOfUsers: 2_000_000 } });

    await expect(sliceThePool(cognito, POOL, noWait)).resolves.toEqual({
      sliceDigits: 2,
      estimate: 2_000_000,
    });
  });

  it('asks again, with backoff, after a throttle', async () => {
    const waits: number[] = [];
    cognitoMock
      .on(DescribeUserPoolCommand)
      .rejectsOnce(failing('TooManyRequestsException'))
      .rejectsOnce(failing('TooManyRequestsException'))
      .resolves({ UserPool: { EstimatedNumberOfUsers: 500 } });

    const slicing = await sliceThePool(cognito, POOL, { sleep: async (ms) => void waits.push(ms) });

    expect(slicing).toEqual({ sliceDigits: 0, estimate: 500 });
    expect(waits).toEqual([1000, 2000]);
  });

  it('never makes one slice of a pool whose size cannot be read: the finest slicing, and why', async () => {
    // A permissions boundary without cognito-idp:DescribeUserPool, say.
    cognitoMock.on(DescribeUserPoolCommand).rejects(failing('AccessDeniedException'));

    const slicing = await sliceThePool(cognito, POOL, noWait);

    expect(slicing).toEqual({ sliceDigits: 3, estimate: undefined, unknownBecause: 'AccessDeniedException' });
    expect(cognitoMock.commandCalls(DescribeUserPoolCommand)).toHaveLength(4);
  });

  it('fails at once for a pool that does not exist', async () => {
    cognitoMock.on(DescribeUserPoolCommand).rejects(failing('ResourceNotFoundException'));

    await expect(sliceThePool(cognito, POOL, noWait)).rejects.toThrow('ResourceNotFoundException');
    expect(cognitoMock.commandCalls(DescribeUserPoolCommand)).toHaveLength(1);
  });
});
