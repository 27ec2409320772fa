// Fail-open: whatever goes wrong in the handler or the middlewares after this one, the caller gets
// a response that cannot hurt it, in time. The post-confirmation trigger answers Cognito with the
// event (sign-up must never be blocked); the retry worker answers with every record failed, after
// deferring each one. Before answering, `recover` makes sure nothing is lost (the user is queued).
//
// Standalone: it imports nothing of the project; what it reports and how it recovers are options.
// It never throws and never returns a value from a phase: returning would short-circuit the other
// onError middlewares, and the metrics flush and trace close live there.

import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';

export interface FailOpenOptions<TEvent, TResult, TContext extends Context> {
  /** Makes sure the work of a failed invocation is not lost. Errors it throws are reported. */
  recover: (request: Request<TEvent, TResult, Error, TContext>, error: unknown) => Promise<void> | void;
  /** The response that cannot hurt the caller; by default, the event. */
  response: (request: Request<TEvent, TResult, Error, TContext>) => TResult;
  /** Where failures are reported; given the message and the error, never logs PII itself. */
  logError: (message: string, error: unknown) => void;
  /** What the failure is called in the report. */
  failureMessage: string;
}

const defaults: FailOpenOptions<unknown, unknown, Context> = {
  recover: () => undefined,
  response: (request) => request.event,
  logError: (message, error) =>
    console.error(JSON.stringify({ message, errorName: error instanceof Error ? error.name : typeof error })),
  failureMessage: 'The handler failed; answering with the fail-open response',
};

export const failOpen = <TEvent = unknown, TResult = unknown, TContext extends Context = Context>(
  opts: Partial<FailOpenOptions<TEvent, TResult, TContext>> = {},
): MiddlewareObj<TEvent, TResult, Error, TContext> => {
  const options = { ...defaults, ...opts } as FailOpenOptions<TEvent, TResult, TContext>;

  const report = (message: string, error: unknown) => {
    try {
      options.logError(message, error);
    } catch {
      // Reporting must not be what breaks the caller.
    }
  };

  const failOpenOnError = async (request: Request<TEvent, TResult, Error, TContext>): Promise<void> => {
    if (request.response !== undefined) return;
    const { error } = request;
    report(options.failureMessage, error);
    try {
      await options.recover(request, error);
    } catch (recoverError) {
      report('Fail-open could not recover', recoverError);
    }
    try {
      request.response = options.response(request);
    } catch (responseError) {
      report('Fail-open could not build its response; answering with the event', responseError);
      request.response = request.event as unknown as TResult;
    }
  };

  return { onError: failOpenOnError };
};
