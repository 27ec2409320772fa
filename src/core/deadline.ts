// The invocation's clock. Everything that waits on the network cuts its wait to what is left,
// so the event goes back to Cognito in time whatever the User Service, Secrets Manager or SQS do.

import { DeadlineExceededError } from '../errors.js';

export interface Deadline {
  /** Epoch milliseconds by which the work must be done. */
  readonly at: number;
  /** Milliseconds left before the deadline, less `reserveMs`; never negative. */
  remaining(reserveMs?: number): number;
  /**
   * Runs `work` with a signal that aborts with a DeadlineExceededError `reserveMs` before the
   * deadline, and clears that timer when the work settles.
   */
  withSignal<T>(what: string, work: (signal: AbortSignal) => Promise<T>, reserveMs?: number): Promise<T>;
  /** Settles like `promise`, or rejects with a DeadlineExceededError `reserveMs` before the deadline. */
  race<T>(promise: Promise<T>, what: string, reserveMs?: number): Promise<T>;
}

export const startDeadline = (budgetMs: number, now: () => number = Date.now): Deadline => {
  const at = now() + budgetMs;
  const remaining = (reserveMs = 0): number => Math.max(0, at - reserveMs - now());

  return {
    at,
    remaining,
    async withSignal(what, work, reserveMs = 0) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new DeadlineExceededError(what)), remaining(reserveMs));
      // A pending deadline must never keep a process (the CLI, a test) alive.
      timer.unref();
      try {
        return await work(controller.signal);
      } finally {
        // A warm container runs invocation after invocation: a timer left behind by each would
        // stay pending for the rest of the budget, then abort a call long done (building an error).
        clearTimeout(timer);
      }
    },
    race(promise, what, reserveMs = 0) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceededError(what)), remaining(reserveMs));
        timer.unref();
      });
      // The loser keeps running; make sure its late rejection is not an unhandled one.
      promise.catch(() => undefined);
      return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
    },
  };
};

/**
 * `call`, each call of it raced against `deadline`: one still going then rejects with a
 * DeadlineExceededError naming `what`, and runs on unawaited (give it a signal where it takes one).
 */
export const bounded =
  <A extends unknown[], R>(
    deadline: Pick<Deadline, 'race'>,
    what: string,
    call: (...args: A) => Promise<R>,
  ) =>
  (...args: A): Promise<R> =>
    deadline.race(call(...args), what);

/**
 * Time kept back at the end of the post-confirmation budget for the queue send: a fifth of
 * the budget, between 100 ms and 800 ms (an SQS SendMessage in-region takes tens of ms).
 */
export const queueReserveMs = (budgetMs: number): number =>
  Math.min(800, Math.max(100, Math.round(budgetMs / 5)));
