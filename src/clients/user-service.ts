// The User Service client: one POST per user, idempotent, retried with backoff inside a
// deadline, never following a redirect, never reading more of an error body than it needs.

import ky, { isHTTPError, isTimeoutError } from 'ky';
import type { Deadline } from '../core/deadline.js';
import type { UserRecord } from '../core/user-record.js';
import { DeadlineExceededError } from '../errors.js';
import { VERSION } from '../version.js';
import { signatureHeaders, webhookIdFor } from '../webhooks/signature.js';
import type { Credentials } from './credentials.js';

/** What the User Service did with a write: it is done. */
export type Written = 'created' | 'exists';

/** Why a write is not done; it decides between trying again later and giving it to an operator. */
export type WriteFailure =
  /** Another 4xx: the service refuses this payload; retrying the same body will not help. */
  | 'rejected'
  /** 401/403 after a refetched key was tried once. */
  | 'unauthorized'
  /** 3xx: never followed, the key must not travel to another host. */
  | 'redirect'
  /** 408/425/429/5xx, a network error, a timeout or the deadline: worth trying later. */
  | 'transient';

interface Measured {
  httpStatus?: number;
  attempts: number;
  /** Time to response headers of each attempt, in ms. */
  attemptLatenciesMs: number[];
  durationMs: number;
}

export type WriteResult = Measured &
  (
    | { outcome: Written; failure?: undefined; reason?: undefined; detail?: undefined }
    | {
        outcome?: undefined;
        failure: WriteFailure;
        /** A short code for logs and queue messages: `http-422`, `timeout`, `network-ECONNREFUSED`… */
        reason: string;
        /** The start of the error body, at most `MAX_DETAIL_BYTES`; may hold PII, never logged. */
        detail?: string;
      }
  );

/** What a result says about the calls themselves, for logs and metrics. */
export const measurement = ({
  httpStatus,
  attempts,
  attemptLatenciesMs,
  durationMs,
}: WriteResult): Measured => ({
  attempts,
  attemptLatenciesMs,
  durationMs,
  ...(httpStatus !== undefined && { httpStatus }),
});

export interface CreateUserOptions {
  idempotencyKey: string;
  credentials: Credentials;
  deadline: Deadline;
  /** Time to leave on the deadline when this call gives up (for the queue send). */
  reserveMs?: number;
  /** Retries after the first attempt (the one after a key refetch counts); the deadline comes first. */
  retryLimit?: number;
}

export interface UserServiceClientOptions {
  url: URL;
  /** Upper bound of one attempt; the deadline cuts it further. */
  timeoutMs: number;
  /** First backoff step; doubles each retry up to `maxBackoffMs`, with full jitter. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  fetch?: typeof globalThis.fetch;
}

export interface UserServiceClient {
  createUser(body: UserRecord, options: CreateUserOptions): Promise<WriteResult>;
}

export const USER_AGENT = `cognito-user-sync/${VERSION}`;
export const MAX_DETAIL_BYTES = 2048;

/** An attempt started with less time than this left cannot get an answer back anyway. */
const MIN_ATTEMPT_MS = 100;

const TRANSIENT_STATUS = [408, 425, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

export const isTransientStatus = (status: number): boolean => TRANSIENT_STATUS.includes(status);

/**
 * Milliseconds the server asked us to wait, from `Retry-After` (seconds or an HTTP date) or the
 * rate-limit headers ky also reads; undefined when it did not ask.
 */
export const retryAfterMs = (headers: Headers, now = Date.now()): number | undefined => {
  const value =
    headers.get('retry-after') ??
    headers.get('ratelimit-reset') ??
    headers.get('x-ratelimit-retry-after') ??
    headers.get('x-ratelimit-reset') ??
    headers.get('x-rate-limit-reset');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) {
    // ky reads a number this large as a Unix time; so do we, to agree on the wait.
    const ms = seconds * 1000;
    return Math.max(0, ms >= Date.parse('2024-01-01') ? ms - now : ms);
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/** Reads at most `maxBytes` of a body, then lets the rest go. */
export const readCapped = async (response: Response, maxBytes = MAX_DETAIL_BYTES): Promise<string> => {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short still tells what it got.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
};

const discard = (response: Response): void => {
  response.body?.cancel().catch(() => undefined);
};

const networkReason = (error: unknown): string => {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? `network-${cause.code}` : 'network';
};

/** The failure an error answer means; 2xx and 409 are handled before. */
const failureOf = (status: number): WriteFailure => {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status >= 300 && status < 400) return 'redirect';
  if (isTransientStatus(status)) return 'transient';
  return 'rejected';
};

export const createUserServiceClient = ({
  url,
  timeoutMs,
  baseBackoffMs = 100,
  maxBackoffMs = 1000,
  fetch = globalThis.fetch,
}: UserServiceClientOptions): UserServiceClient => ({
  async createUser(body, { idempotencyKey, credentials, deadline, reserveMs = 0, retryLimit = 5 }) {
    const startedAt = performance.now();
    const attemptLatenciesMs: number[] = [];
    const signal = deadline.signal('User Service call', reserveMs);
    let refreshed = false;

    const timedFetch: typeof globalThis.fetch = async (input, init) => {
      const attemptStart = performance.now();
      try {
        return await fetch(input, init);
      } finally {
        attemptLatenciesMs.push(Math.round(performance.now() - attemptStart));
      }
    };

    const finish = (result: Omit<WriteResult, keyof Measured> & { httpStatus?: number }): WriteResult =>
      ({
        ...result,
        attempts: attemptLatenciesMs.length,
        attemptLatenciesMs,
        durationMs: Math.round(performance.now() - startedAt),
      }) as WriteResult;

    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey,
      'user-agent': USER_AGENT,
    };
    if (credentials.apiKey) headers['x-api-key'] = credentials.apiKey;
    // Serialised once: the signature covers exactly the bytes that are sent.
    const text = JSON.stringify(body);
    let { signingKeys } = credentials;

    const backoffCeilingMs = (retryCount: number) =>
      Math.min(maxBackoffMs, baseBackoffMs * 2 ** (retryCount - 1));
    const isAuthFailure = (error: unknown) =>
      isHTTPError(error) && (error.response.status === 401 || error.response.status === 403);

    try {
      const response = await ky.post(url, {
        body: text,
        headers,
        signal,
        fetch: timedFetch,
        redirect: 'manual',
        timeout: timeoutMs,
        retry: {
          limit: retryLimit,
          methods: ['post'], // safe to repeat: the idempotency key makes it so
          statusCodes: TRANSIENT_STATUS,
          afterStatusCodes: TRANSIENT_STATUS,
          maxRetryAfter: deadline.remaining(reserveMs),
          retryOnTimeout: true,
          delay: (retryCount) => baseBackoffMs * 2 ** (retryCount - 1),
          jitter: true,
          backoffLimit: maxBackoffMs,
          shouldRetry: ({ error, retryCount }) => {
            const left = deadline.remaining(reserveMs);
            if (signal.aborted) return false;
            if (isAuthFailure(error)) {
              // Once, with a refetched key (see beforeRetry), and only when there is one to fetch.
              return !refreshed && credentials.refresh !== undefined && left >= MIN_ATTEMPT_MS;
            }
            if (isHTTPError(error)) {
              const wait = retryAfterMs(error.response.headers);
              // A wait that does not fit the budget is not honoured by waiting part of it.
              if (wait !== undefined) return wait + MIN_ATTEMPT_MS > left ? false : undefined;
            }
            // Stop while the last failure is still the answer, rather than be cut by the deadline.
            if (backoffCeilingMs(retryCount) + MIN_ATTEMPT_MS > left) return false;
            return undefined; // ky's own rules: the status list, Retry-After, timeouts
          },
        },
        hooks: {
          beforeRequest: [
            (request) => {
              if (!signingKeys?.length) return;
              // Per attempt: the same webhook-id (a retry is the same message), a fresh timestamp.
              const signed = signatureHeaders({
                id: webhookIdFor(idempotencyKey),
                body: text,
                keys: signingKeys,
              });
              for (const [name, value] of Object.entries(signed)) request.headers.set(name, value);
            },
          ],
          beforeRetry: [
            async ({ request, error }) => {
              if (!isAuthFailure(error) || !credentials.refresh) return;
              refreshed = true;
              // Without new credentials the retry goes with the old ones, and its 401 is the answer.
              const fresh = await credentials.refresh(signal).catch(() => undefined);
              if (!fresh) return;
              if (fresh.apiKey) request.headers.set('x-api-key', fresh.apiKey);
              else request.headers.delete('x-api-key');
              signingKeys = fresh.signingKeys;
            },
          ],
        },
      });
      discard(response); // a 2xx body is not needed, nor trusted to be well-formed
      return finish({ outcome: 'created', httpStatus: response.status });
    } catch (error) {
      if (isHTTPError(error)) {
        const status = error.response.status;
        if (status === 409) {
          discard(error.response);
          return finish({ outcome: 'exists', httpStatus: status });
        }
        const failure = failureOf(status);
        if (failure === 'redirect') {
          discard(error.response);
          return finish({ failure, reason: `redirect-${status}`, httpStatus: status });
        }
        const detail = await readCapped(error.response);
        return finish({ failure, reason: `http-${status}`, httpStatus: status, ...(detail && { detail }) });
      }
      if (error instanceof DeadlineExceededError || signal.aborted) {
        return finish({ failure: 'transient', reason: 'deadline' });
      }
      if (isTimeoutError(error)) return finish({ failure: 'transient', reason: 'timeout' });
      return finish({ failure: 'transient', reason: networkReason(error) });
    }
  },
});
