// The User Service client: one request per write, idempotent, retried with backoff inside a
// deadline, never following a redirect, never reading more of an answer than it needs, and never
// taking a status code alone for success (openapi.yaml says what counts as done). What it keeps of
// an error answer (`detail`) has every credential it sent cut out. By concern, in ./user-service/:
// the transport (ky), the answers (what counts as done), the bodies (capped reads), the redaction,
// and what a container knows of the service's load (its retry budget and circuit breaker).

import type { ListedUser, UserPatch, UserRecord } from '../domain/contract.js';
import { webhookIdFor } from '../webhooks/signature.js';
import type { Credentials } from './credentials.js';
import {
  CREATE,
  DELETE,
  LIST,
  PATCH,
  type Refusal,
  type ServicePage,
  type WriteFailure,
  type Written,
} from './user-service/answers.js';
import { redactCredentials } from './user-service/redaction.js';
import {
  type Call,
  createTransport,
  type Measured,
  type TimeBudget,
  type TransportOptions,
} from './user-service/transport.js';

export {
  isTransientStatus,
  type ServicePage,
  type WriteFailure,
  type Written,
} from './user-service/answers.js';
export { MAX_DETAIL_BYTES, readBody, readCapped } from './user-service/bodies.js';
export {
  CIRCUIT_BREAKER,
  createOverloadGuard,
  type OverloadGuard,
  RETRY_BUDGET,
} from './user-service/overload.js';
export { redactCredentials } from './user-service/redaction.js';
export { CIRCUIT_OPEN, type Measured, type TimeBudget, USER_AGENT } from './user-service/transport.js';

export type WriteResult<W extends Written = Written> = Measured &
  (
    | { outcome: W; failure?: undefined; reason?: undefined; detail?: undefined }
    | {
        outcome?: undefined;
        failure: WriteFailure;
        /**
         * A short code for logs and queue messages: `http-422`, `timeout`, `network-ECONNREFUSED`…;
         * `circuit-open` when it was not tried (the container's breaker is open: no attempt made).
         */
        reason: string;
        /** The start of the error answer, at most `MAX_DETAIL_BYTES`, credentials cut out; may hold PII, never logged. */
        detail?: string;
      }
  );

/** What a result says about the calls themselves, for logs, metrics and reports: nothing of the answer. */
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
export type ListedServiceUser = ListedUser;

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

export interface UserServiceClientOptions extends TransportOptions {
  url: URL;
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

/** A refusal as a result keeps it: its detail without a credential sent. */
const kept = ({ failure, reason, detail }: Refusal, sent: ReadonlySet<string>) => ({
  failure,
  reason,
  ...(detail && { detail: redactCredentials(detail, sent) }),
});

/** `{USER_SERVICE_URL}/{cognitoSub}`: one user's URL, the sub encoded as a path segment. */
export const userUrlOf = (url: URL, cognitoSub: string): URL =>
  new URL(`${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(cognitoSub)}`, url);

export const createUserServiceClient = ({ url, ...options }: UserServiceClientOptions): UserServiceClient => {
  const transport = createTransport(options);
  const userUrl = (cognitoSub: string) => userUrlOf(url, cognitoSub);
  /** A write's call: the idempotency key, and the webhook-id derived from it. */
  const writeOf = (idempotencyKey: string) => ({ idempotencyKey, webhookId: webhookIdFor(idempotencyKey) });

  const write = async <W extends Written>(
    call: Call,
    options: WriteOptions,
    judge: (response: Response) => Promise<{ outcome: W } | Refusal>,
  ): Promise<WriteResult<W>> => {
    const { answer, sent, ...measured } = await transport.exchange(call, options, judge);
    if ('outcome' in answer) return { outcome: answer.outcome, ...measured };
    return { ...kept(answer, sent), ...measured };
  };

  return {
    createUser(body, options) {
      return write(
        {
          method: 'post',
          url,
          body: JSON.stringify(body), // serialised once: the signature covers exactly the bytes sent
          contentType: 'application/json',
          ...writeOf(options.idempotencyKey),
          operation: CREATE,
        },
        options,
        (response) => CREATE.judge(response, body.cognitoSub),
      );
    },

    patchUser(cognitoSub, patch, options) {
      return write(
        {
          method: 'patch',
          url: userUrl(cognitoSub),
          body: JSON.stringify(patch),
          contentType: 'application/merge-patch+json',
          ...writeOf(options.idempotencyKey),
          operation: PATCH,
        },
        options,
        (response) => PATCH.judge(response, cognitoSub),
      );
    },

    deleteUser(cognitoSub, options) {
      return write(
        {
          method: 'delete',
          url: userUrl(cognitoSub),
          body: '',
          ...writeOf(options.idempotencyKey),
          operation: DELETE,
        },
        options,
        (response) => DELETE.judge(response, undefined),
      );
    },

    async listUsers({ limit, cursor, prefix, ...options }) {
      const pageUrl = new URL(url);
      pageUrl.searchParams.set('limit', String(limit));
      if (cursor) pageUrl.searchParams.set('cursor', cursor);
      if (prefix) pageUrl.searchParams.set('prefix', prefix);
      const {
        answer,
        sent: _sent,
        ...measured
      } = await transport.exchange(
        {
          method: 'get',
          url: pageUrl,
          body: '',
          webhookId: `msg_list_${crypto.randomUUID()}`,
          operation: LIST,
        },
        { ...options, retryLimit: 3 },
        (response) => LIST.judge(response, undefined),
      );
      if ('page' in answer) return { page: answer.page, ...measured };
      return { failure: answer.failure, reason: answer.reason, ...measured };
    },
  };
};
