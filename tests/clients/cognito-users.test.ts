// The users of a pool as Cognito gives them, Cognito mocked at the SDK (aws-sdk-client-mock).

import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
  type UserStatusType,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { findUserBySub, listUserPages, regionOfUserPool } from '../../src/clients/cognito-users.js';
import { ListLoopError } from '../../src/clients/list-guard.js';
import { createPacer } from '../../src/clients/pacer.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const cognito = mockClient(CognitoIdentityProviderClient);
const client = new CognitoIdentityProviderClient({ region: 'eu-west-1' });
/** No waiting between calls: the tests count calls, not seconds. */
const fast = () => createPacer({ maxRps: 1_000_000 });

/** A user as ListUsers lists one. */
const listed = (n: number, status: UserStatusType = 'CONFIRMED'): UserType => ({
  Username: `user-${n}`,
  UserStatus: status,
  Enabled: true,
  Attributes: [{ Name: 'sub', Value: `sub-${n}` }],
});

/** ListUsers answering `page(n)` for its n-th call; past 50 calls it fails, so a listing that does not end fails the test rather than hang it. */
const answering = (page: (n: number) => { Users: UserType[]; PaginationToken?: string }) => {
  let n = 0;
  cognito.on(ListUsersCommand).callsFake(async () => {
    n += 1;
    if (n > 50) throw new Error('ListUsers was called 50 times: the listing does not end');
    return page(n);
  });
};

/** Every page of a listing, or what it threw. */
const drain = async (pages: AsyncIterable<unknown>): Promise<{ pages: number; error?: unknown }> => {
  let count = 0;
  try {
    for await (const _ of pages) count += 1;
  } catch (error) {
    return { pages: count, error };
  }
  return { pages: count };
};

beforeEach(() => {
  cognito.reset();
});

describe('regionOfUserPool', () => {
  it.each([
    ['eu-west-1_Qx7Lm2Rt9', 'eu-west-1'],
    ['eusc-de-east-1_AbC123', 'eusc-de-east-1'],
    ['us-gov-west-1_AbC123', 'us-gov-west-1'],
    ['cn-north-1_AbC123', 'cn-north-1'],
    ['us-iso-east-1_AbC123', 'us-iso-east-1'],
    ['us-isob-east-1_AbC123', 'us-isob-east-1'],
  ])('gives the region of %s: %s', (userPoolId, region) => {
    expect(regionOfUserPool(userPoolId)).toBe(region);
  });

  it.each(['Qx7Lm2Rt9', 'eu-west-1_', 'eu-west-1_Qx7-Lm2', `eu-west-1_${'a'.repeat(46)}`])(
    'gives no region for %s, which is no pool id',
    (userPoolId) => {
      expect(regionOfUserPool(userPoolId)).toBeUndefined();
    },
  );
});

describe('listUserPages', () => {
  it('reads every page until ListUsers gives no PaginationToken', async () => {
    cognito
      .on(ListUsersCommand)
      .resolvesOnce({ Users: [listed(1), listed(2)], PaginationToken: 't1' })
      .resolvesOnce({ Users: [listed(3)], PaginationToken: 't2' })
      .resolvesOnce({ Users: [listed(4)] });

    const subs: string[] = [];
    for await (const page of listUserPages(client, POOL, { pacer: fast() }))
      subs.push(...page.users.map((user) => user.sub));

    expect(subs).toEqual(['sub-1', 'sub-2', 'sub-3', 'sub-4']);
    expect(cognito.commandCalls(ListUsersCommand).map((call) => call.args[0].input.PaginationToken)).toEqual([
      undefined,
      't1',
      't2',
    ]);
  });

  it('throws a ListLoopError when ListUsers answers the same PaginationToken forever, after two calls', async () => {
    answering((n) => ({ Users: [listed(n)], PaginationToken: 'the-same-token' }));

    const { pages, error } = await drain(listUserPages(client, POOL, { pacer: fast() }));

    expect(error).toBeInstanceOf(ListLoopError);
    expect((error as Error).message).toMatch(/ListUsers.*repeat/);
    expect(pages).toBe(1);
    expect(cognito.commandCalls(ListUsersCommand)).toHaveLength(2);
  });

  it('throws a ListLoopError when ListUsers gives the same page again under a new token', async () => {
    answering((n) => ({ Users: [listed(1), listed(2)], PaginationToken: `token-${n}` }));

    const { pages, error } = await drain(listUserPages(client, POOL, { pacer: fast() }));

    expect(error).toBeInstanceOf(ListLoopError);
    expect(pages).toBe(1);
    expect(cognito.commandCalls(ListUsersCommand)).toHaveLength(2);
  });

  it('throws a ListLoopError when pages cycle (A, B, A…) under fresh tokens, at the third page', async () => {
    answering((n) => ({
      Users: n % 2 === 1 ? [listed(1), listed(2)] : [listed(3), listed(4)],
      PaginationToken: `token-${n}`,
    }));

    const { pages, error } = await drain(listUserPages(client, POOL, { pacer: fast() }));

    expect(error).toBeInstanceOf(ListLoopError);
    expect(pages).toBe(2);
    expect(cognito.commandCalls(ListUsersCommand)).toHaveLength(3);
  });

  it('throws a ListLoopError past maxPages, when every page is new and none is the last', async () => {
    answering((n) => ({ Users: [listed(n)], PaginationToken: `token-${n}` }));

    const { pages, error } = await drain(listUserPages(client, POOL, { pacer: fast(), maxPages: 5 }));

    expect(error).toBeInstanceOf(ListLoopError);
    expect((error as Error).message).toMatch(/more than 5 pages/);
    expect(pages).toBe(4);
    expect(cognito.commandCalls(ListUsersCommand)).toHaveLength(5);
  });
});

describe('findUserBySub', () => {
  const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
  const userNotFound = () =>
    Object.assign(new Error('User does not exist.'), { name: 'UserNotFoundException' });
  /** A user with Ada's sub, as ListUsers lists one. */
  const adaListed = (status: UserStatusType): UserType => ({
    Username: status === 'EXTERNAL_PROVIDER' ? 'google_1234567890' : 'ada',
    UserStatus: status,
    Enabled: true,
    UserLastModifiedDate: new Date('2026-11-26T10:00:00.000Z'),
    Attributes: [
      { Name: 'sub', Value: SUB },
      { Name: 'email', Value: 'ada.lovelace@example.com' },
    ],
  });
  const find = () => findUserBySub(client, POOL, SUB, { pacer: fast(), listPacer: fast() });

  it('gives the local user AdminGetUser finds by its sub, without listing', async () => {
    const { Attributes, ...ada } = adaListed('CONFIRMED');
    cognito.on(AdminGetUserCommand).resolves({ ...ada, Username: 'ada', UserAttributes: Attributes });

    const user = await find();

    expect(user).toMatchObject({ username: 'ada', sub: SUB, status: 'CONFIRMED' });
    expect(cognito.commandCalls(ListUsersCommand)).toHaveLength(0);
  });

  it('gives a federated user ListUsers finds by its sub when AdminGetUser does not know the sub', async () => {
    cognito.on(AdminGetUserCommand).rejects(userNotFound());
    cognito.on(ListUsersCommand).resolves({ Users: [adaListed('EXTERNAL_PROVIDER')] });

    const user = await find();

    expect(user).toMatchObject({ username: 'google_1234567890', sub: SUB, status: 'EXTERNAL_PROVIDER' });
    expect(cognito.commandCalls(ListUsersCommand)[0]?.args[0].input).toMatchObject({
      UserPoolId: POOL,
      Filter: `sub = "${SUB}"`,
    });
  });

  it.each(['CONFIRMED', 'FORCE_CHANGE_PASSWORD', 'UNCONFIRMED', 'RESET_REQUIRED'] as const)(
    'gives no user when AdminGetUser says the local user is gone and a stale ListUsers still shows it (%s)',
    async (status) => {
      cognito.on(AdminGetUserCommand).rejects(userNotFound());
      cognito.on(ListUsersCommand).resolves({ Users: [adaListed(status)] });

      expect(await find()).toBeUndefined();
    },
  );

  it('gives no user when neither AdminGetUser nor ListUsers has the sub', async () => {
    cognito.on(AdminGetUserCommand).rejects(userNotFound());
    cognito.on(ListUsersCommand).resolves({ Users: [] });

    expect(await find()).toBeUndefined();
  });
});
