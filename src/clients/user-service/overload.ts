// What one container knows of the User Service's load, kept for the container's life (never
// shared, never stored): a retry budget and a circuit breaker, which the transport reads before
// each attempt and feeds after it. A struggling service then gets fewer requests from us, not more.
// - The retry budget is the AWS SDKs' standard retry mode's retry quota, sized for a Lambda
//   container: a token bucket every retry draws from and every answered attempt refills, so that
//   retries stop when many calls fail, and come back as calls succeed again.
// - The circuit breaker is the local one of the Amazon Builders' Library ("Timeouts, retries, and
//   backoff with jitter"): after a run of failed attempts it opens, and no call is tried; after a
//   cool-down one call probes; its success closes it, its failure opens it for twice as long.
// - A wait the service asks for is its own word (a Retry-After on a 429 or a 503; on a 429 the
//   rate-limit reset headers too: ./transport.ts, askedWaitMs): nothing is sent from this container
//   until it has passed (the call that was told may wait it out and try again, when its budget
//   allows). A 429 without one still says the service has more than it can take: the container
//   pauses a second.

/** The retry budget: the SDKs' quota (500 tokens, 5 a retry, 10 after a timeout, 1 back a success) for one container. */
export const RETRY_BUDGET = {
  /** Tokens the bucket holds, and starts with: a fresh container may retry twice, or once after a throttle. */
  capacity: 10,
  /** A retry after a 5xx, a 425 or a network error. */
  retryCost: 5,
  /** A retry after a 429, a 408 or a timeout: the service says, or shows, it has more than it can take. */
  throttleCost: 10,
  /** What an attempt the service answered (anything but a transient failure) puts back. */
  refill: 1,
} as const;

/** The circuit breaker. */
export const CIRCUIT_BREAKER = {
  /** Attempts failed in a row (408, 425, 429, 5xx, a timeout, a network error) that open it. */
  failureThreshold: 5,
  /** How long it stays open the first time; each failed probe doubles it. */
  openMs: 5_000,
  /** The longest it stays open after failures. */
  maxOpenMs: 30_000,
  /** The longest Retry-After honoured: a longer one keeps calls back this long. */
  maxRetryAfterMs: 300_000,
  /** How long a 429 without a Retry-After keeps calls back: as Retry-After: 1. */
  throttlePauseMs: 1_000,
} as const;

export type RetryBudgetSettings = { [K in keyof typeof RETRY_BUDGET]: number };
export type CircuitBreakerSettings = { [K in keyof typeof CIRCUIT_BREAKER]: number };

/** Why a retry is wanted: a throttle (429, 408, a timeout) costs more than another failure. */
export type RetryKind = 'throttle' | 'failure';

export interface RetryBudget {
  /** Takes one retry's cost; false, taking nothing, when the budget cannot pay it. */
  spend(kind: RetryKind): boolean;
  /** An attempt the service answered. */
  earn(): void;
  readonly tokens: number;
}

export const createRetryBudget = (settings: RetryBudgetSettings = RETRY_BUDGET): RetryBudget => {
  let tokens = settings.capacity;
  return {
    spend(kind) {
      const cost = kind === 'throttle' ? settings.throttleCost : settings.retryCost;
      if (tokens < cost) return false;
      tokens -= cost;
      return true;
    },
    earn() {
      tokens = Math.min(settings.capacity, tokens + settings.refill);
    },
    get tokens() {
      return tokens;
    },
  };
};

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  /**
   * Whether a call may be tried now. Half-open, the first caller is admitted as the probe and
   * every other is not until its outcome is known (`succeeded`, `failed`, or `release`).
   */
  admit(): boolean;
  /** Whether a call under way may try again in `waitMs`: not once the breaker has opened. */
  allowsRetryIn(waitMs: number): boolean;
  /** An attempt the service answered. */
  succeeded(): void;
  /**
   * An attempt that failed transiently. `waitMs`: the wait its answer asked for (a 429's or a
   * 503's Retry-After, a 429's rate-limit reset), no call is admitted until it has passed;
   * `throttled`: a 429, which without a wait pauses calls for `throttlePauseMs`.
   */
  failed(answer?: { waitMs?: number | undefined; throttled?: boolean }): void;
  /** The probe admitted sent nothing (its deadline came first): the next call may probe. */
  release(): void;
  state(): BreakerState;
  /** Milliseconds until calls are admitted again; 0 when they are (closed, or half-open). */
  openForMs(): number;
}

export const createCircuitBreaker = (
  settings: CircuitBreakerSettings = CIRCUIT_BREAKER,
  now: () => number = Date.now,
): CircuitBreaker => {
  let failures = 0;
  /** Opened by failures: when the cool-down ends, half-open rather than closed. */
  let tripped = false;
  let probing = false;
  let openUntil = 0;
  let coolDownMs = settings.openMs;

  const openFor = (ms: number) => {
    openUntil = Math.max(openUntil, now() + ms);
  };
  const state = (): BreakerState => {
    if (now() < openUntil) return 'open';
    return tripped ? 'half-open' : 'closed';
  };

  return {
    admit() {
      const current = state();
      if (current === 'closed') return true;
      if (current === 'open' || probing) return false;
      probing = true;
      return true;
    },
    allowsRetryIn(waitMs) {
      return !tripped && now() + waitMs >= openUntil;
    },
    succeeded() {
      failures = 0;
      tripped = false;
      probing = false;
      coolDownMs = settings.openMs;
    },
    failed({ waitMs, throttled = false } = {}) {
      // The service's own word first: nothing goes until the wait it asked for has passed.
      const asked = waitMs ?? (throttled ? settings.throttlePauseMs : 0);
      if (asked > 0) openFor(Math.min(asked, settings.maxRetryAfterMs));
      failures += 1;
      if (probing) {
        // The probe failed: open again, for longer.
        probing = false;
        coolDownMs = Math.min(settings.maxOpenMs, coolDownMs * 2);
        openFor(coolDownMs);
      } else if (!tripped && failures >= settings.failureThreshold) {
        tripped = true;
        openFor(coolDownMs);
      }
      // Otherwise a call admitted before it opened has failed too: it stays as it is.
    },
    release() {
      probing = false;
    },
    state,
    openForMs: () => Math.max(0, openUntil - now()),
  };
};

/** A container's view of the User Service's load: give the same one to every client it makes. */
export interface OverloadGuard {
  budget: RetryBudget;
  breaker: CircuitBreaker;
}

export const createOverloadGuard = (
  settings: { budget?: RetryBudgetSettings; breaker?: CircuitBreakerSettings } = {},
  now: () => number = Date.now,
): OverloadGuard => ({
  budget: createRetryBudget(settings.budget),
  breaker: createCircuitBreaker(settings.breaker, now),
});
