// One vocabulary for what became of a user, on every path that syncs one: the trigger, the retry
// worker, the command line (and the lifecycle work). src/observability.ts maps each outcome to its
// log line and metrics in one table.

export const OUTCOMES = [
  /** The User Service created the user. */
  'created',
  /** The User Service had the user already (409 for this cognitoSub): as good as created. */
  'exists',
  /** The User Service took the user's current state (PATCH). */
  'updated',
  /** The user is gone from the pool, and now from the User Service (DELETE). */
  'deleted',
  /** Nothing to do: not a sign-up, another pool, a user the policy leaves out, a newer state stored. */
  'skipped',
  /** Not written now; on the retry queue (or the dead-letter queue, for a refused payload). */
  'queued',
  /** Worker: still not written; the message comes back after the next backoff step. */
  'deferred',
  /** Worker: refused or unreadable; moved to the dead-letter queue for an operator. */
  'dead-lettered',
  /** Neither written nor queued: alarmed; backfill recovers it. */
  'dropped',
  /**
   * Worker: the user left the pool before the retry could create them (Cognito no longer has that
   * sub): not created, the message deleted. A deleted user is never brought back.
   */
  'gone',
  /** Command line: not written; listed in the report, to run again. */
  'failed',
] as const;

export type Outcome = (typeof OUTCOMES)[number];

/** What one sync of one user came to, with what logs and metrics say about it. */
export interface OutcomeReport {
  outcome: Outcome;
  /** Why, as a short code: `http-503`, `timeout`, `config-USER_SERVICE_URL`, `forgot-password`… */
  reason?: string;
  httpStatus?: number;
  /** User Service attempts and the time to response headers of each. */
  attempts?: number;
  attemptLatenciesMs?: number[];
  durationMs?: number;
  /** `queued`: the queue the user went to. */
  queue?: 'retry' | 'dead-letter';
  /** `dropped`: why the user could not be queued. */
  queueFailure?: string;
  /** `deferred`: the invisibility given to the message, and why setting it failed, if it did. */
  delaySeconds?: number;
  deferFailure?: string;
}

/** Who the line is about: never more than ids (an email or a name is PII). */
export type UserKeys = {
  userPoolId?: string;
  cognitoSub?: string;
  triggerSource?: string;
};
