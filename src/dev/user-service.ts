// The dev User Service: a real HTTP server that implements the User Service contract (openapi.yaml)
// in memory. `npm start` embeds it, `npm run user-service` runs it alone, and the tests talk to it.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as v from 'valibot';
import {
  type AlreadyExists,
  type FieldConflict,
  instantOf,
  ListedUserView,
  MAX_PAGE_SIZE,
  MergePatchSchema,
  type StaleWrite,
  USER_RECORD_KEYS,
  type UserPatch,
  type UserRecord,
  UserRecordSchema,
} from '../domain/contract.js';
import { isRecord } from '../guards.js';
import { verifyUserSyncRequest } from '../verify.js';
import { parseSigningSecret } from '../webhooks/signature.js';

export const USERS_PATH = '/api/v1/users';
const MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_PAGE_SIZE = 100;
const JSON_TYPE = 'application/json';
const MERGE_PATCH_TYPE = 'application/merge-patch+json';

export interface StoredUser extends UserRecord {
  createdAt: string;
  /** Set on every write; absent only on a user a test put in `users` itself. */
  updatedAt?: string;
  /** The idempotency-key of the POST that created the user. */
  idempotencyKey: string;
}

export interface ReceivedRequest {
  method: string;
  /** The path and query, as sent. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
}

export interface DevUserServiceOptions {
  port?: number;
  host?: string;
  /** Keys accepted in `x-api-key` on POST, PATCH, DELETE and the list; none means no key is required. */
  apiKeys?: readonly string[];
  /**
   * Standard Webhooks signing secrets (`whsec_…`, or the JSON kept in Secrets Manager); when
   * given, POST, PATCH, DELETE and the list must carry a valid signature by one of their keys.
   */
  signingSecrets?: readonly string[];
  /** Called once per answered request, e.g. to print an access log. */
  onRequest?: (request: ReceivedRequest) => void;
}

export interface DevUserService {
  /** The collection URL, to use as USER_SERVICE_URL. */
  url: string;
  /** The users by cognitoSub. Tests may write to it directly: the email and order indexes follow. */
  users: Map<string, StoredUser>;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** An answer other than success: `error` is a code, `details` the fields a caller reads, `reason` for people. */
class Rejection extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(reason);
  }
}

const unprocessable = (reason: string) => new Rejection(422, 'unprocessable', reason);
const badRequest = (reason: string) => new Rejection(400, 'bad_request', reason);
const notFound = () => new Rejection(404, 'not_found', 'no user with this cognitoSub');
const emailConflict = () =>
  new Rejection(409, 'conflict', 'another user has this email', {
    field: 'email',
  } satisfies Pick<FieldConflict, 'field'>);

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Rejection(413, 'payload_too_large', `body over ${MAX_BODY_BYTES} bytes`));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

/** A body held to the contract's rules: the first one it breaks is a 422, the rule's message its reason. */
const checked = <S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> => {
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (!result.success) throw unprocessable(result.issues[0].message);
  return result.output;
};

const RECORD_KEYS = Object.keys(UserRecordSchema.pipe[0].entries);
const PATCHABLE_KEYS = Object.keys(MergePatchSchema.entries);

/** The contract's rules for a new user: exactly its keys (cognitoLastModified when known), each by its rule. */
export const validateUserRecord = (value: unknown): UserRecord => {
  if (!isRecord(value)) throw badRequest('body must be a JSON object');
  const unknown = Object.keys(value).filter((key) => !RECORD_KEYS.includes(key));
  if (unknown.length > 0) throw unprocessable(`unknown keys: ${unknown.join(', ')}`);
  const missing = USER_RECORD_KEYS.filter((key) => !Object.hasOwn(value, key));
  if (missing.length > 0) throw unprocessable(`missing keys: ${missing.join(', ')}`);
  return checked(UserRecordSchema, value);
};

/** The contract's rules for a merge patch: only the fields Cognito owns; null only where a field may be null. */
export const validateUserPatch = (value: unknown): Partial<UserPatch> => {
  if (!isRecord(value)) throw badRequest('body must be a JSON object');
  const refused = Object.keys(value).filter((key) => !PATCHABLE_KEYS.includes(key));
  if (refused.length > 0) throw unprocessable(`not patchable: ${refused.join(', ')}`);
  return checked(MergePatchSchema, value);
};

const emailKey = (email: string | null | undefined): string | undefined =>
  typeof email === 'string' ? email.toLowerCase() : undefined;

/**
 * The users by cognitoSub, with what the contract needs kept in step on every write (including a
 * test's own `set`): who holds each email, case-insensitively, and the subs in byte order for paging.
 */
class UserTable extends Map<string, StoredUser> {
  readonly #byEmail = new Map<string, Set<string>>();
  #ordered: { sub: string; bytes: Buffer }[] | undefined;

  override set(sub: string, user: StoredUser): this {
    if (this.has(sub)) this.#unindex(sub);
    else this.#ordered = undefined;
    super.set(sub, user);
    const email = emailKey(user.email);
    if (email !== undefined) this.#byEmail.set(email, (this.#byEmail.get(email) ?? new Set()).add(sub));
    return this;
  }

  override delete(sub: string): boolean {
    if (!this.has(sub)) return false;
    this.#unindex(sub);
    this.#ordered = undefined;
    return super.delete(sub);
  }

  override clear(): void {
    this.#byEmail.clear();
    this.#ordered = undefined;
    super.clear();
  }

  /** Whether a user other than `sub` holds this email, compared case-insensitively. */
  emailTaken(email: string | null | undefined, sub: string): boolean {
    const key = emailKey(email);
    const holders = key === undefined ? undefined : this.#byEmail.get(key);
    return [...(holders ?? [])].some((holder) => holder !== sub);
  }

  /** Up to `limit` users whose sub starts with `prefix` and sorts after `after`, and whether more follow. */
  page({ prefix, after, limit }: { prefix: string; after: string | undefined; limit: number }) {
    this.#ordered ??= [...this.keys()]
      .map((sub) => ({ sub, bytes: Buffer.from(sub, 'utf8') }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    const ordered = this.#ordered;
    /** The index of the first sub for which `before` is false (subs in order, so a binary search). */
    const firstNot = (before: (bytes: Buffer) => boolean): number => {
      let low = 0;
      let high = ordered.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (before((ordered[middle] as { bytes: Buffer }).bytes)) low = middle + 1;
        else high = middle;
      }
      return low;
    };
    const prefixBytes = Buffer.from(prefix, 'utf8');
    // The subs starting with a prefix sit together, from the first one not below the prefix.
    let index = firstNot((bytes) => Buffer.compare(bytes, prefixBytes) < 0);
    if (after !== undefined) {
      const afterBytes = Buffer.from(after, 'utf8');
      index = Math.max(
        index,
        firstNot((bytes) => Buffer.compare(bytes, afterBytes) <= 0),
      );
    }
    const users: StoredUser[] = [];
    for (; index < ordered.length && users.length < limit; index++) {
      const { sub } = ordered[index] as { sub: string };
      if (!sub.startsWith(prefix)) break;
      const user = this.get(sub);
      if (user) users.push(user);
    }
    const next = ordered[index];
    return { users, more: users.length === limit && next !== undefined && next.sub.startsWith(prefix) };
  }

  #unindex(sub: string): void {
    const email = emailKey(this.get(sub)?.email);
    const holders = email === undefined ? undefined : this.#byEmail.get(email);
    if (email === undefined || !holders) return;
    holders.delete(sub);
    if (holders.size === 0) this.#byEmail.delete(email);
  }
}

// The cursor is opaque to callers; inside, the last sub listed and the prefix it was listed under.
const encodeCursor = (after: string, prefix: string): string =>
  Buffer.from(JSON.stringify({ after, prefix }), 'utf8').toString('base64url');

const decodeCursor = (cursor: string, prefix: string): string => {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed) || typeof parsed.after !== 'string' || typeof parsed.prefix !== 'string') {
    throw badRequest('cursor is not one this service gave');
  }
  if (parsed.prefix !== prefix) throw badRequest('cursor belongs to another prefix');
  return parsed.after;
};

const LIST_PARAMETERS = new Set(['limit', 'cursor', 'prefix']);

/** The page the query asks for: a limit of 1 to 1000 (100 by default), a prefix, a cursor. */
const listQueryOf = (params: URLSearchParams) => {
  for (const name of new Set(params.keys())) {
    if (!LIST_PARAMETERS.has(name)) throw badRequest(`unknown query parameter: ${name}`);
    if (params.getAll(name).length > 1) throw badRequest(`${name} given more than once`);
  }
  const limitText = params.get('limit');
  const limit = limitText === null ? DEFAULT_PAGE_SIZE : Number(limitText);
  if ((limitText !== null && !/^[1-9][0-9]{0,3}$/.test(limitText)) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw badRequest(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  const prefix = params.get('prefix') ?? '';
  const cursor = params.get('cursor');
  return { limit, prefix, after: cursor === null ? undefined : decodeCursor(cursor, prefix) };
};

/** What the list shows of a stored user: the listed fields, cognitoLastModified null until one is stored. */
const listed = (user: StoredUser) => v.parse(ListedUserView, user);

const mediaTypeOf = (request: IncomingMessage): string | undefined =>
  request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();

const send = (
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): number => {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
  return status;
};

const sendNoContent = (response: ServerResponse): number => {
  response.writeHead(204);
  response.end();
  return 204;
};

export const startDevUserService = async ({
  port = 0,
  host = '127.0.0.1',
  apiKeys = [],
  signingSecrets = [],
  onRequest,
}: DevUserServiceOptions = {}): Promise<DevUserService> => {
  // A bad secret is the operator's mistake: say so at start, not as a 401 on every request.
  for (const secret of signingSecrets) parseSigningSecret(secret);
  const users = new UserTable();
  const requests: ReceivedRequest[] = [];

  /** The same checks on every operation cognito-user-sync calls: the key, then the signature over the raw body. */
  const authenticate = (request: IncomingMessage, raw: Buffer): void => {
    if (apiKeys.length > 0) {
      const key = request.headers['x-api-key'];
      if (typeof key !== 'string' || !apiKeys.includes(key)) {
        throw new Rejection(
          401,
          'unauthorized',
          key === undefined ? 'x-api-key missing' : 'x-api-key not accepted',
        );
      }
    }
    if (signingSecrets.length > 0) {
      const verified = verifyUserSyncRequest({
        headers: request.headers,
        body: raw,
        secrets: signingSecrets,
      });
      if (!verified.ok)
        throw new Rejection(401, 'unauthorized', `signature ${verified.reason}: ${verified.message}`);
    }
  };

  const idempotencyKeyOf = (request: IncomingMessage): string => {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') throw badRequest('idempotency-key header required');
    return key;
  };

  const jsonBodyOf = (request: IncomingMessage, raw: Buffer, mediaType: string): unknown => {
    if (mediaTypeOf(request) !== mediaType) {
      throw new Rejection(415, 'unsupported_media_type', `content-type must be ${mediaType}`);
    }
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw badRequest('body is not valid JSON');
    }
  };

  const createUser = (request: IncomingMessage, raw: Buffer, response: ServerResponse): number => {
    const idempotencyKey = idempotencyKeyOf(request);
    const record = validateUserRecord(jsonBodyOf(request, raw, JSON_TYPE));
    if (users.has(record.cognitoSub)) {
      throw new Rejection(409, 'already_exists', 'a user with this cognitoSub exists', {
        cognitoSub: record.cognitoSub,
      } satisfies Pick<AlreadyExists, 'cognitoSub'>);
    }
    if (users.emailTaken(record.email, record.cognitoSub)) throw emailConflict();
    const now = new Date().toISOString();
    const stored: StoredUser = { ...record, createdAt: now, updatedAt: now, idempotencyKey };
    users.set(record.cognitoSub, stored);
    return send(response, 201, stored);
  };

  const updateUser = (
    sub: string,
    request: IncomingMessage,
    raw: Buffer,
    response: ServerResponse,
  ): number => {
    idempotencyKeyOf(request);
    const patch = validateUserPatch(jsonBodyOf(request, raw, MERGE_PATCH_TYPE));
    const existing = users.get(sub);
    if (!existing) throw notFound();
    // A stale write never wins: an older UserLastModifiedDate than the stored one changes nothing.
    // Node runs this handler to the end before the next, so the check and the write are one step.
    const stored = instantOf(existing.cognitoLastModified);
    const sent = instantOf(patch.cognitoLastModified);
    if (stored !== undefined && sent !== undefined && sent < stored) {
      throw new Rejection(412, 'stale_write', 'the user holds a newer cognitoLastModified', {
        cognitoLastModified: existing.cognitoLastModified,
      } satisfies Partial<Pick<StaleWrite, 'cognitoLastModified'>>);
    }
    if ('email' in patch && users.emailTaken(patch.email, sub)) throw emailConflict();
    const updated: StoredUser = { ...existing, ...patch, updatedAt: new Date().toISOString() };
    users.set(sub, updated);
    return send(response, 200, updated);
  };

  const deleteUser = (
    sub: string,
    request: IncomingMessage,
    raw: Buffer,
    response: ServerResponse,
  ): number => {
    idempotencyKeyOf(request);
    if (raw.length > 0) throw badRequest('DELETE takes no body');
    if (!users.delete(sub)) throw notFound();
    return sendNoContent(response);
  };

  const listUsers = (params: URLSearchParams, response: ServerResponse): number => {
    const query = listQueryOf(params);
    const { users: page, more } = users.page(query);
    const last = page.at(-1);
    return send(response, 200, {
      users: page.map(listed),
      nextCursor: more && last ? encodeCursor(last.cognitoSub, query.prefix) : null,
    });
  };

  const subOf = (path: string): string => {
    try {
      return decodeURIComponent(path.slice(USERS_PATH.length + 1));
    } catch {
      throw badRequest('the cognitoSub in the path is not valid percent-encoding');
    }
  };

  const route = (request: IncomingMessage, response: ServerResponse, raw: Buffer): number => {
    const url = new URL(request.url ?? '/', 'http://dev.invalid');
    const path = url.pathname.replace(/\/+$/, '');
    const { method } = request;
    if (path === USERS_PATH) {
      if (method !== 'POST' && method !== 'GET') {
        throw new Rejection(405, 'method_not_allowed', 'use GET or POST', {}, { allow: 'GET, POST' });
      }
      authenticate(request, raw);
      return method === 'POST' ? createUser(request, raw, response) : listUsers(url.searchParams, response);
    }
    if (path.startsWith(`${USERS_PATH}/`) && !path.slice(USERS_PATH.length + 1).includes('/')) {
      const sub = subOf(path);
      // Dev inspection: no key, no signature (cognito-user-sync never calls it).
      if (method === 'GET') {
        const user = users.get(sub);
        if (user) return send(response, 200, user);
        throw notFound();
      }
      if (method !== 'PATCH' && method !== 'DELETE') {
        throw new Rejection(
          405,
          'method_not_allowed',
          'use GET, PATCH or DELETE',
          {},
          {
            allow: 'GET, PATCH, DELETE',
          },
        );
      }
      authenticate(request, raw);
      return method === 'PATCH'
        ? updateUser(sub, request, raw, response)
        : deleteUser(sub, request, raw, response);
    }
    throw new Rejection(404, 'not_found', `no route for ${method} ${path}`);
  };

  const server = createServer(async (request, response) => {
    let raw: Buffer = Buffer.alloc(0);
    let status: number;
    try {
      raw = await readBody(request);
      status = route(request, response, raw);
    } catch (error) {
      const rejection =
        error instanceof Rejection ? error : new Rejection(500, 'internal', 'the dev User Service failed');
      status = send(
        response,
        rejection.status,
        { error: rejection.error, ...rejection.details, reason: rejection.reason },
        rejection.headers,
      );
    }
    const received: ReceivedRequest = {
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body: raw.toString('utf8'),
      status,
    };
    requests.push(received);
    onRequest?.(received);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${hostPart}:${address.port}${USERS_PATH}`,
    users,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
