// The dev User Service: a real HTTP server that implements the User Service contract in
// memory. `npm start` embeds it, `npm run user-service` runs it alone, and the tests talk to it.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { USER_RECORD_KEYS, type UserRecord } from '../core/user-record.js';
import { verifyUserSyncRequest } from '../verify.js';
import { parseSigningSecret } from '../webhooks/signature.js';

export const USERS_PATH = '/api/v1/users';
const MAX_BODY_BYTES = 64 * 1024;

export interface StoredUser extends UserRecord {
  createdAt: string;
  idempotencyKey: string;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
}

export interface DevUserServiceOptions {
  port?: number;
  host?: string;
  /** Keys accepted in `x-api-key`; none means no key is required. */
  apiKeys?: readonly string[];
  /**
   * Standard Webhooks signing secrets (`whsec_…`, or the JSON kept in Secrets Manager); when
   * given, a POST must carry a valid signature by one of their keys.
   */
  signingSecrets?: readonly string[];
  /** Called once per answered request, e.g. to print an access log. */
  onRequest?: (request: ReceivedRequest) => void;
}

export interface DevUserService {
  /** The collection URL, to use as USER_SERVICE_URL. */
  url: string;
  users: Map<string, StoredUser>;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

class Rejection extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

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

const isNullableString = (value: unknown): value is string | null =>
  value === null || typeof value === 'string';

/** The contract's rules for a new user: exactly the seven keys, each of the right type. */
export const validateUserRecord = (value: unknown): UserRecord => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Rejection(400, 'bad_request', 'body must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !(USER_RECORD_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new Rejection(422, 'unprocessable', `unknown keys: ${unknown.join(', ')}`);
  const missing = USER_RECORD_KEYS.filter((key) => !(key in record));
  if (missing.length > 0) throw new Rejection(422, 'unprocessable', `missing keys: ${missing.join(', ')}`);

  const { cognitoSub, email, fullName, status, role, createdBy, updatedBy } = record;
  if (typeof cognitoSub !== 'string' || cognitoSub.trim() === '') {
    throw new Rejection(422, 'unprocessable', 'cognitoSub must be a non-empty string');
  }
  if (!isNullableString(email) || (email !== null && !/^[^@\s]+@[^@\s]+$/.test(email))) {
    throw new Rejection(422, 'unprocessable', 'email must be null or an email address');
  }
  if (!isNullableString(fullName))
    throw new Rejection(422, 'unprocessable', 'fullName must be a string or null');
  for (const [key, field] of [
    ['status', status],
    ['role', role],
  ] as const) {
    if (typeof field !== 'string' || field === '') {
      throw new Rejection(422, 'unprocessable', `${key} must be a non-empty string`);
    }
  }
  if (createdBy !== cognitoSub || updatedBy !== cognitoSub) {
    throw new Rejection(422, 'unprocessable', 'createdBy and updatedBy must equal cognitoSub');
  }
  return record as unknown as UserRecord;
};

const send = (response: ServerResponse, status: number, body: unknown): number => {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
  return status;
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
  const users = new Map<string, StoredUser>();
  const requests: ReceivedRequest[] = [];

  const createUser = (request: IncomingMessage, raw: Buffer, response: ServerResponse): number => {
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
    const text = raw.toString('utf8');
    if (!request.headers['content-type']?.startsWith('application/json')) {
      throw new Rejection(415, 'unsupported_media_type', 'content-type must be application/json');
    }
    const idempotencyKey = request.headers['idempotency-key'];
    if (typeof idempotencyKey !== 'string' || idempotencyKey === '') {
      throw new Rejection(400, 'bad_request', 'idempotency-key header required');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Rejection(400, 'bad_request', 'body is not valid JSON');
    }
    const record = validateUserRecord(parsed);
    const existing = users.get(record.cognitoSub);
    if (existing) {
      return send(response, 409, {
        error: 'conflict',
        reason: 'a user with this cognitoSub exists',
        user: existing,
      });
    }
    const stored: StoredUser = {
      ...record,
      createdAt: new Date().toISOString(),
      idempotencyKey,
    };
    users.set(record.cognitoSub, stored);
    return send(response, 201, stored);
  };

  const route = async (request: IncomingMessage, response: ServerResponse, raw: Buffer): Promise<number> => {
    const path = new URL(request.url ?? '/', 'http://dev.invalid').pathname.replace(/\/+$/, '');
    if (path === USERS_PATH) {
      if (request.method === 'POST') return createUser(request, raw, response);
      if (request.method === 'GET') return send(response, 200, { users: [...users.values()] });
      throw new Rejection(405, 'method_not_allowed', 'use GET or POST');
    }
    if (path.startsWith(`${USERS_PATH}/`) && request.method === 'GET') {
      const user = users.get(decodeURIComponent(path.slice(USERS_PATH.length + 1)));
      if (user) return send(response, 200, user);
      throw new Rejection(404, 'not_found', 'no user with this cognitoSub');
    }
    throw new Rejection(404, 'not_found', `no route for ${request.method} ${path}`);
  };

  const server = createServer(async (request, response) => {
    let raw: Buffer = Buffer.alloc(0);
    let status: number;
    try {
      raw = await readBody(request);
      status = await route(request, response, raw);
    } catch (error) {
      const rejection =
        error instanceof Rejection ? error : new Rejection(500, 'internal', 'the dev User Service failed');
      status = send(response, rejection.status, { error: rejection.error, reason: rejection.reason });
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
