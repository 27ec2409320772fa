// A loopback server that keeps every request whole (method, path, headers, raw body) and answers
// each with the scripted server's responders, for checking what a client really sends.

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Responder } from '../helpers/scripted-server.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface RecordingServer {
  /** The collection URL, for USER_SERVICE_URL. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Uses the nth responder for the nth request, and the last one for every request after. */
export const startRecordingServer = async (script: Responder[]): Promise<RecordingServer> => {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const recorded = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
      };
      const n = requests.push(recorded) - 1;
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      script[Math.min(n, script.length - 1)]?.({ headers: request.headers, body, json }, response, n);
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
