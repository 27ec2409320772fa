// The users of a Cognito user pool: page by page (ListUsers, at most 60 a page), one by its sub
// (AdminGetUser, then ListUsers for a federated user), always paced under the pool's quotas and
// never failing for a throttle: TooManyRequestsException slows the pacer down and the call is made
// again.

import {
  AdminGetUserCommand,
  type AttributeType,
  type CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  ListUsersCommand,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import type { PoolUser } from '../domain/pool-user.js';
import { parseUserPoolId } from '../domain/user-pool-id.js';
import { listGuard } from './list-guard.js';
import { createPacer, type Pacer } from './pacer.js';

export interface UserPage {
  users: PoolUser[];
  /** Users Cognito listed without a sub: they cannot be synced (Cognito always gives one). */
  withoutSub: number;
  /** Users looked up by sub that the pool no longer has. */
  gone?: number;
  /** The token that fetches the page after this one; undefined on the last page. */
  nextToken: string | undefined;
}

/** ListUsers' largest page (API reference: Limit, "Maximum value of 60"). */
export const PAGE_SIZE = 60;

/** A pool's id starts with its region: eu-west-1_Qx7Lm2Rt9; undefined when the value is no pool id. */
export const regionOfUserPool = (userPoolId: string): string | undefined =>
  parseUserPoolId(userPoolId)?.region;

const attributesOf = (attributes: AttributeType[] | undefined): Record<string, string> =>
  Object.fromEntries(
    (attributes ?? []).flatMap(({ Name, Value }) =>
      Name !== undefined && Value !== undefined ? [[Name, Value]] : [],
    ),
  );

/** A user as Cognito answered, or undefined when it has no sub (it cannot be synced). */
export const poolUserOf = (user: {
  Username?: string | undefined;
  UserStatus?: string | undefined;
  Enabled?: boolean | undefined;
  UserLastModifiedDate?: Date | undefined;
  Attributes?: AttributeType[] | undefined;
}): PoolUser | undefined => {
  const attributes = attributesOf(user.Attributes);
  const sub = attributes.sub;
  if (!sub) return undefined;
  return {
    username: user.Username ?? '',
    sub,
    status: user.UserStatus,
    // ListUsers and AdminGetUser say Enabled; a user without the flag was never disabled.
    enabled: user.Enabled !== false,
    attributes,
    lastModified: user.UserLastModifiedDate?.toISOString(),
  };
};

/** Whether AWS throttled the call: Cognito's TooManyRequestsException (and the SDK's own name). */
export const isThrottle = (error: unknown): boolean =>
  error instanceof Error && ['TooManyRequestsException', 'ThrottlingException'].includes(error.name);

/**
 * Makes a Cognito call at the pacer's rate; a throttle slows the pacer and makes it again, as
 * often as it takes (a run never fails for a throttle). Other errors are the caller's.
 */
export const paced = async <T>(
  pacer: Pacer,
  call: () => Promise<T>,
  signal?: AbortSignal,
  /** Throttles taken before one is the caller's (a worker defers rather than wait); by default, every one. */
  throttleRetries = Number.POSITIVE_INFINITY,
): Promise<T> => {
  for (let throttles = 0; ; ) {
    await pacer.wait(signal);
    try {
      const result = await call();
      pacer.succeeded();
      return result;
    } catch (error) {
      if (!isThrottle(error) || signal?.aborted || throttles++ >= throttleRetries) throw error;
      pacer.throttled();
    }
  }
};

/**
 * The pages a listing may take before it is called a loop. Cognito's quota is 40,000,000 users per
 * user pool by default, adjustable (Amazon Cognito Developer Guide, "Quotas in Amazon Cognito",
 * Quotas on resource number and size: "Users per user pool"): 666,667 full pages of 60. A filtered
 * listing can give shorter pages, and a pool can be granted more, so half as much again: a million
 * pages, which at the listing's 5 calls a second is more than two days of listing.
 */
export const MAX_LIST_PAGES = 1_000_000;

export interface ListOptions {
  startToken?: string | undefined;
  /** ListUsers' filter, e.g. `sub ^= "3c"`. */
  filter?: string | undefined;
  pacer?: Pacer;
  /** Aborts the page in flight (Ctrl-C, SIGTERM). */
  signal?: AbortSignal;
  /** More pages than this is a ListLoopError; by default MAX_LIST_PAGES. */
  maxPages?: number;
}

/**
 * The pool's users, page by page. A PaginationToken that repeats one given before, or the same
 * page again, is a ListLoopError before the page is yielded: the listing would never end.
 */
export async function* listUserPages(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  {
    startToken,
    filter,
    pacer = createPacer({ maxRps: 5 }),
    signal,
    maxPages = MAX_LIST_PAGES,
  }: ListOptions = {},
): AsyncGenerator<UserPage> {
  // ListUsers promises no order: a page is checked against the one before, not for going forward.
  const guard = listGuard({ what: `ListUsers${filter === undefined ? '' : ` (${filter})`}`, maxPages });
  let token = startToken;
  do {
    const page = await paced(
      pacer,
      () =>
        client.send(
          new ListUsersCommand({
            UserPoolId: userPoolId,
            Limit: PAGE_SIZE,
            PaginationToken: token,
            ...(filter !== undefined && { Filter: filter }),
          }),
          signal ? { abortSignal: signal } : {},
        ),
      signal,
    );
    token = page.PaginationToken || undefined;
    // Usernames are unique in a pool, and every listed user has one.
    guard.page(
      token,
      (page.Users ?? []).map((user) => user.Username ?? ''),
    );
    const listed = (page.Users ?? []).map(poolUserOf);
    const users = listed.filter((user): user is PoolUser => user !== undefined);
    yield { users, withoutSub: listed.length - users.length, nextToken: token };
  } while (token);
}

/** The UserStatus of a user who signed in with a third-party IdP (API reference, UserType). */
const FEDERATED = 'EXTERNAL_PROVIDER';

/** A ListUsers filter value: quotation marks and backslashes escaped, as the API reference asks. */
const quoted = (value: string) => `"${value.replace(/["\\]/g, (char) => `\\${char}`)}"`;

/** ListUsers' filter for the users whose sub starts with `prefix` (the API's `^=`). */
export const subPrefixFilter = (prefix: string): string | undefined =>
  prefix === '' ? undefined : `sub ^= ${quoted(prefix)}`;

/**
 * How long after a user is created ListUsers is taken to list them. AWS says only that the listing
 * lags (API reference, ListUsers: "This operation is eventually consistent. You might experience a
 * delay before results are up-to-date. To validate the existence or configuration of an individual
 * user, use AdminGetUser") and gives no bound. Fifteen minutes is a generous margin for an index
 * to catch up, and waiting it out costs a caller that would drop a user only a later decision.
 */
export const LISTING_CATCH_UP_MS = 15 * 60_000;

/**
 * The user with this sub, as Cognito holds it now; undefined when the pool has no such user.
 * AdminGetUser takes the sub of a local user as its Username (API reference: "If username isn't
 * an alias attribute in your user pool, this value must be the sub of a local user or the username
 * of a user from a third-party IdP"); a federated user's sub is not accepted, so a
 * UserNotFoundException is checked with ListUsers' `sub = "…"` filter before it is believed.
 * That check finds federated users only (UserStatus EXTERNAL_PROVIDER, "User signed in with a
 * third-party IdP": API reference, UserType): a local user listed there is one AdminGetUser has
 * just said is gone, still in a listing that lags behind (ListUsers is eventually consistent,
 * e.g. just after AdminDeleteUser), and must not turn a delete into a write.
 *
 * So undefined always rests on ListUsers: AdminGetUser's "not found" cannot tell a deleted local
 * user from a federated one, and a federated user created moments ago may not be listed yet. A
 * caller that drops a user on undefined waits LISTING_CATCH_UP_MS from the user's creation first.
 */
export const findUserBySub = async (
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  sub: string,
  {
    pacer,
    listPacer,
    signal,
    throttleRetries,
  }: { pacer?: Pacer; listPacer?: Pacer; signal?: AbortSignal; throttleRetries?: number } = {},
): Promise<PoolUser | undefined> => {
  const options = signal ? { abortSignal: signal } : {};
  try {
    const found = await paced(
      pacer ?? createPacer({ maxRps: 20 }),
      () => client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: sub }), options),
      signal,
      throttleRetries,
    );
    const user = poolUserOf({ ...found, Attributes: found.UserAttributes });
    if (user?.sub === sub) return user;
  } catch (error) {
    if ((error as { name?: string }).name !== 'UserNotFoundException') throw error;
  }
  const { Users = [] } = await paced(
    listPacer ?? createPacer({ maxRps: 5 }),
    () =>
      client.send(
        new ListUsersCommand({ UserPoolId: userPoolId, Filter: `sub = ${quoted(sub)}`, Limit: 1 }),
        options,
      ),
    signal,
    throttleRetries,
  );
  const [listed] = Users.map((user: UserType) => poolUserOf(user)).filter(
    (user) => user?.sub === sub && user.status === FEDERATED,
  );
  return listed;
};

/** Cognito's estimate of the pool's size, for progress and partitioning; undefined when unknown. */
export const estimatedUserCount = async (
  client: CognitoIdentityProviderClient,
  userPoolId: string,
  signal?: AbortSignal,
): Promise<number | undefined> => {
  try {
    const { UserPool } = await client.send(
      new DescribeUserPoolCommand({ UserPoolId: userPoolId }),
      signal ? { abortSignal: signal } : {},
    );
    return UserPool?.EstimatedNumberOfUsers;
  } catch {
    return undefined;
  }
};
