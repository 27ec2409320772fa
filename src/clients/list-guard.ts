// Makes every loop over a remote list end: a list that hands back a cursor it gave before, or the
// same page again, or more pages than the source could hold, is an error rather than a loop that
// runs until the Lambda times out (or the operator's laptop sleeps).

import { createHash } from 'node:crypto';

/** A remote list that does not end: a cursor seen before, a page repeated or out of order, too many pages. */
export class ListLoopError extends Error {
  override name = 'ListLoopError';
}

export interface ListGuardOptions {
  /** What is listed, for the message: "the User Service's list of slice 3f", "ListUsers". */
  what: string;
  /** More pages than this is an error: more than the source could hold. */
  maxPages: number;
  /** The list is ordered by its keys (the User Service's is, by cognitoSub): each page must go forward. */
  ordered?: boolean;
}

export interface ListGuard {
  /** Checks one page before the loop goes on (call it for every page, with the cursor/token the page gave for the next one, undefined on the last page, and the page's item keys); throws a ListLoopError naming what happened. */
  page(next: string | undefined, keys: readonly string[]): void;
  /** Pages checked so far. */
  readonly pages: number;
}

/**
 * A cursor as remembered: a digest, not the cursor. Cursors can be long (a ListUsers
 * PaginationToken is an opaque blob), and a pool of millions of users has hundreds of thousands
 * of pages: 96 bits of a SHA-256 keep the memory small and a false "repeated" out of reach.
 */
const digestOf = (cursor: string): string =>
  createHash('sha256').update(cursor).digest('base64').slice(0, 16);

/** Enough of a cursor to tell two apart in a message, never the whole of one. */
const shown = (cursor: string): string => (cursor.length <= 8 ? `"${cursor}"` : `"${cursor.slice(0, 6)}…"`);

export const listGuard = ({ what, maxPages, ordered = false }: ListGuardOptions): ListGuard => {
  if (!(maxPages >= 1)) throw new RangeError(`maxPages must be at least 1, got ${maxPages}`);
  /** Each next cursor given so far, by digest, and the page that gave it. */
  const cursors = new Map<string, number>();
  /** Unordered lists: each page that had items, by the digest of its keys, and its number. */
  const pageDigests = new Map<string, number>();
  /** The last page that had items, and its number: what the next page must not repeat or go back on. */
  let last: { keys: readonly string[]; page: number } | undefined;
  let pages = 0;
  const loop = (problem: string) => new ListLoopError(`${what}: ${problem}`);

  return {
    get pages() {
      return pages;
    },
    page(next, keys) {
      pages += 1;
      const page = pages;
      if (ordered) {
        for (let index = 1; index < keys.length; index += 1) {
          if ((keys[index - 1] as string) >= (keys[index] as string)) {
            throw loop(
              `page ${page} has keys not in order (item ${index + 1} does not come after item ${index})`,
            );
          }
        }
        const [first] = keys;
        const previousLast = last?.keys[last.keys.length - 1];
        if (
          last !== undefined &&
          first !== undefined &&
          previousLast !== undefined &&
          first <= previousLast
        ) {
          throw loop(`page ${page} does not go past page ${last.page}: a page repeated or out of order`);
        }
      } else if (keys.length > 0) {
        // Unordered, a repeat can come back after other pages (A, B, A, B… under fresh cursors):
        // every page that had items is remembered, as a digest.
        const digest = digestOf(keys.join('\u0000'));
        const first = pageDigests.get(digest);
        if (first !== undefined) throw loop(`page ${page} repeats page ${first}, item for item`);
        pageDigests.set(digest, page);
      }
      if (next !== undefined) {
        const digest = digestOf(next);
        const gaveItFirst = cursors.get(digest);
        if (gaveItFirst !== undefined) {
          throw loop(
            `the next cursor of page ${page} (${shown(next)}) repeats the one page ${gaveItFirst} gave: the list would start over`,
          );
        }
        cursors.set(digest, page);
        if (page >= maxPages) {
          throw loop(
            `page ${page} gives a next cursor, and more than ${maxPages} pages is more than it can hold`,
          );
        }
      }
      if (keys.length > 0) last = { keys: [...keys], page };
    },
  };
};
