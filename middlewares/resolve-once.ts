// Resolve once: works out, at the front of the chain, what this invocation is about (the user, the
// request body, the configuration, the clock) and leaves it on the context for every later stage,
// which read it and never derive it again. An invocation with nothing to do is answered at once
// (middy's early response), so nothing after this middleware runs for it.
//
// Standalone: it imports nothing of the project; the resolution itself is an option.

import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';

export interface ResolveOnceOptions<TResolved, TEvent, TResult, TContext extends Context> {
  /** Works out what the invocation is about. Must not throw: keep a problem in what it returns. */
  resolve: (event: TEvent, context: TContext) => TResolved;
  /** Where the resolution goes on the context. */
  contextKey: string;
  /** A response for an invocation with nothing to do; undefined to go on down the chain. */
  earlyResponse: (resolved: TResolved, event: TEvent) => TResult | undefined;
  /**
   * Runs before an early response. After one, middy runs no `after` phase, so pass Powertools'
   * `cleanupMiddlewares` to flush the metrics and close the trace.
   */
  cleanup: (request: Request<TEvent, TResult, Error, TContext>) => Promise<void> | void;
}

const defaults = {
  contextKey: 'resolved',
  earlyResponse: () => undefined,
  cleanup: () => undefined,
};

export const resolveOnce = <
  TResolved,
  TEvent = unknown,
  TResult = unknown,
  TContext extends Context = Context,
>(
  opts: Pick<ResolveOnceOptions<TResolved, TEvent, TResult, TContext>, 'resolve'> &
    Partial<ResolveOnceOptions<TResolved, TEvent, TResult, TContext>>,
): MiddlewareObj<TEvent, TResult, Error, TContext> => {
  const options: ResolveOnceOptions<TResolved, TEvent, TResult, TContext> = { ...defaults, ...opts };

  const resolveOnceBefore = async (
    request: Request<TEvent, TResult, Error, TContext>,
  ): Promise<TResult | undefined> => {
    const resolved = options.resolve(request.event, request.context);
    (request.context as Record<string, unknown>)[options.contextKey] = resolved;
    const response = options.earlyResponse(resolved, request.event);
    if (response === undefined) return undefined;
    await options.cleanup(request);
    return response;
  };

  return { before: resolveOnceBefore };
};
