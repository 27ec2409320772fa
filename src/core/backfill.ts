// Backfill: every user of a pool, mapped exactly as the trigger maps them, sent with the same
// idempotent client. What the trigger never saw (users from before it, AdminCreateUser users,
// anything dropped) reaches the User Service this way. Plain function, dependencies passed in.

import type { UserPage } from '../clients/cognito-users.js';
import type { WriteResult } from '../clients/user-service.js';
import type { UserDefaults } from '../config.js';
import { failureCode } from '../errors.js';
import { mapConcurrent } from './concurrency.js';
import { idempotencyKey } from './idempotency.js';
import { toUserRecord, type UserRecord } from './user-record.js';

/** Users the trigger would have synced: confirmed ones and federated ones. */
export const DEFAULT_STATUSES = ['CONFIRMED', 'EXTERNAL_PROVIDER'] as const;

export const USER_STATUSES = [
  'UNCONFIRMED',
  'CONFIRMED',
  'ARCHIVED',
  'COMPROMISED',
  'UNKNOWN',
  'RESET_REQUIRED',
  'FORCE_CHANGE_PASSWORD',
  'EXTERNAL_PROVIDER',
] as const;

/** Users by outcome (the project's one vocabulary), and how many were seen. */
export interface BackfillCounts {
  seen: number;
  created: number;
  exists: number;
  skipped: number;
  failed: number;
  /** Dry run: users that would have been sent. */
  wouldSend: number;
}

export interface BackfillFailure {
  /** Never the username: in many pools it is an email address. */
  cognitoSub: string | null;
  reason: string;
  httpStatus?: number;
}

export interface BackfillResult {
  counts: BackfillCounts;
  failures: BackfillFailure[];
  pages: number;
  /** The token of the first page not done, to resume from; undefined when every page was done. */
  resumeToken: string | undefined;
  /** Why the run stopped before the last page, when it did. */
  stoppedBy?: string;
}

export interface BackfillOptions {
  userPoolId: string;
  pages: AsyncIterable<UserPage>;
  /** The token the first page was fetched with (a resumed run), if any. */
  startToken?: string;
  statuses: ReadonlySet<string>;
  userDefaults: UserDefaults;
  dryRun: boolean;
  concurrency: number;
  send: (body: UserRecord, idempotencyKey: string) => Promise<WriteResult<'created' | 'exists'>>;
  /** Called after each page with the running totals. */
  onPage?: (result: BackfillResult) => void;
  /** Checked between pages: an interrupted run stops cleanly, resumable. */
  shouldStop?: () => boolean;
}

export const runBackfill = async (options: BackfillOptions): Promise<BackfillResult> => {
  const { userPoolId, statuses, userDefaults, dryRun, concurrency, send } = options;
  const result: BackfillResult = {
    counts: { seen: 0, created: 0, exists: 0, skipped: 0, failed: 0, wouldSend: 0 },
    failures: [],
    pages: 0,
    resumeToken: options.startToken,
  };
  const { counts } = result;
  const iterator = options.pages[Symbol.asyncIterator]();

  // The next page is fetched while this one is sent.
  let next = iterator.next();
  for (;;) {
    let page: IteratorResult<UserPage>;
    try {
      page = await next;
    } catch (error) {
      result.stoppedBy = `page-failed: ${(error as { name?: string }).name ?? 'Error'}`;
      return result;
    }
    if (page.done) break;
    const { users, nextToken } = page.value;
    if (nextToken !== undefined && !options.shouldStop?.()) {
      next = iterator.next();
      // Awaited after this page is sent; until then its failure must not count as unhandled.
      next.catch(() => undefined);
    }

    await mapConcurrent(users, concurrency, async (user) => {
      counts.seen++;
      const sub = user.attributes.sub;
      if (user.status === undefined || !statuses.has(user.status)) {
        counts.skipped++;
        return;
      }
      if (!sub) {
        counts.failed++;
        result.failures.push({ cognitoSub: null, reason: 'no-sub-attribute' });
        return;
      }
      if (dryRun) {
        counts.wouldSend++;
        return;
      }
      const written = await send(
        toUserRecord(sub, user.attributes, userDefaults),
        idempotencyKey(userPoolId, sub),
      ).catch((error: unknown) => ({
        outcome: undefined,
        reason: failureCode(error),
        httpStatus: undefined,
      }));
      if (written.outcome !== undefined) {
        counts[written.outcome]++;
        return;
      }
      counts.failed++;
      result.failures.push({
        cognitoSub: sub,
        reason: written.reason,
        ...(written.httpStatus !== undefined && { httpStatus: written.httpStatus }),
      });
    });

    result.pages++;
    result.resumeToken = nextToken;
    options.onPage?.(result);
    if (nextToken === undefined) break;
    if (options.shouldStop?.()) {
      result.stoppedBy = 'interrupted';
      break;
    }
  }
  return result;
};
