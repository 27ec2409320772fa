// examples/python/server.py, the plain http.server receiver of the Python guide, run by python3
// and sent real requests over loopback, signed by our signer: it verifies the raw bytes it reads
// and answers 401 with the reason, whatever http.server makes of the headers.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSigningSecret, signatureHeaders } from '../../src/webhooks/signature.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const [current, previous] = [newSecret(), newSecret()];
const BODY = JSON.stringify({ cognitoSub: 's-1', email: 'zoe@example.com', fullName: 'Zoë Ødegård' });
const signedBy = (secret: string, body = BODY) =>
  signatureHeaders({ id: 'msg_1', body, keys: parseSigningSecret(secret) });

/** Sends with node:http, which sends a header given as a list as that many header lines. */
const send = (url: string, headers: Record<string, string | string[]>, body: string) =>
  new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const sent = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: answer.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
        });
      },
    );
    sent.on('error', reject).end(body);
  });

describe('examples/python/server.py', () => {
  let server: ChildProcessWithoutNullStreams;
  let url: string;

  beforeAll(async () => {
    server = spawn(PYTHON, ['examples/python/server.py', '--port', '0'], {
      cwd: REPO,
      // No __pycache__ beside the example: the package ships that folder.
      env: {
        ...process.env,
        PYTHONDONTWRITEBYTECODE: '1',
        USER_SERVICE_SIGNING_SECRET: JSON.stringify({ current, previous }),
      },
    });
    url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      server.once('error', (error) => reject(new Error(`cannot run ${PYTHON}: ${error.message}`)));
      server.stderr.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
      });
      server.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        const match = /listening on (http:\/\/\S+)/.exec(seen);
        if (match?.[1]) resolve(`${match[1]}/api/v1/users`);
      });
      server.once('exit', (code) => reject(new Error(`server.py exited with ${code}: ${seen}`)));
    });
  });

  afterAll(() => {
    server?.kill();
  });

  it('answers a request signed with the current key 201, with the user it read from the verified bytes', async () => {
    const answer = await send(url, signedBy(current), BODY);

    expect(answer).toEqual({ status: 201, body: JSON.parse(BODY) });
  });

  it('accepts the previous key during a rotation', async () => {
    const answer = await send(url, signedBy(previous), BODY);

    expect(answer.status).toBe(201);
  });

  it('answers a tampered body 401, saying why', async () => {
    const answer = await send(url, signedBy(current), BODY.replace('zoe@', 'eve@'));

    expect(answer).toEqual({ status: 401, body: { error: 'unauthorized', reason: 'no-matching-signature' } });
  });

  it('answers an unsigned request 401, saying why', async () => {
    const answer = await send(url, {}, BODY);

    expect(answer).toEqual({ status: 401, body: { error: 'unauthorized', reason: 'missing-headers' } });
  });

  it('accepts webhook-signature sent twice, the good value second', async () => {
    const headers = signedBy(current);
    const wrong = signedBy(newSecret())['webhook-signature'];

    const answer = await send(
      url,
      { ...headers, 'webhook-signature': [wrong, headers['webhook-signature']] },
      BODY,
    );

    expect(answer.status).toBe(201);
  });
});
