// A loopback proxy in front of a real User Service (the dev one) that a test can make misbehave
// on chosen requests: answer in its place (a gateway's error page, a 503), or hold a request
// without ever answering (a process killed while it waits).

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** The path and query, as sent. */
  path: string;
}

/** What to do with one request: pass it on, answer it here, or hold it unanswered. */
export type Verdict = 'forward' | 'hold' | { status: number; body?: string; contentType?: string };

export interface FaultyProxy {
  /** The collection URL, for USER_SERVICE_URL. */
  url: string;
  /** Every request received, whatever became of it. */
  requests: ProxiedRequest[];
  /** Decides the fate of each request from now on; by default every request is passed on. */
  intercept(verdict: (request: ProxiedRequest) => Verdict): void;
  close(): Promise<void>;
}

const bodyOf = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

export const startProxy = async (targetUrl: string): Promise<FaultyProxy> => {
  const target = new URL(targetUrl);
  const requests: ProxiedRequest[] = [];
  let decide: (request: ProxiedRequest) => Verdict = () => 'forward';
  const server = createServer(async (request, response) => {
    const body = await bodyOf(request);
    const seen = { method: request.method ?? 'GET', path: request.url ?? '/' };
    requests.push(seen);
    const verdict = decide(seen);
    if (verdict === 'hold') return;
    if (verdict !== 'forward') {
      response.writeHead(verdict.status, { 'content-type': verdict.contentType ?? 'text/html' });
      response.end(verdict.body ?? '');
      return;
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).flatMap(([name, value]) =>
        typeof value === 'string' && name !== 'host' && name !== 'connection' ? [[name, value]] : [],
      ),
    );
    const answer = await fetch(new URL(seen.path, target), {
      method: seen.method,
      headers,
      ...(body.length > 0 && { body }),
      redirect: 'manual',
    });
    const answerHeaders = Object.fromEntries(
      [...answer.headers].filter(
        ([name]) => !['content-length', 'transfer-encoding', 'connection'].includes(name),
      ),
    );
    response.writeHead(answer.status, answerHeaders);
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    requests,
    intercept(verdict) {
      decide = verdict;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
