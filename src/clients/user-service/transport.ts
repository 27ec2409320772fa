// The User Service over HTTP. ky does what ky does: the retries on the transient statuses, the
// backoff (doubling, full jitter, capped by backoffLimit), Retry-After, the per-attempt timeout, the
// hooks. Around it: the deadline (every attempt, wait and body read happen inside it), never a
// redirect followed, the credentials of each attempt (a key refetched once after a 401 or 403, a
// fresh signature every attempt), the measurements, and, when the caller keeps one for its
// container, what it knows of the service's load (./overload.ts): no call while the breaker is
// open, no retry the budget cannot pay, every attempt's outcome and asked wait reported to it.

import ky, { isHTTPError, isTimeoutError } from 'ky';
import { DeadlineExceededError } from '../../errors.js';
import { VERSION } from '../../version.js';
import { signatureHeaders } from '../../webhooks/signature.js';
import type { Credentials } from '../credentials.js';
import { isTransientStatus, type Refusal } from './answers.js';
import { discard } from './bodies.js';
import type { OverloadGuard, RetryKind } from './overload.js';

export const USER_AGENT = `cognito-user-sync/${VERSION}`;

export interface Measured {
  httpStatus?: number;
  attempts: number;
  /** Time to response headers of each attempt, in ms. */
  attemptLatenciesMs: number[];
  durationMs: number;
}

/** The time a call may take: an invocation's deadline (src/core/deadline.ts) is one. */
export interface TimeBudget {
  /** Milliseconds left, less `reserveMs`. */
  remaining(reserveMs?: number): number;
  /** Runs `work` with a signal that aborts `reserveMs` before the time is up; the timer goes when it settles. */
  withSignal<T>(what: string, work: (signal: AbortSignal) => Promise<T>, reserveMs?: number): Promise<T>;
}

export interface SendOptions {
  credentials: Credentials;
  deadline: TimeBudget;
  /** Time to leave on the deadline when this call gives up (for the queue send). */
  reserveMs?: number;
  /** Retries after the first attempt (the one after a key refetch counts); the deadline comes first. */
  retryLimit?: number;
}

/** One call: what goes out, and which statuses its operation reads itself and which ky retries. */
export interface Call {
  method: 'post' | 'patch' | 'delete' | 'get';
  url: URL;
  /** The exact bytes sent (signed as they are); '' for none. */
  body: string;
  contentType?: string;
  idempotencyKey?: string;
  /** The webhook-id of the signature; a write's derives from its idempotency key. */
  webhookId: string;
  operation: { readonly own: readonly number[]; readonly retried: number[] };
}

/** What a call came to: its operation's judgement of the final answer, or why there was none. */
export type Exchange<Done> = Measured & {
  answer: Done | Refusal;
  /** Every credential sent, for what is kept of an answer to go without them. */
  sent: ReadonlySet<string>;
};

export interface TransportOptions {
  /** Upper bound of one attempt; by default none: the deadline bounds each attempt. */
  timeoutMs?: number | undefined;
  /** First backoff step; doubles each retry up to `maxBackoffMs`, with full jitter. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  fetch?: typeof globalThis.fetch;
  /**
   * The container's retry budget and circuit breaker, kept across its invocations; without one,
   * every call may retry as the deadline allows (the command line's runs pace themselves).
   */
  overload?: OverloadGuard | undefined;
}

/** What a call not tried is: the breaker is open (failures, or the service's Retry-After). */
export const CIRCUIT_OPEN = 'circuit-open';

/** A retry started with less time than this left cannot get an answer back anyway: none is sent. */
const MIN_ATTEMPT_MS = 100;

/**
 * A call with less time than this left is not sent at all: it could not be answered, and it would
 * only load the service. Lower than MIN_ATTEMPT_MS: a service nearby answers in a few milliseconds,
 * and SYNC_DEADLINE_MS at its lowest (200) leaves the first attempt about 100 after the queue's
 * reserve, which must be enough to sync.
 */
const FIRST_ATTEMPT_MS = 20;

/**
 * An attempt our own deadline cuts short counts against the service only when it had this long.
 * Cut sooner, it was cut by the time the caller had left (a slow Cognito lookup before it, the end
 * of a batch), and says nothing of the service. Left unanswered this long, it was the service: a
 * service nearby answers in tens of milliseconds, and one that answers nothing must still open the
 * breaker, whatever SYNC_DEADLINE_MS is (there is no attempt timeout by default). At 250 ms, every
 * SYNC_DEADLINE_MS from about 350 gives its attempt that long after the queue's reserve.
 */
const UNANSWERED_MS = 250;

/**
 * The answers that may ask for a wait: a 429 (Too Many Requests, RFC 6585 §4) and a 503 (Service
 * Unavailable, RFC 9110 §15.6.4), whose Retry-After (RFC 9110 §10.2.3) is the service's own word.
 * ky is told to read a wait of these only (its afterStatusCodes).
 */
export const WAIT_STATUSES: readonly number[] = [429, 503];

/**
 * The wait an error answer asks for, in ms, read as ky 1.14 reads it to wait: Retry-After on a 429
 * or a 503; on a 429, else the rate-limit headers ky knows. Seconds, a Unix time (a number past
 * 2024), or an HTTP date. Undefined when the answer asks for none; NaN when it asks in a form ky
 * cannot read.
 *
 * The rate-limit reset headers count on a 429 only: many gateways send them with every answer as
 * the time their window resets, not as a wait, and a 502 is no reason to hold back for an hour. ky
 * reads them on every status it reads a wait of; when this reads none, the transport has ky take
 * its backoff instead (shouldRetry saying true), so that ky never waits what this does not say.
 *
 * ky waits it, but a wait longer than maxRetryAfter it clamps to maxRetryAfter rather than give up
 * (sindresorhus/ky#603; its own doc comment still says "canceled"), and an unreadable one it reads
 * as maxRetryAfter. Whether to wait at all must be decided before ky starts: here, with ky's own
 * reading, which tests/clients/user-service/transport.test.ts holds to what ky does.
 */
export const askedWaitMs = (status: number, headers: Headers, now = Date.now()): number | undefined => {
  if (!WAIT_STATUSES.includes(status)) return undefined;
  const retryAfter = headers.get('retry-after');
  const value =
    status === 429
      ? (retryAfter ??
        headers.get('ratelimit-reset') ??
        headers.get('x-ratelimit-retry-after') ??
        headers.get('x-ratelimit-reset') ??
        headers.get('x-rate-limit-reset'))
      : retryAfter;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isNaN(seconds)) return Date.parse(value) - now;
  const ms = seconds * 1000;
  return ms >= Date.parse('2024-01-01') ? ms - now : ms;
};

const networkReason = (error: unknown): string => {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? `network-${cause.code}` : 'network';
};

/** A retry after a throttle (429, 408) or a timeout costs the budget more than one after another failure. */
const retryKind = (error: unknown): RetryKind =>
  isTimeoutError(error) || (isHTTPError(error) && [408, 429].includes(error.response.status))
    ? 'throttle'
    : 'failure';

export const createTransport = ({
  timeoutMs,
  baseBackoffMs = 100,
  maxBackoffMs = 1000,
  fetch = globalThis.fetch,
  overload,
}: TransportOptions) => {
  /** ky's backoff step before the jitter; ky caps it at maxBackoffMs (backoffLimit). */
  const backoffMs = (retryCount: number) => baseBackoffMs * 2 ** (retryCount - 1);

  const exchangeWithin = async <Done>(
    call: Call,
    { credentials, deadline, reserveMs = 0, retryLimit = 5 }: SendOptions,
    judge: (response: Response) => Promise<Done | Refusal>,
    signal: AbortSignal,
  ): Promise<Exchange<Done>> => {
    const startedAt = performance.now();
    const attemptLatenciesMs: number[] = [];
    const sent = new Set<string>();
    let refreshed = false;
    let httpStatus: number | undefined;

    const fixedHeaders: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (call.contentType) fixedHeaders['content-type'] = call.contentType;
    if (call.idempotencyKey) fixedHeaders['idempotency-key'] = call.idempotencyKey;
    let { apiKey, signingKeys } = credentials;

    /** The headers of one attempt: the credentials of the moment, and a fresh signature. */
    const attemptHeaders = (): Record<string, string> => {
      const headers = { ...fixedHeaders };
      if (apiKey) {
        headers['x-api-key'] = apiKey;
        sent.add(apiKey);
      }
      if (signingKeys?.length) {
        // The same webhook-id on every attempt (a retry is the same message), a fresh timestamp.
        const signed = signatureHeaders({ id: call.webhookId, body: call.body, keys: signingKeys });
        Object.assign(headers, signed);
        for (const entry of signed['webhook-signature'].split(' ')) {
          sent.add(entry);
          sent.add(entry.slice(entry.indexOf(',') + 1));
        }
      }
      return headers;
    };

    // ky decides when to try (retries, backoff, Retry-After, timeouts) on a Request with neither
    // headers nor body; each attempt is made here as it goes out: its headers, its signature and
    // the body, sent as the string it is. Through ky's Request, the clone ky makes before every
    // attempt and the copy fetch makes of that, the headers would be copied three times and the
    // body teed as a stream, then piped through a transform, for bytes we already hold (about
    // 0.1 ms a warm call). The same bytes go out, with their Content-Length.
    let reported = false;
    /** Tells the container's guard how an attempt went: answered, or failed (and any wait asked). */
    const report = (response: Response | undefined) => {
      if (!overload) return;
      reported = true;
      if (response && !isTransientStatus(response.status)) {
        overload.breaker.succeeded();
        overload.budget.earn();
        return;
      }
      const wait = response && askedWaitMs(response.status, response.headers);
      overload.breaker.failed({
        // A wait nobody can read is no wait asked.
        waitMs: wait === undefined || Number.isNaN(wait) ? undefined : wait,
        throttled: response?.status === 429,
      });
    };
    const attempt = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
      const attemptStart = performance.now();
      const given = deadline.remaining(reserveMs);
      const request = input instanceof Request ? input : new Request(input, init);
      // Cut before it went: nothing to say of the service.
      const sent = !request.signal.aborted;
      let response: Response | undefined;
      try {
        response = await fetch(request.url, {
          ...init,
          method: request.method,
          headers: attemptHeaders(),
          signal: request.signal,
          redirect: request.redirect,
          ...(call.body !== '' && { body: call.body }),
        });
        return response;
      } finally {
        attemptLatenciesMs.push(Math.round(performance.now() - attemptStart));
        // Cut short by our own deadline: the time we gave it, not the service.
        const cutByUs = response === undefined && signal.aborted && given < UNANSWERED_MS;
        if (sent && !cutByUs) report(response);
      }
    };
    const done = (answer: Done | Refusal): Exchange<Done> => ({
      answer,
      sent,
      attempts: attemptLatenciesMs.length,
      attemptLatenciesMs,
      durationMs: Math.round(performance.now() - startedAt),
      ...(httpStatus !== undefined && { httpStatus }),
    });

    const isAuthFailure = (error: unknown) =>
      isHTTPError(error) && (error.response.status === 401 || error.response.status === 403);
    const { own, retried } = call.operation;
    /** Whether the budget and the breaker let a retry go in `waitMs` (taking its cost when they do). */
    const guardAllows = (error: unknown, waitMs: number) =>
      !overload || (overload.breaker.allowsRetryIn(waitMs) && overload.budget.spend(retryKind(error)));

    // Too little time left for an answer: not sent, and nothing asked of the breaker.
    if (deadline.remaining(reserveMs) < FIRST_ATTEMPT_MS)
      return done({ failure: 'transient', reason: 'deadline' });
    // The breaker open (failures, or the service's Retry-After): not tried at all, the caller queues or defers.
    if (overload && !overload.breaker.admit()) return done({ failure: 'transient', reason: CIRCUIT_OPEN });
    try {
      const response = await ky(call.url, {
        method: call.method,
        signal,
        fetch: attempt,
        redirect: 'manual',
        timeout: timeoutMs ?? false,
        throwHttpErrors: (status) => status >= 300 && !own.includes(status),
        retry: {
          limit: retryLimit,
          methods: [call.method], // safe to repeat: the idempotency key makes it so
          statusCodes: retried,
          afterStatusCodes: retried.filter((status) => WAIT_STATUSES.includes(status)),
          maxRetryAfter: deadline.remaining(reserveMs),
          retryOnTimeout: true,
          delay: backoffMs,
          jitter: true,
          backoffLimit: maxBackoffMs,
          shouldRetry: ({ error, retryCount }) => {
            const left = deadline.remaining(reserveMs);
            if (signal.aborted) return false;
            if (isAuthFailure(error)) {
              // Once, with a refetched key (see beforeRetry), and only when there is one to fetch.
              return !refreshed && credentials.refresh !== undefined && left >= MIN_ATTEMPT_MS;
            }
            // ky does not retry the other statuses: nothing to decide, nothing to spend.
            if (isHTTPError(error) && !retried.includes(error.response.status)) return undefined;
            // Stop while the last failure is still the answer, rather than be cut by the deadline.
            const backoffFits = Math.min(maxBackoffMs, backoffMs(retryCount)) + MIN_ATTEMPT_MS <= left;
            if (isHTTPError(error)) {
              const wait = askedWaitMs(error.response.status, error.response.headers);
              // A wait asked, and read as ky reads it: ky waits it. One that does not fit the budget
              // is not honoured by waiting part of it.
              if (wait !== undefined && !Number.isNaN(wait)) {
                return wait + MIN_ATTEMPT_MS <= left && guardAllows(error, wait) ? undefined : false;
              }
              // No wait asked (or one nobody reads, which ky would take as the whole budget): the
              // backoff, forced, so that ky reads no header of its own (a 503's rate-limit reset).
              return backoffFits && guardAllows(error, 0);
            }
            // ky's own rules: timeouts, network errors.
            return backoffFits && guardAllows(error, 0) ? undefined : false;
          },
        },
        hooks: {
          beforeRetry: [
            async ({ error }) => {
              // ky reads nothing of an error answer it retries: let its body go, not hold the connection.
              if (isHTTPError(error)) discard(error.response);
              if (!isAuthFailure(error) || !credentials.refresh) return;
              refreshed = true;
              // Without new credentials the retry goes with the old ones, and its 401 is the answer.
              const fresh = await credentials.refresh(signal).catch(() => undefined);
              if (fresh) ({ apiKey, signingKeys } = fresh);
            },
          ],
        },
      });
      httpStatus = response.status;
      return done(await judge(response));
    } catch (error) {
      if (isHTTPError(error)) {
        httpStatus = error.response.status;
        return done(await judge(error.response));
      }
      if (error instanceof DeadlineExceededError || signal.aborted) {
        return done({ failure: 'transient', reason: 'deadline' });
      }
      if (isTimeoutError(error)) return done({ failure: 'transient', reason: 'timeout' });
      return done({ failure: 'transient', reason: networkReason(error) });
    } finally {
      // A probe that never went out, or that our own deadline cut short, leaves the next call to probe.
      if (!reported) overload?.breaker.release();
    }
  };

  return {
    /** One call, its retries included, within the deadline; every body its judge reads is read by then. */
    exchange: <Done>(
      call: Call,
      options: SendOptions,
      judge: (response: Response) => Promise<Done | Refusal>,
    ): Promise<Exchange<Done>> =>
      options.deadline.withSignal(
        'User Service call',
        (signal) => exchangeWithin(call, options, judge, signal),
        options.reserveMs,
      ),
  };
};
