// The two sides of a reconcile, read slice by slice with the clients: the pool (ListUsers with a
// sub prefix, paced under the shared quota, never failing for a throttle), the User Service (its
// paged list, every loop bounded), and one user looked up by sub to confirm a deletion. Shared by
// the command line and the scheduled run, with the pool's size that decides the slicing.

import {
  type CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { findUserBySub, listUserPages, subPrefixFilter } from '../clients/cognito-users.js';
import type { Credentials } from '../clients/credentials.js';
import { ListLoopError, listGuard } from '../clients/list-guard.js';
import type { Pacer } from '../clients/pacer.js';
import type { ListedServiceUser, UserServiceClient } from '../clients/user-service.js';
import type { PoolUser } from '../domain/pool-user.js';
import type { UserPolicy } from '../domain/user-policy.js';
import { errorCode } from '../errors.js';
import { startDeadline } from './deadline.js';
import { type SliceDeps, sliceDigitsFor } from './reconcile.js';

/** One page of the service's list at most (the contract's largest). */
const SERVICE_PAGE = 1000;
/** One page of the service's list, retries included. */
const SERVICE_PAGE_BUDGET_MS = 30_000;
/**
 * Pages of one slice of the service's list, at most: ten million users, a thousand times what a
 * slice is cut for. A list that goes on past it is not one the service could hold.
 */
const SERVICE_MAX_PAGES = 10_000;
/** Empty pages in a row that still hand on a cursor: a list that goes nowhere. */
const SERVICE_MAX_EMPTY_PAGES = 10;

export class ServiceListError extends Error {
  override name = 'ServiceListError';
}

export interface SourcesOptions {
  cognito: CognitoIdentityProviderClient;
  userPoolId: string;
  userService: UserServiceClient;
  credentials: Credentials;
  policy: UserPolicy;
  /** ListUsers' pace (the pool's quota is shared). */
  listPacer: Pacer;
  /** AdminGetUser's pace, to confirm deletion candidates. */
  getPacer: Pacer;
  signal?: AbortSignal;
  /** Called after each page of the pool, with the users it had. */
  onPoolPage?: (users: number) => void;
}

export const reconcileSources = (options: SourcesOptions): SliceDeps => ({
  policy: options.policy,
  listPool: async (prefix) => {
    const users: PoolUser[] = [];
    for await (const page of listUserPages(options.cognito, options.userPoolId, {
      filter: subPrefixFilter(prefix),
      pacer: options.listPacer,
      ...(options.signal && { signal: options.signal }),
    })) {
      // A prefix match is Cognito's; the sub is checked again here, exactly.
      users.push(...page.users.filter((user) => user.sub.startsWith(prefix)));
      options.onPoolPage?.(page.users.length);
    }
    return users;
  },
  listService: async (prefix) => {
    const users: ListedServiceUser[] = [];
    const what = `the User Service's list${prefix ? ` of slice "${prefix}"` : ''}`;
    // The contract lists by cognitoSub: every page must go forward, and the cursor never repeat.
    const guard = listGuard({ what, maxPages: SERVICE_MAX_PAGES, ordered: true });
    let cursor: string | undefined;
    let emptyPages = 0;
    do {
      const result = await options.userService.listUsers({
        limit: SERVICE_PAGE,
        cursor,
        prefix,
        credentials: options.credentials,
        deadline: startDeadline(SERVICE_PAGE_BUDGET_MS),
      });
      if (!result.page) throw new ServiceListError(`${what} failed: ${result.reason}`);
      const { users: page, nextCursor } = result.page;
      cursor = nextCursor ?? undefined;
      guard.page(
        cursor,
        page.map((user) => user.cognitoSub),
      );
      emptyPages = page.length === 0 ? emptyPages + 1 : 0;
      if (cursor !== undefined && emptyPages >= SERVICE_MAX_EMPTY_PAGES) {
        throw new ListLoopError(`${what} gave ${emptyPages} empty pages in a row, each with a next cursor`);
      }
      users.push(...page.filter((user) => user.cognitoSub.startsWith(prefix)));
    } while (cursor);
    return users;
  },
  lookup: (sub) =>
    findUserBySub(options.cognito, options.userPoolId, sub, {
      pacer: options.getPacer,
      listPacer: options.listPacer,
      ...(options.signal && { signal: options.signal }),
    }),
});

export interface SlicingOptions {
  /** Asks for the pool's size again after a failure, this many times (the SDK retries each ask too). */
  retries?: number;
  /** The first wait between two asks; it doubles. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

export interface Slicing {
  sliceDigits: number;
  /** Cognito's estimate of the pool's size; undefined when DescribeUserPool failed. */
  estimate: number | undefined;
  /** Why the size is unknown (the error's name), when it is: the finest slicing is used then. */
  unknownBecause?: string;
}

/**
 * How finely to slice the pool, from its estimated size (DescribeUserPool), asked again with
 * backoff when it fails. When it keeps failing (a throttle that lasts, a permissions boundary
 * without cognito-idp:DescribeUserPool), the finest slicing: never one slice for a whole pool of
 * unknown size, which could not finish in an invocation.
 */
export const sliceThePool = async (
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  {
    retries = 3,
    backoffMs = 1000,
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    signal,
  }: SlicingOptions = {},
): Promise<Slicing> => {
  let failure: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
    if (signal?.aborted) throw signal.reason;
    try {
      const { UserPool } = await cognito.send(
        new DescribeUserPoolCommand({ UserPoolId: userPoolId }),
        signal ? { abortSignal: signal } : {},
      );
      const estimate = UserPool?.EstimatedNumberOfUsers;
      if (typeof estimate === 'number') return { sliceDigits: sliceDigitsFor(estimate), estimate };
      failure = new Error('DescribeUserPool gave no EstimatedNumberOfUsers');
      break;
    } catch (error) {
      failure = error;
      // A pool that does not exist will not appear by asking again.
      if (errorCode(error) === 'ResourceNotFoundException') throw error;
    }
  }
  return { sliceDigits: sliceDigitsFor(undefined), estimate: undefined, unknownBecause: errorCode(failure) };
};
