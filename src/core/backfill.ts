// Backfill: every user of a pool the policy says belongs in the User Service, mapped exactly as
// the other paths map them, sent with the same idempotent client. What the trigger never saw
// (users from before it, invited users, anything dropped) reaches the User Service this way.
// Plain function, dependencies passed in.

import type { UserPage } from '../clients/cognito-users.js';
import type { WriteResult } from '../clients/user-service.js';
import type { UserRecord } from '../domain/contract.js';
import { idempotencyKey } from '../domain/idempotency.js';
import type { UserPolicy } from '../domain/user-policy.js';
import { recordOf } from '../domain/user-policy.js';
import { failureCode } from '../errors.js';
import { mapConcurrent } from './concurrency.js';

/** Users by outcome (the project's one vocabulary), and how many were seen. */
export interface BackfillCounts {
  seen: number;
  created: number;
  exists: number;
  skipped: number;
  /** Users of a report sent again (--from-report) that Cognito no longer has: not created. */
  gone?: number;
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
  /** The error of the page that could not be listed, when that is why. */
  pageError?: unknown;
}

export interface BackfillOptions {
  userPoolId: string;
  pages: AsyncIterable<UserPage>;
  /** The token the first page was fetched with (a resumed run), if any. */
  startToken?: string | undefined;
  policy: UserPolicy;
  /** The statuses to send this run: the policy's, or a narrower choice. */
  statuses: ReadonlySet<string>;
  dryRun: boolean;
  concurrency: number;
  send: (body: UserRecord, idempotencyKey: string) => Promise<WriteResult<'created' | 'exists'>>;
  /** Stops the run (resumable) once this many users have failed; unset: never. */
  maxFailures?: number | undefined;
  /** Called after each page with the running totals. */
  onPage?: (result: BackfillResult) => void | Promise<void>;
  /** Checked between pages: an interrupted run stops cleanly, resumable. */
  shouldStop?: () => boolean;
  /** The counts to start from (a resumed run adds to its report's). */
  counts?: BackfillCounts;
}

export const emptyCounts = (): BackfillCounts => ({
  seen: 0,
  created: 0,
  exists: 0,
  skipped: 0,
  failed: 0,
  wouldSend: 0,
});

export const runBackfill = async (options: BackfillOptions): Promise<BackfillResult> => {
  const { userPoolId, policy, statuses, dryRun, concurrency, send } = options;
  const result: BackfillResult = {
    counts: options.counts ? { ...options.counts } : emptyCounts(),
    failures: [],
    pages: 0,
    resumeToken: options.startToken,
  };
  const { counts } = result;
  const tooManyFailures = () => options.maxFailures !== undefined && counts.failed >= options.maxFailures;
  const iterator = options.pages[Symbol.asyncIterator]();

  // The next page is fetched while this one is sent.
  let next = iterator.next();
  for (;;) {
    let page: IteratorResult<UserPage>;
    try {
      page = await next;
    } catch (error) {
      if (options.shouldStop?.()) {
        result.stoppedBy = 'interrupted';
      } else {
        result.stoppedBy = `page-failed: ${failureCode(error).replace(/^error-/, '')}`;
        result.pageError = error;
      }
      return result;
    }
    if (page.done) break;
    const { users, withoutSub, gone = 0, nextToken } = page.value;
    if (nextToken !== undefined && !options.shouldStop?.()) {
      next = iterator.next();
      // Awaited after this page is sent; until then its failure must not count as unhandled.
      next.catch(() => undefined);
    }

    counts.seen += withoutSub + gone;
    counts.failed += withoutSub;
    // A user deleted since the report was written is never brought back: counted apart.
    if (gone > 0) counts.gone = (counts.gone ?? 0) + gone;
    for (let n = 0; n < withoutSub; n++)
      result.failures.push({ cognitoSub: null, reason: 'no-sub-attribute' });
    await mapConcurrent(users, concurrency, async (user) => {
      counts.seen++;
      // The run's statuses, within the one policy: a user it leaves out is never sent.
      if (user.status === undefined || !statuses.has(user.status)) {
        counts.skipped++;
        return;
      }
      if (dryRun) {
        counts.wouldSend++;
        return;
      }
      const written = await send(recordOf(policy, user), idempotencyKey(userPoolId, user.sub)).catch(
        (error: unknown) => ({ outcome: undefined, reason: failureCode(error), httpStatus: undefined }),
      );
      if (written.outcome !== undefined) {
        counts[written.outcome]++;
        return;
      }
      counts.failed++;
      result.failures.push({
        cognitoSub: user.sub,
        reason: written.reason,
        ...(written.httpStatus !== undefined && { httpStatus: written.httpStatus }),
      });
    });

    result.pages++;
    result.resumeToken = nextToken;
    await options.onPage?.(result);
    if (nextToken === undefined) break;
    if (options.shouldStop?.()) {
      result.stoppedBy = 'interrupted';
      break;
    }
    if (tooManyFailures()) {
      result.stoppedBy = 'too-many-failures';
      break;
    }
  }
  return result;
};
