// What counts as done, operation by operation. A status alone never does: an answer means what
// openapi.yaml says only with the body the contract gives it (src/domain/contract.ts), so a proxy's
// page, a gateway's 404 or 412, a body naming another user are no creation, deletion or stale write.

import * as v from 'valibot';
import {
  AlreadyExistsSchema,
  NotFoundSchema,
  StaleWriteSchema,
  UserAnswerSchema,
  UserPageView,
} from '../../domain/contract.js';
import {
  discard,
  jsonObjectIn,
  jsonObjectOf,
  MAX_DETAIL_BYTES,
  MAX_PAGE_BYTES,
  MAX_SUCCESS_BYTES,
  readBody,
  readCapped,
} from './bodies.js';

/** What the User Service did with a write: it is done. */
export type Written =
  /** POST: created (201, or 200, with the stored user). */
  | 'created'
  /** POST: 409 `{"error": "already_exists"}` naming this cognitoSub: the user was there already. */
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

/** A call not done, and why. */
export interface Refusal {
  failure: WriteFailure;
  /** A short code for logs and queue messages: `http-422`, `timeout`, `network-ECONNREFUSED`… */
  reason: string;
  /** The start of the error answer, at most MAX_DETAIL_BYTES; may hold PII and credentials until redacted. */
  detail?: string;
}

const TRANSIENT_STATUS = [408, 425, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

export const isTransientStatus = (status: number): boolean => TRANSIENT_STATUS.includes(status);

/** The failure an error answer means, once the operation's own answers are handled. */
const failureOf = (status: number): WriteFailure => {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status >= 300 && status < 400) return 'redirect';
  if (isTransientStatus(status)) return 'transient';
  return 'rejected';
};

/** An error answer the operation does not read itself: what its status means, the start of its body kept. */
const refusalOf = async (response: Response): Promise<Refusal> => {
  const { status } = response;
  const failure = failureOf(status);
  if (failure === 'redirect') {
    discard(response);
    return { failure, reason: `redirect-${status}` };
  }
  const detail = await readCapped(response);
  return { failure, reason: `http-${status}`, ...(detail && { detail }) };
};

/** A 2xx that is not the contract's answer: a proxy, a misrouted path. Try again later. */
const unexpected = (response: Response): Refusal => {
  discard(response); // what is left of it
  return { failure: 'transient', reason: `http-${response.status}-unexpected` };
};

/** A created or updated user: its cognitoSub, when it gives one, must be ours. Other keys are not read. */
const USER_ANSWER = v.object(UserAnswerSchema.entries);
const isAbout = (body: Record<string, unknown> | undefined, cognitoSub: string): boolean =>
  v.is(USER_ANSWER, body) && (body.cognitoSub === undefined || body.cognitoSub === cognitoSub);

/**
 * Of a 409, what tells "exists": the contract's `error` and the cognitoSub it names, which must be
 * the one sent. The sub alone is not enough: a clash on another field may echo the request back,
 * and taking it for "exists" would drop a user the service never created.
 */
const EXISTS = v.pick(AlreadyExistsSchema, ['error', 'cognitoSub']);

/** A 409 that is no "exists": a clash on another field (another user's email, say), this payload refused as it is. */
const clash = (text: string): Refusal => ({
  failure: 'rejected',
  reason: 'http-409',
  ...(text && { detail: text }),
});

/** POST's 409: "exists" when it is `already_exists` naming the cognitoSub sent; a clash otherwise. */
const exists = async (response: Response, cognitoSub: string): Promise<{ outcome: 'exists' } | Refusal> => {
  const { text } = await readBody(response, MAX_DETAIL_BYTES);
  const body = jsonObjectIn(text);
  return v.is(EXISTS, body) && body.cognitoSub === cognitoSub ? { outcome: 'exists' } : clash(text);
};

/**
 * An answer of the contract's own (a 404, a 412) means what the contract says only with the
 * contract's `error`; the same status with any other body (a gateway's page, a bare status) is a
 * refusal, kept for an operator (the detail is the capped answer).
 */
const contractAnswer = async <T>(
  response: Response,
  body: v.GenericSchema,
  meaning: T,
): Promise<T | Refusal> => {
  const { text } = await readBody(response, MAX_DETAIL_BYTES);
  if (v.is(body, jsonObjectIn(text))) return meaning;
  return { failure: 'rejected', reason: `http-${response.status}`, ...(text && { detail: text }) };
};

/** Of a 404, what tells "no such user": `error`. A 404 from a wrong USER_SERVICE_URL must not count every DELETE as done. */
const NOT_FOUND = v.pick(NotFoundSchema, ['error']);
/**
 * Of a 412, what tells "stale": `error`. A 412 from something before the service (a gateway, a
 * cache) must not count a write as lost to a newer one: an AdminDisableUser would be acknowledged,
 * and the user stay active downstream.
 */
const STALE_WRITE = v.pick(StaleWriteSchema, ['error']);

export interface Operation<Done, Context> {
  /** The error statuses it reads itself: ky neither throws nor retries them. */
  readonly own: readonly number[];
  /** The statuses ky retries: the transient ones it does not read itself. */
  readonly retried: number[];
  /** What a final answer means: done, or a refusal. Reads what it needs of the body and lets the rest go. */
  judge(response: Response, context: Context): Promise<Done | Refusal>;
}

const operation = <Done, Context>(
  own: readonly number[],
  judgeOwn: (response: Response, context: Context) => Promise<Done | Refusal>,
): Operation<Done, Context> => ({
  own,
  retried: TRANSIENT_STATUS.filter((status) => !own.includes(status)),
  judge: (response, context) =>
    response.ok || own.includes(response.status) ? judgeOwn(response, context) : refusalOf(response),
});

/** `POST`, for the cognitoSub sent: created (201 or 200 with a JSON object), or exists (409 naming it). */
export const CREATE = operation([409], async (response, cognitoSub: string) => {
  if (response.status === 409) return exists(response, cognitoSub);
  if (response.status !== 200 && response.status !== 201) return unexpected(response);
  const created = await jsonObjectOf(response, MAX_SUCCESS_BYTES);
  return isAbout(created, cognitoSub) ? { outcome: 'created' as const } : unexpected(response);
});

/** `PATCH`, for the cognitoSub in the path: updated (204, or 200 with a JSON object), stale (412), missing (404). */
export const PATCH = operation([404, 409, 412], async (response, cognitoSub: string) => {
  if (response.status === 404) return contractAnswer(response, NOT_FOUND, { outcome: 'missing' as const });
  if (response.status === 412) return contractAnswer(response, STALE_WRITE, { outcome: 'stale' as const });
  if (response.status === 409) return clash((await readBody(response, MAX_DETAIL_BYTES)).text);
  if (response.status === 204) return { outcome: 'updated' as const };
  if (response.status !== 200) return unexpected(response);
  const updated = await jsonObjectOf(response, MAX_SUCCESS_BYTES);
  return isAbout(updated, cognitoSub) ? { outcome: 'updated' as const } : unexpected(response);
});

/** `DELETE`: deleted (204, 200 with JSON), or already gone (404 `not_found`). */
export const DELETE = operation([404], async (response) => {
  if (response.status === 404) return contractAnswer(response, NOT_FOUND, { outcome: 'deleted' as const });
  if (response.status === 204) return { outcome: 'deleted' as const };
  if (response.status === 200 && (await jsonObjectOf(response, MAX_SUCCESS_BYTES))) {
    return { outcome: 'deleted' as const };
  }
  return unexpected(response);
});

/** `GET`: a page, as the contract gives it (read as UserPageView: nulls may be left out, other keys are not read). */
export const LIST = operation([], async (response) => {
  const body = response.status === 200 ? await jsonObjectOf(response, MAX_PAGE_BYTES) : undefined;
  const page = v.safeParse(UserPageView, body);
  return page.success ? { page: page.output } : unexpected(response);
});

export type ServicePage = v.InferOutput<typeof UserPageView>;
