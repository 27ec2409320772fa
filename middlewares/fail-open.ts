// Fail-open: Cognito must get its event back, in time, whatever went wrong. This middleware
// starts the invocation's clock (downstream waits are cut to it), and on any error makes sure
// the user is recovered (queued, or counted as dropped), then answers with the event.
//
// It never throws and never returns a value from a phase: returning would short-circuit the
// other onError middlewares, and the metrics flush and trace close live there.

import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Deadline, startDeadline } from '../src/core/deadline.js';

/** What this middleware puts on the Lambda context. */
export interface FailOpenContext {
  /** The invocation's clock, started by fail-open. */
  deadline: Deadline;
}

type FailOpenRequest = Request<unknown, unknown, Error, Context & Partial<FailOpenContext>>;

/** The invocation's clock, when fail-open started one. */
export const findDeadline = (context: Context): Deadline | undefined =>
  (context as Context & Partial<FailOpenContext>).deadline;

/** The invocation's clock; the handler cannot keep its promise of time without it. */
export const deadlineOf = (context: Context): Deadline => {
  const deadline = findDeadline(context);
  if (deadline === undefined) {
    throw new Error('No deadline on the context: use failOpen() before this handler', {
      cause: { package: 'cognito-user-sync' },
    });
  }
  return deadline;
};

export interface FailOpenOptions {
  /** The time from the start of the invocation by which the event goes back. */
  budgetMs: number | (() => number);
  /** Makes sure the user behind a failed invocation is not lost. Errors it throws are logged. */
  recover: (request: FailOpenRequest, error: unknown) => Promise<void> | void;
  /** Where the failure is reported; give it no PII. */
  logError: (message: string, details: Record<string, unknown>) => void;
}

const defaults: FailOpenOptions = {
  budgetMs: 3500,
  recover: () => undefined,
  logError: (message, details) => console.error(JSON.stringify({ message, ...details })),
};

/** The name and, for errors that name a setting, the setting; never the message of a foreign error. */
const describe = (error: unknown): Record<string, unknown> => {
  if (!(error instanceof Error)) return { errorType: typeof error };
  const { variable, cause } = error as { variable?: unknown; cause?: unknown };
  return {
    errorName: error.name,
    ...(typeof variable === 'string' && { variable, errorMessage: error.message }),
    ...(cause instanceof Error && { causeName: cause.name }),
  };
};

export const failOpen = (
  opts: Partial<FailOpenOptions> = {},
): MiddlewareObj<unknown, unknown, Error, Context> => {
  const options = { ...defaults, ...opts };

  const failOpenBefore = (request: FailOpenRequest): void => {
    const budgetMs = typeof options.budgetMs === 'function' ? options.budgetMs() : options.budgetMs;
    request.context.deadline = startDeadline(budgetMs);
  };

  const failOpenOnError = async (request: FailOpenRequest): Promise<void> => {
    if (request.response !== undefined) return;
    const { error } = request;
    try {
      options.logError('Post-confirmation failed; returning the event to Cognito', describe(error));
      await options.recover(request, error);
    } catch (recoverError) {
      try {
        options.logError('Fail-open could not recover the user', describe(recoverError));
      } catch {
        // Reporting must not be what breaks sign-up.
      }
    }
    request.response = request.event;
  };

  return { before: failOpenBefore, onError: failOpenOnError };
};
