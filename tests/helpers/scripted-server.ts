// A real HTTP server on loopback whose answers a test scripts request by request: a status, a
// delay, silence, a reset connection, a redirect, a malformed body.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** The path and query, as sent. */
  path: string;
  headers: IncomingMessage['headers'];
  /** The raw body, as sent. */
  body: string;
  json: unknown;
}

/** Answers one request; `n` counts from 0. */
export type Responder = (request: ReceivedRequest, response: ServerResponse, n: number) => void;

export interface ScriptedServer {
  /** The collection URL, for USER_SERVICE_URL. */
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** Uses the nth responder for the nth request, and the last one for every request after. */
export const startScriptedServer = async (script: Responder[]): Promise<ScriptedServer> => {
  const requests: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const received = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
        json,
      };
      const n = requests.push(received) - 1;
      const responder = script[Math.min(n, script.length - 1)];
      responder?.(received, response, n);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/users`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export const reply =
  (status: number, body: unknown = {}, headers: Record<string, string> = {}): Responder =>
  (_request, response) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(text);
  };

export const after =
  (ms: number, responder: Responder): Responder =>
  (request, response, n) => {
    const timer = setTimeout(() => {
      if (!response.destroyed) responder(request, response, n);
    }, ms);
    response.on('close', () => clearTimeout(timer));
  };

/** Passes a POST on to another User Service (the dev one, say) and answers with its answer. */
export const forwardTo =
  (url: string): Responder =>
  async (request, response, n) => {
    const upstream = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': String(request.headers['idempotency-key']),
      },
      body: request.body,
    });
    reply(upstream.status, await upstream.text())(request, response, n);
  };

/** Never answers: the client has to give up by itself. */
export const silence: Responder = () => undefined;

/** Drops the connection without an answer. */
export const reset: Responder = (_request, response) => {
  response.socket?.resetAndDestroy();
};

/** A loopback URL nothing listens on. */
export const refusedUrl = async (): Promise<string> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/api/v1/users`;
};
