// The two sides of a reconcile, read slice by slice with the clients: the pool (ListUsers with a
// sub prefix, paced under the shared quota, never failing for a throttle) and the User Service
// (its paged list). Shared by the command line and the scheduled run.

import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { PoolUser } from '../clients/cognito-users.js';
import { findUserBySub, listUserPages, subPrefixFilter } from '../clients/cognito-users.js';
import type { Credentials } from '../clients/credentials.js';
import type { Pacer } from '../clients/pacer.js';
import type { ListedServiceUser, UserServiceClient } from '../clients/user-service.js';
import type { UserPolicy } from '../config.js';
import { startDeadline } from './deadline.js';
import type { SliceDeps } from './reconcile.js';

/** One page of the service's list at most (the contract's largest). */
const SERVICE_PAGE = 1000;
/** One page of the service's list, retries included. */
const SERVICE_PAGE_BUDGET_MS = 30_000;

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
  /** AdminGetUser's pace, to confirm orphans. */
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
    let cursor: string | undefined;
    do {
      const result = await options.userService.listUsers({
        limit: SERVICE_PAGE,
        cursor,
        prefix,
        credentials: options.credentials,
        deadline: startDeadline(SERVICE_PAGE_BUDGET_MS),
      });
      if (!result.page) throw new ServiceListError(`the User Service's list failed: ${result.reason}`);
      users.push(...result.page.users.filter((user) => user.cognitoSub.startsWith(prefix)));
      cursor = result.page.nextCursor ?? undefined;
    } while (cursor);
    return users;
  },
  stillInPool: async (sub) =>
    (await findUserBySub(options.cognito, options.userPoolId, sub, {
      pacer: options.getPacer,
      listPacer: options.listPacer,
      ...(options.signal && { signal: options.signal }),
    })) !== undefined,
});
