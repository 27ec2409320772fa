// Await secrets: waits, within a time limit, for the values @middy/secrets-manager fetches (it
// leaves them as promises on `request.internal`, cached for the container), then puts them,
// parsed, on the context. A fetch that is given up is cleared from middy's cache, so the next
// invocation fetches again instead of waiting on a request that never answered.
//
// Standalone: it imports nothing of the project. Use it after `secretsManager({ fetchData, cacheKey,
// setToContext: false })`, with the same keys and cacheKey.

import type { MiddlewareObj, Request } from '@middy/core';
import { clearCache } from '@middy/util';
import type { Context } from 'aws-lambda';

export interface AwaitSecretsOptions<TParsed, TEvent, TResult, TContext extends Context> {
  /** The keys of @middy/secrets-manager's `fetchData`. */
  keys: readonly string[];
  /** @middy/secrets-manager's `cacheKey`. */
  cacheKey: string;
  /**
   * Bounds the wait: settles like `pending`, or rejects when the time is up (a deadline's race, say).
   * By default there is no bound.
   */
  within: (request: Request<TEvent, TResult, Error, TContext>, pending: Promise<unknown>) => Promise<unknown>;
  /** Makes what the handler needs of each key's settled fetch; may throw (a secret that cannot be used). */
  parse: (settled: Record<string, PromiseSettledResult<unknown>>) => TParsed;
  /** Where the parsed value goes on the context. */
  contextKey: string;
}

const defaults = {
  within: (_request: unknown, pending: Promise<unknown>) => pending,
  contextKey: 'secrets',
};

export const awaitSecrets = <
  TParsed,
  TEvent = unknown,
  TResult = unknown,
  TContext extends Context = Context,
>(
  opts: Pick<AwaitSecretsOptions<TParsed, TEvent, TResult, TContext>, 'keys' | 'cacheKey' | 'parse'> &
    Partial<AwaitSecretsOptions<TParsed, TEvent, TResult, TContext>>,
): MiddlewareObj<TEvent, TResult, Error, TContext> => {
  const options: AwaitSecretsOptions<TParsed, TEvent, TResult, TContext> = { ...defaults, ...opts };

  const awaitSecretsBefore = async (request: Request<TEvent, TResult, Error, TContext>): Promise<void> => {
    const settling = Promise.allSettled(
      options.keys.map((key) => (request.internal as Record<string, unknown>)[key]),
    );
    let settled: PromiseSettledResult<unknown>[];
    try {
      settled = (await options.within(request, settling)) as PromiseSettledResult<unknown>[];
    } catch (error) {
      // Given up: the pending fetch stays in middy's cache unless cleared, and would be awaited
      // again by every later invocation of this container.
      clearCache([options.cacheKey]);
      settled = options.keys.map(() => ({ status: 'rejected', reason: error }));
    }
    const byKey = Object.fromEntries(options.keys.map((key, index) => [key, settled[index]]));
    (request.context as Record<string, unknown>)[options.contextKey] = options.parse(
      byKey as Record<string, PromiseSettledResult<unknown>>,
    );
  };

  return { before: awaitSecretsBefore };
};
