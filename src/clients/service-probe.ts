// One request to a User Service as check-service plays the contract: sent exactly as the functions
// send it (the same headers, idempotency key, API key and Standard Webhooks signature), or with a
// credential deliberately left out or wrong; never retried, never following a redirect; and kept,
// request and answer, for the report, with every credential sent cut out.

import { randomBytes, randomUUID } from 'node:crypto';
import { parseSigningKey, signatureHeaders } from '../webhooks/signature.js';
import type { Credentials } from './credentials.js';
import { credentialRedactor } from './user-service/redaction.js';
import { readBody, USER_AGENT } from './user-service.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface ProbeRequest {
  method: Method;
  /** The user's sub for PATCH and DELETE (`{url}/{sub}`); none for the collection. */
  sub?: string;
  query?: Record<string, string>;
  /** The JSON body; serialised once, signed as sent. */
  body?: unknown;
  idempotencyKey?: string;
  /** `omit`: no webhook-* headers; `wrong`: signed with a key the service does not hold. */
  signature?: 'send' | 'omit' | 'wrong';
  /** `omit`: no x-api-key. */
  apiKey?: 'send' | 'omit';
}

/** What was seen of one exchange, credentials cut out: for the report. */
export interface Exchange {
  request: { method: Method; url: string; headers: Record<string, string>; body?: string };
  answer?: { status: number; headers: Record<string, string>; body: string; json: unknown };
  /** No answer: why (a timeout, a refused connection). */
  error?: string;
}

export type Probe = (request: ProbeRequest) => Promise<Exchange>;

export interface ProbeOptions {
  url: URL;
  credentials: Credentials;
  /** One request's time, answer read included. */
  timeoutMs: number;
  fetch?: typeof globalThis.fetch;
}

/** What is kept of an answer: enough for a page of users, not an endless body. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** Of each header and body kept in the report. */
const REDACTED = '[redacted]';

const MEDIA_TYPE: Partial<Record<Method, string>> = {
  POST: 'application/json',
  PATCH: 'application/merge-patch+json',
};

/** A signing key no service holds: a fresh one for each wrongly signed request. */
const wrongKey = () => parseSigningKey(`whsec_${randomBytes(32).toString('base64')}`);

export const createProbe = ({
  url,
  credentials,
  timeoutMs,
  fetch = globalThis.fetch,
}: ProbeOptions): Probe => {
  const base = url.pathname.replace(/\/+$/, '');
  return async (request) => {
    const target = new URL(
      request.sub === undefined ? base : `${base}/${encodeURIComponent(request.sub)}`,
      url,
    );
    for (const [name, value] of Object.entries(request.query ?? {})) target.searchParams.set(name, value);
    const body = request.body === undefined ? '' : JSON.stringify(request.body);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    const mediaType = MEDIA_TYPE[request.method];
    if (mediaType) headers['content-type'] = mediaType;
    if (request.idempotencyKey) headers['idempotency-key'] = request.idempotencyKey;
    if (credentials.apiKey && request.apiKey !== 'omit') headers['x-api-key'] = credentials.apiKey;
    const sign = request.signature ?? 'send';
    if (sign !== 'omit' && (credentials.signingKeys?.length || sign === 'wrong')) {
      const id = request.idempotencyKey ? `msg_${request.idempotencyKey}` : `msg_check_${randomUUID()}`;
      Object.assign(
        headers,
        signatureHeaders({
          id,
          body,
          keys: sign === 'wrong' ? [wrongKey()] : (credentials.signingKeys ?? []),
        }),
      );
    }
    const sent = new Set(
      [credentials.apiKey, headers['webhook-signature']].filter((value): value is string => !!value),
    );
    for (const signature of headers['webhook-signature']?.split(' ') ?? []) sent.add(signature);
    const kept: Exchange['request'] = {
      method: request.method,
      url: target.href,
      headers: Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [
          name,
          name === 'x-api-key' || name === 'webhook-signature' ? REDACTED : value,
        ]),
      ),
      ...(body && { body }),
    };
    try {
      const response = await fetch(target, {
        method: request.method,
        headers,
        ...(body && { body }),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const { text } = await readBody(response, MAX_ANSWER_BYTES);
      const redact = credentialRedactor(sent);
      const redacted = redact(text);
      let json: unknown;
      try {
        json = JSON.parse(redacted);
      } catch {
        json = undefined;
      }
      return {
        request: kept,
        answer: {
          status: response.status,
          headers: Object.fromEntries(
            [...response.headers.entries()].map(([name, value]) => [name, redact(value)]),
          ),
          body: redacted,
          json,
        },
      };
    } catch (error) {
      // fetch says "fetch failed"; its cause says why (ECONNREFUSED, a bad port), a timeout its name.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return {
        request: kept,
        error: cause?.code ?? cause?.message ?? (error instanceof Error ? error.name : String(error)),
      };
    }
  };
};
