// A pacer for calls under a shared quota (Cognito's ListUsers: 30 requests per second per account
// and region, shared with everything else): it spaces call starts at most `maxRps` a second,
// halves its rate when the service throttles, and earns it back step by step (additive increase,
// multiplicative decrease), down to `minRps` at worst.

export interface Pacer {
  /** Resolves when the next call may start; rejects when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void>;
  /** The service throttled a call: slow down. */
  throttled(): void;
  /** A call went through: speed back up towards `maxRps`. */
  succeeded(): void;
  /** Calls a second it allows now. */
  readonly rps: number;
  /** Throttles seen so far. */
  readonly throttles: number;
}

export interface PacerOptions {
  maxRps: number;
  minRps?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const abortable = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export const createPacer = ({
  maxRps,
  minRps = Math.min(0.2, maxRps),
  now = () => performance.now(),
  sleep = abortable,
}: PacerOptions): Pacer => {
  if (!(maxRps > 0)) throw new RangeError(`maxRps must be above 0, got ${maxRps}`);
  let rps = maxRps;
  let throttles = 0;
  let next = Number.NEGATIVE_INFINITY;
  return {
    get rps() {
      return rps;
    },
    get throttles() {
      return throttles;
    },
    async wait(signal) {
      const at = Math.max(now(), next);
      next = at + 1000 / rps;
      const delay = at - now();
      if (delay > 0) await sleep(delay, signal);
      else if (signal?.aborted) throw signal.reason;
    },
    throttled() {
      throttles++;
      rps = Math.max(minRps, rps / 2);
      // The next start waits a full new interval from now.
      next = Math.max(next, now() + 1000 / rps);
    },
    succeeded() {
      rps = Math.min(maxRps, rps + maxRps / 20);
    },
  };
};
