// The burst phase's User Service, in its own Node 22 process (run by bench/lib/burst-host.ts with
// tsx): a node:http server on loopback with a capacity, that counts every request it receives.
// - Capacity: a token bucket of `capacityRps` a second (holding `bucketSeconds` of it); a request
//   beyond it is answered 429, with `Retry-After` when the scenario gives one.
// - An outage window: every request in it is answered 503 (and takes no token).
// - Every answer takes `latencyMs` (S5's slow but healthy service).
// - The source of a request is the first segment of its path: the trigger is given
//   /trigger/api/v1/users, the retry worker /worker/api/v1/users (both valid collection URLs).
// - Idempotent on the idempotency-key, as the contract requires: a key seen before is answered
//   409 naming the user it created. Deliberately not on the cognitoSub: a user sent again under
//   another key is created again, and counted twice, so a key that changed between the trigger and
//   the worker would show.
// The parent starts the scenario's clock ('start', t0) and reads the counts over IPC.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BurstServiceOptions {
  capacityRps: number;
  /** The bucket holds this many seconds of capacity (its burst). */
  bucketSeconds: number;
  /** The Retry-After of a 429, as sent; none when undefined. */
  retryAfter?: string | undefined;
  latencyMs: number;
  /** 503 from t0 + fromMs to t0 + toMs. */
  outage?: { fromMs: number; toMs: number } | undefined;
  apiKey: string;
}

export type Source = 'trigger' | 'worker';

/** One request: when it arrived (epoch ms), from which source, what it was answered. */
export type ServiceRequest = [atMs: number, source: Source, status: number];
/** One user: its sub, how many times it was created (201), when first. */
export type ServiceUser = [sub: string, creates: number, firstCreatedAtMs: number];

export interface ServiceStats {
  requests: ServiceRequest[];
  users: ServiceUser[];
}

type Message = { op: 'start'; t0: number } | { op: 'count' } | { op: 'stats' };

const options = JSON.parse(process.env.BENCH_BURST_SERVICE ?? 'null') as BurstServiceOptions | null;
if (!options) throw new Error('BENCH_BURST_SERVICE is not set');

const now = () => performance.timeOrigin + performance.now();
const size = Math.max(1, options.capacityRps * options.bucketSeconds);
let tokens = size;
let filledAt = now();
const take = (at: number): boolean => {
  tokens = Math.min(size, tokens + ((at - filledAt) / 1000) * options.capacityRps);
  filledAt = at;
  if (tokens < 1) return false;
  tokens -= 1;
  return true;
};

let t0: number | undefined;
const inOutage = (at: number) =>
  t0 !== undefined &&
  options.outage !== undefined &&
  at >= t0 + options.outage.fromMs &&
  at < t0 + options.outage.toMs;

const requests: ServiceRequest[] = [];
const users = new Map<string, { creates: number; firstAt: number }>();
/** idempotency-key → the sub it created. */
const keys = new Map<string, string>();

const answer = (
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  const text = JSON.stringify(body);
  const send = () => {
    if (response.destroyed) return;
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(text);
  };
  if (options.latencyMs > 0) setTimeout(send, options.latencyMs);
  else send();
};

const sourceOf = (url: string | undefined): Source | undefined => {
  const path = (url ?? '').split('?')[0];
  if (path === '/trigger/api/v1/users') return 'trigger';
  if (path === '/worker/api/v1/users') return 'worker';
  return undefined;
};

const handle = (request: IncomingMessage, response: ServerResponse, text: string) => {
  // When the request arrived, not when its body was read: that is when it took capacity.
  const at = (request as IncomingMessage & { arrivedAt: number }).arrivedAt;
  const source = sourceOf(request.url);
  if (request.method !== 'POST' || source === undefined) {
    answer(response, 404, { error: 'not_found', reason: 'no such route' });
    return;
  }
  const record = (status: number) => requests.push([at, source, status]);
  if (request.headers['x-api-key'] !== options.apiKey) {
    record(401);
    answer(response, 401, { error: 'unauthorized', reason: 'no valid key' });
    return;
  }
  if (inOutage(at)) {
    record(503);
    answer(response, 503, { error: 'unavailable', reason: 'the service is down' });
    return;
  }
  if (!take(at)) {
    record(429);
    answer(
      response,
      429,
      { error: 'rate_limited', reason: 'too many requests' },
      options.retryAfter === undefined ? {} : { 'retry-after': options.retryAfter },
    );
    return;
  }
  const key = String(request.headers['idempotency-key'] ?? '');
  const known = keys.get(key);
  if (known !== undefined) {
    record(409);
    answer(response, 409, { error: 'already_exists', cognitoSub: known, reason: 'the user exists' });
    return;
  }
  let body: { cognitoSub?: unknown };
  try {
    body = JSON.parse(text) as { cognitoSub?: unknown };
  } catch {
    record(400);
    answer(response, 400, { error: 'bad_request', reason: 'not JSON' });
    return;
  }
  const sub = typeof body.cognitoSub === 'string' ? body.cognitoSub : '';
  keys.set(key, sub);
  const user = users.get(sub);
  if (user) user.creates += 1;
  else users.set(sub, { creates: 1, firstAt: at });
  record(201);
  answer(response, 201, body);
};

const server = createServer((request, response) => {
  (request as IncomingMessage & { arrivedAt: number }).arrivedAt = now();
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ op: 'ready', origin: `http://127.0.0.1:${port}` });
});

process.on('message', (message: Message) => {
  if (message.op === 'start') {
    t0 = message.t0;
    process.send?.({ op: 'start' });
  } else if (message.op === 'count') {
    process.send?.({ op: 'count', users: users.size });
  } else if (message.op === 'stats') {
    const stats: ServiceStats = {
      requests,
      users: [...users].map(([sub, { creates, firstAt }]) => [sub, creates, firstAt]),
    };
    process.send?.({ op: 'stats', ...stats });
  }
});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
