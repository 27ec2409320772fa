// The User Service client: one request per write, idempotent, retried with backoff inside a
// deadline, never following a redirect, never reading more of an answer than it needs, and never
// taking a status code alone for success (openapi.yaml says what counts as done). What it keeps of
// an error answer (`detail`) has every credential it sent cut out.

import ky, { isHTTPError, isTimeoutError } from 'ky';
import type { UserPatch, UserRecord } from '../domain/contract.js';
import { DeadlineExceededError } from '../errors.js';
import { isRecord } from '../guards.js';
import { VERSION } from '../version.js';
import { signatureHeaders, webhookIdFor } from '../webhooks/signature.js';
import type { Credentials } from './credentials.js';

/** What the User Service did with a write: it is done. */
export type Written =
  /** POST: created (201, or 200, with the stored user). */
  | 'created'
  /** POST: 409 naming this cognitoSub: the user was there already. */
  | 'exists'
  /** PATCH: applied. */
  | 'updated'
  /** PATCH: 412 `{"error": "stale_write"}`, the service holds a newer state of this user; the write is not needed. */
  | 'stale'
  /** PATCH: 404, no such user: the caller creates it with POST. */
  | 'missing'
  /** DELETE: deleted (2xx), or not there (404). */
  | 'deleted';

/** Why a write is not done; it decides between trying again later and giving it to an operator. */
export type WriteFailure =
  /** Another 4xx (or a 409 for another field): the service refuses this payload. */
  | 'rejected'
  /** 401/403 after a refetched key was tried once. */
  | 'unauthorized'
  /** 3xx: never followed, the key must not travel to another host. */
  | 'redirect'
  /** 408/425/429/5xx, an answer that is not what the contract says, a network error, a timeout. */
  | 'transient';

export interface Measured {
  httpStatus?: number;
  attempts: number;
  /** Time to response headers of each attempt, in ms. */
  attemptLatenciesMs: number[];
  durationMs: number;
}

export type WriteResult<W extends Written = Written> = Measured &
  (
    | { outcome: W; failure?: undefined; reason?: undefined; detail?: undefined }
    | {
        outcome?: undefined;
        failure: WriteFailure;
        /** A short code for logs and queue messages: `http-422`, `timeout`, `network-ECONNREFUSED`… */
        reason: string;
        /** The start of the error answer, at most `MAX_DETAIL_BYTES`, credentials cut out; may hold PII, never logged. */
        detail?: string;
      }
  );

/** What a result says about the calls themselves, for logs and metrics. */
export const measurement = ({
  httpStatus,
  attempts,
  attemptLatenciesMs,
  durationMs,
}: Measured): Measured => ({
  attempts,
  attemptLatenciesMs,
  durationMs,
  ...(httpStatus !== undefined && { httpStatus }),
});

/** The time a call may take: an invocation's deadline (src/core/deadline.ts) is one. */
export interface TimeBudget {
  /** Milliseconds left, less `reserveMs`. */
  remaining(reserveMs?: number): number;
  /** Runs `work` with a signal that aborts `reserveMs` before the time is up; the timer goes when it settles. */
  withSignal<T>(what: string, work: (signal: AbortSignal) => Promise<T>, reserveMs?: number): Promise<T>;
}

export interface WriteOptions {
  idempotencyKey: string;
  credentials: Credentials;
  deadline: TimeBudget;
  /** Time to leave on the deadline when this call gives up (for the queue send). */
  reserveMs?: number;
  /** Retries after the first attempt (the one after a key refetch counts); the deadline comes first. */
  retryLimit?: number;
}

/** The service's view of one user, as its list gives it: the Cognito-owned fields. */
export interface ListedServiceUser {
  cognitoSub: string;
  email: string | null;
  fullName: string | null;
  status: string;
  cognitoLastModified: string | null;
}

export interface ServicePage {
  users: ListedServiceUser[];
  nextCursor: string | null;
}

export type ListResult = Measured &
  ({ page: ServicePage; failure?: undefined } | { page?: undefined; failure: WriteFailure; reason: string });

export interface ListOptions {
  limit: number;
  cursor?: string | undefined;
  /** Only users whose cognitoSub starts with this. */
  prefix?: string | undefined;
  credentials: Credentials;
  deadline: TimeBudget;
}

export interface UserServiceClientOptions {
  url: URL;
  /** Upper bound of one attempt; by default none: the deadline bounds each attempt. */
  timeoutMs?: number | undefined;
  /** First backoff step; doubles each retry up to `maxBackoffMs`, with full jitter. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  fetch?: typeof globalThis.fetch;
}

export interface UserServiceClient {
  /** `POST {url}`: creates the user. */
  createUser(body: UserRecord, options: WriteOptions): Promise<WriteResult<'created' | 'exists'>>;
  /** `PATCH {url}/{cognitoSub}`: the Cognito-owned fields, as a JSON merge patch. */
  patchUser(
    cognitoSub: string,
    patch: UserPatch,
    options: WriteOptions,
  ): Promise<WriteResult<'updated' | 'stale' | 'missing'>>;
  /** `DELETE {url}/{cognitoSub}`. */
  deleteUser(cognitoSub: string, options: WriteOptions): Promise<WriteResult<'deleted'>>;
  /** `GET {url}?limit&cursor&prefix`: one page of the service's users, by cognitoSub. */
  listUsers(options: ListOptions): Promise<ListResult>;
}

export const USER_AGENT = `cognito-user-sync/${VERSION}`;
export const MAX_DETAIL_BYTES = 2048;
/** A created or updated user's JSON is small; a 2xx body longer than this is not one. */
const MAX_SUCCESS_BYTES = 64 * 1024;
/** A page of at most 1000 users. */
const MAX_PAGE_BYTES = 4 * 1024 * 1024;

/** An attempt started with less time than this left cannot get an answer back anyway. */
const MIN_ATTEMPT_MS = 100;

const TRANSIENT_STATUS = [408, 425, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

export const isTransientStatus = (status: number): boolean => TRANSIENT_STATUS.includes(status);

/**
 * Milliseconds the server asked us to wait, from `Retry-After` (seconds or an HTTP date) or the
 * rate-limit headers ky also reads; undefined when it did not ask. A wait no clock can reach
 * (`Infinity`) is infinite: it never fits a budget.
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
  if (!Number.isNaN(seconds)) {
    if (!Number.isFinite(seconds)) return Number.POSITIVE_INFINITY;
    // ky reads a number this large as a Unix time; so do we, to agree on the wait.
    const ms = seconds * 1000;
    return Math.max(0, ms >= Date.parse('2024-01-01') ? ms - now : ms);
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/** Reads at most `maxBytes` of a body, then lets the rest go; `complete` says whether it all fit. */
export const readBody = async (
  response: Response,
  maxBytes: number,
): Promise<{ text: string; complete: boolean }> => {
  if (!response.body) return { text: '', complete: true };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  try {
    while (size <= maxBytes) {
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short still tells what it got.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return {
    text: Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'),
    complete: complete && size <= maxBytes,
  };
};

/** Reads at most `maxBytes` of a body, then lets the rest go. */
export const readCapped = async (response: Response, maxBytes = MAX_DETAIL_BYTES): Promise<string> =>
  (await readBody(response, maxBytes)).text;

const discard = (response: Response): void => {
  response.body?.cancel().catch(() => undefined);
};

const jsonOf = (text: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
};

/** The JSON object a complete `application/json` body holds; undefined for anything else. */
const jsonObjectOf = async (
  response: Response,
  maxBytes: number,
): Promise<Record<string, unknown> | undefined> => {
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(response.headers.get('content-type') ?? '')) {
    discard(response);
    return undefined;
  }
  const { text, complete } = await readBody(response, maxBytes);
  return complete ? jsonOf(text) : undefined;
};

const networkReason = (error: unknown): string => {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? `network-${cause.code}` : 'network';
};

/** The failure an error answer means, once the operation's own answers are handled. */
const failureOf = (status: number): WriteFailure => {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status >= 300 && status < 400) return 'redirect';
  if (isTransientStatus(status)) return 'transient';
  return 'rejected';
};

/**
 * Cuts every credential we sent (the API key, each signature) out of an answer before it is kept,
 * and a credential's start where the answer was cut short, as a service that echoes the request
 * headers would hand them back. JSON's escaped form of a slash counts too.
 */
export const redactCredentials = (text: string, sent: ReadonlySet<string>): string => {
  let redacted = text;
  for (const secret of sent) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, secret.replaceAll('/', '\\/')])) {
      redacted = redacted.split(form).join('[redacted]');
      // Cut short at the end: the first 8 characters or more of the secret.
      for (let length = Math.min(form.length - 1, redacted.length); length >= 8; length--) {
        if (redacted.endsWith(form.slice(0, length))) {
          redacted = `${redacted.slice(0, -length)}[redacted]`;
          break;
        }
      }
    }
  }
  return redacted;
};

interface Operation {
  method: 'post' | 'patch' | 'delete' | 'get';
  url: URL;
  /** The exact bytes sent (signed as they are); '' for none. */
  body: string;
  contentType?: string;
  /** Whether a retry is safe (writes carry an idempotency key; a GET is safe). */
  retry: boolean;
  idempotencyKey?: string;
  /** The webhook-id of the signature; a write's derives from its idempotency key. */
  webhookId: string;
  /** Turns a non-error answer (2xx) or one of the operation's own error statuses into its result. */
  judge: (response: Response) => Promise<JudgedAnswer | undefined>;
  /** The statuses the operation handles itself, besides 2xx. */
  ownStatuses: readonly number[];
}

type JudgedAnswer = { outcome: Written } | { failure: WriteFailure; reason: string; detail?: string };

export const createUserServiceClient = ({
  url,
  timeoutMs,
  baseBackoffMs = 100,
  maxBackoffMs = 1000,
  fetch = globalThis.fetch,
}: UserServiceClientOptions): UserServiceClient => {
  const userUrl = (cognitoSub: string) =>
    new URL(`${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(cognitoSub)}`, url);

  type SendOptions = Omit<WriteOptions, 'idempotencyKey'>;
  type Sent = Measured &
    ({ answer: JudgedAnswer; response?: undefined } | { answer?: undefined; response: Response });

  /** One operation, its retries included, within the deadline; every body it reads is read by then. */
  const send = (operation: Operation, options: SendOptions): Promise<Sent> =>
    options.deadline.withSignal(
      'User Service call',
      (signal) => sendWithin(operation, options, signal),
      options.reserveMs,
    );

  const sendWithin = async (
    operation: Operation,
    { credentials, deadline, reserveMs = 0, retryLimit = 5 }: SendOptions,
    signal: AbortSignal,
  ): Promise<Sent> => {
    const startedAt = performance.now();
    const attemptLatenciesMs: number[] = [];
    const sent = new Set<string>();
    let refreshed = false;
    let httpStatus: number | undefined;

    const fixedHeaders: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (operation.contentType) fixedHeaders['content-type'] = operation.contentType;
    if (operation.idempotencyKey) fixedHeaders['idempotency-key'] = operation.idempotencyKey;
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
        const signed = signatureHeaders({ id: operation.webhookId, body: operation.body, keys: signingKeys });
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
    const attempt = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
      const attemptStart = performance.now();
      try {
        const request = input instanceof Request ? input : new Request(input, init);
        return await fetch(request.url, {
          ...init,
          method: request.method,
          headers: attemptHeaders(),
          signal: request.signal,
          redirect: request.redirect,
          ...(operation.body !== '' && { body: operation.body }),
        });
      } finally {
        attemptLatenciesMs.push(Math.round(performance.now() - attemptStart));
      }
    };
    const measured = (): Measured => ({
      attempts: attemptLatenciesMs.length,
      attemptLatenciesMs,
      durationMs: Math.round(performance.now() - startedAt),
      ...(httpStatus !== undefined && { httpStatus }),
    });
    // Whatever is kept of an answer goes without the credentials it may echo.
    const done = (answer: JudgedAnswer) => ({
      answer:
        'detail' in answer && answer.detail
          ? { ...answer, detail: redactCredentials(answer.detail, sent) }
          : answer,
      ...measured(),
    });

    const backoffCeilingMs = (retryCount: number) =>
      Math.min(maxBackoffMs, baseBackoffMs * 2 ** (retryCount - 1));
    const isAuthFailure = (error: unknown) =>
      isHTTPError(error) && (error.response.status === 401 || error.response.status === 403);
    const statuses = TRANSIENT_STATUS.filter((status) => !operation.ownStatuses.includes(status));

    try {
      const response = await ky(operation.url, {
        method: operation.method,
        signal,
        fetch: attempt,
        redirect: 'manual',
        timeout: timeoutMs ?? false,
        throwHttpErrors: (status) => status >= 300 && !operation.ownStatuses.includes(status),
        retry: {
          limit: operation.retry ? retryLimit : 0,
          methods: [operation.method], // safe to repeat: the idempotency key makes it so
          statusCodes: statuses,
          afterStatusCodes: statuses,
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
      const judged = await operation.judge(response);
      if (judged) return done(judged);
      return { response, ...measured() };
    } catch (error) {
      if (isHTTPError(error)) {
        const status = error.response.status;
        httpStatus = status;
        const failure = failureOf(status);
        if (failure === 'redirect') {
          discard(error.response);
          return done({ failure, reason: `redirect-${status}` });
        }
        const detail = await readCapped(error.response);
        return done({ failure, reason: `http-${status}`, ...(detail && { detail }) });
      }
      if (error instanceof DeadlineExceededError || signal.aborted) {
        return done({ failure: 'transient', reason: 'deadline' });
      }
      if (isTimeoutError(error)) return done({ failure: 'transient', reason: 'timeout' });
      return done({ failure: 'transient', reason: networkReason(error) });
    }
  };

  /** A 2xx that is not the contract's answer: a proxy, a misrouted path. Try again later. */
  const unexpected = (response: Response): JudgedAnswer => {
    discard(response); // what is left of it: the connection goes back, however long the body
    return { failure: 'transient', reason: `http-${response.status}-unexpected` };
  };
  /** The answer names the user it is about: it must be ours (when it names one). */
  const namesOtherUser = (body: Record<string, unknown>, cognitoSub: string) =>
    'cognitoSub' in body && body.cognitoSub !== cognitoSub;
  /** A 409: "exists" when it names this cognitoSub (POST only); a clash on another field otherwise. */
  const conflict = async (response: Response, existsFor?: string): Promise<JudgedAnswer> => {
    const { text } = await readBody(response, MAX_DETAIL_BYTES);
    if (existsFor !== undefined && jsonOf(text)?.cognitoSub === existsFor) return { outcome: 'exists' };
    // A clash on another field (another user's email, say): this payload is refused as it is.
    return { failure: 'rejected', reason: 'http-409', ...(text && { detail: text }) };
  };
  /**
   * An answer of the contract's own (a 404, a 412) means what the contract says only with the
   * contract's body, `{"error": "<error>"}`; the same status with any other body (a gateway's page,
   * a bare status) is a refusal, kept for an operator (the detail is the capped answer).
   */
  const contractAnswer = async (
    response: Response,
    error: string,
    outcome: Written,
  ): Promise<JudgedAnswer> => {
    const { text } = await readBody(response, MAX_DETAIL_BYTES);
    if (jsonOf(text)?.error === error) return { outcome };
    return { failure: 'rejected', reason: `http-${response.status}`, ...(text && { detail: text }) };
  };
  /** A 404 from a wrong USER_SERVICE_URL must not count every DELETE as done. */
  const notFound = (response: Response, outcome: Written) => contractAnswer(response, 'not_found', outcome);
  /**
   * A 412 from something before the service (a gateway, a cache) must not count a write as lost to
   * a newer one: an AdminDisableUser would be acknowledged, and the user stay active downstream.
   */
  const staleWrite = (response: Response) => contractAnswer(response, 'stale_write', 'stale');

  // The judge of each operation only gives that operation's outcomes (W).
  const write = async <W extends Written>(
    operation: Operation,
    options: WriteOptions,
  ): Promise<WriteResult<W>> => {
    const result = await send(operation, options);
    const { answer, response, ...measured } = result;
    if (answer) {
      if ('outcome' in answer) return { outcome: answer.outcome as W, ...measured };
      return { ...answer, ...measured };
    }
    discard(response);
    return { failure: 'transient', reason: `http-${response.status}-unexpected`, ...measured };
  };

  const webhookIdOf = (idempotencyKey: string) => webhookIdFor(idempotencyKey);

  return {
    createUser(body, options) {
      return write(
        {
          method: 'post',
          url,
          body: JSON.stringify(body), // serialised once: the signature covers exactly the bytes sent
          contentType: 'application/json',
          retry: true,
          idempotencyKey: options.idempotencyKey,
          webhookId: webhookIdOf(options.idempotencyKey),
          ownStatuses: [409],
          judge: async (response) => {
            if (response.status === 409) return conflict(response, body.cognitoSub);
            if (response.status !== 200 && response.status !== 201) return unexpected(response);
            const created = await jsonObjectOf(response, MAX_SUCCESS_BYTES);
            if (!created || namesOtherUser(created, body.cognitoSub)) return unexpected(response);
            return { outcome: 'created' };
          },
        },
        options,
      );
    },

    patchUser(cognitoSub, patch, options) {
      return write(
        {
          method: 'patch',
          url: userUrl(cognitoSub),
          body: JSON.stringify(patch),
          contentType: 'application/merge-patch+json',
          retry: true,
          idempotencyKey: options.idempotencyKey,
          webhookId: webhookIdOf(options.idempotencyKey),
          ownStatuses: [404, 409, 412],
          judge: async (response) => {
            if (response.status === 404) return notFound(response, 'missing');
            if (response.status === 412) return staleWrite(response);
            if (response.status === 409) return conflict(response);
            if (response.status === 204) return { outcome: 'updated' };
            if (response.status !== 200) return unexpected(response);
            const updated = await jsonObjectOf(response, MAX_SUCCESS_BYTES);
            if (!updated || namesOtherUser(updated, cognitoSub)) return unexpected(response);
            return { outcome: 'updated' };
          },
        },
        options,
      );
    },

    deleteUser(cognitoSub, options) {
      return write(
        {
          method: 'delete',
          url: userUrl(cognitoSub),
          body: '',
          retry: true,
          idempotencyKey: options.idempotencyKey,
          webhookId: webhookIdOf(options.idempotencyKey),
          ownStatuses: [404],
          judge: async (response) => {
            if (response.status === 404) return notFound(response, 'deleted');
            if (response.status === 204) return { outcome: 'deleted' };
            if (response.status === 200 && (await jsonObjectOf(response, MAX_SUCCESS_BYTES))) {
              return { outcome: 'deleted' };
            }
            return unexpected(response);
          },
        },
        options,
      );
    },

    async listUsers({ limit, cursor, prefix, ...options }) {
      const pageUrl = new URL(url);
      pageUrl.searchParams.set('limit', String(limit));
      if (cursor) pageUrl.searchParams.set('cursor', cursor);
      if (prefix) pageUrl.searchParams.set('prefix', prefix);
      let page: ServicePage | undefined;
      const result = await send(
        {
          method: 'get',
          url: pageUrl,
          body: '',
          retry: true,
          webhookId: `msg_list_${crypto.randomUUID()}`,
          ownStatuses: [],
          judge: async (response) => {
            const body = response.status === 200 ? await jsonObjectOf(response, MAX_PAGE_BYTES) : undefined;
            page = body && servicePageOf(body);
            return page ? { outcome: 'updated' } : unexpected(response);
          },
        },
        { ...options, retryLimit: 3 },
      );
      const { answer, response, ...measured } = result;
      if (response) discard(response);
      if (page) return { page, ...measured };
      const failed =
        answer && 'failure' in answer ? answer : { failure: 'transient' as const, reason: 'unexpected' };
      return { failure: failed.failure, reason: failed.reason, ...measured };
    },
  };
};

const nullableString = (value: unknown): value is string | null =>
  value === null || typeof value === 'string';

/** A page as the contract says it is; undefined when it is not one. */
const servicePageOf = (body: Record<string, unknown>): ServicePage | undefined => {
  const { users, nextCursor } = body;
  if (
    !Array.isArray(users) ||
    !(nextCursor === null || nextCursor === undefined || typeof nextCursor === 'string')
  ) {
    return undefined;
  }
  const listed: ListedServiceUser[] = [];
  for (const user of users) {
    if (!isRecord(user) || typeof user.cognitoSub !== 'string' || user.cognitoSub === '') return undefined;
    const { cognitoSub, email = null, fullName = null, status, cognitoLastModified = null } = user;
    if (!nullableString(email) || !nullableString(fullName) || typeof status !== 'string') return undefined;
    if (!nullableString(cognitoLastModified)) return undefined;
    listed.push({ cognitoSub, email, fullName, status, cognitoLastModified });
  }
  return { users: listed, nextCursor: nextCursor ?? null };
};
