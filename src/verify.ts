// The receiving side of signed requests, for the User Service team: verifies the Standard Webhooks
// signature of a `POST /api/v1/users`. Imports only Node built-ins and modules of ours
// that import nothing else (webhooks/signature, errors, guards), so it bundles into one standalone,
// dependency-free file.

import { timingSafeEqual } from 'node:crypto';
import {
  computeSignature,
  isWebhookId,
  parseSigningSecret,
  SIGNATURE_VERSION,
  type SigningKey,
  unixSeconds,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from './webhooks/signature.js';

export type VerifyFailureReason =
  /** A secret given to the verifier is not a usable signing secret (the receiver's set-up). */
  | 'bad-secret'
  /** `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent or empty. */
  | 'missing-headers'
  /** `webhook-id` is not visible ASCII without `.`, or is longer than 256 characters. */
  | 'malformed-id'
  /** `webhook-timestamp` is not a whole number of seconds. */
  | 'malformed-timestamp'
  /**
   * `webhook-signature` holds no signature we can read (no `version,signature` pair, or a `v1`
   * that is not 32 bytes of base64), or more than 32 of them.
   */
  | 'malformed-signature'
  /** Older than the tolerance: a replay, or a clock far behind. */
  | 'timestamp-too-old'
  /** Newer than the tolerance: a clock far ahead, or milliseconds sent for seconds. */
  | 'timestamp-in-future'
  /** No `v1` signature matches any key: a changed body, id or timestamp, or a key we do not hold. */
  | 'no-matching-signature';

export type VerifyResult =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: VerifyFailureReason; message: string };

/** A Fetch `Headers`, or a plain object such as node's `IncomingMessage.headers` (names in any case). */
export type HeadersLike = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyUserSyncRequestOptions {
  headers: HeadersLike;
  /** The raw body as received; a string is taken as UTF-8. Not a re-serialised parse of it. */
  body: string | Uint8Array;
  /**
   * The signing secret(s) you accept: each a `whsec_…` key, several space-separated, or the JSON
   * `{"current": "whsec_…", "previous": "whsec_…"}` kept in Secrets Manager. Any key verifies.
   */
  secrets: string | readonly string[];
  /** How far `webhook-timestamp` may be from now, either way; 300 (5 minutes) by default. */
  toleranceSeconds?: number;
  /** The time to check against, a finite number of epoch milliseconds like `Date.now()`; now by default. */
  now?: number;
}

export const DEFAULT_TOLERANCE_SECONDS = 300;

/** More signatures than rotation ever needs is someone probing, not a sender. */
const MAX_SIGNATURES = 32;
// Digits without a leading zero, so the number signed is the text received.
const TIMESTAMP = /^(?:0|[1-9][0-9]{0,14})$/;
const VERSION = /^v[0-9]+[a-z]*$/;
/** Canonical base64 of the 32 bytes of an HMAC-SHA256. */
const V1_SIGNATURE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

const fail = (reason: VerifyFailureReason, message: string): VerifyResult => ({ ok: false, reason, message });

const isHeaders = (headers: HeadersLike): headers is Headers =>
  typeof (headers as { get?: unknown }).get === 'function';

/** A header's value however it was given; several values are joined as HTTP joins them. */
const headerOf = (headers: HeadersLike, name: string): string | undefined => {
  if (isHeaders(headers)) return headers.get(name) ?? undefined;
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    values.push(...(typeof value === 'string' ? [value] : value));
  }
  return values.length === 0 ? undefined : values.join(', ');
};

const keysOf = (secrets: string | readonly string[]): SigningKey[] | string => {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (list.length === 0) return 'no signing secret was given';
  try {
    return list.flatMap((secret) => parseSigningSecret(secret));
  } catch (error) {
    // The message is safe: signature.ts never puts the secret in one.
    return error instanceof Error ? error.message : 'a signing secret is not valid';
  }
};

const badOption = (message: string) => new RangeError(message, { cause: { package: 'cognito-user-sync' } });

/**
 * The `v1` signatures of the header, decoded, passing over what it cannot read as the official
 * library does: `standardwebhooks` (node_modules/standardwebhooks/dist/index.js, `Webhook.verify`)
 * splits the header on " ", takes the first two comma-separated fields of each part as version and
 * signature, and skips any part that is not a matching `v1`. So a garbled entry beside a good one
 * does not hide it. When nothing usable is left and something was garbled, a string says what.
 */
const v1SignaturesOf = (header: string): Buffer[] | string => {
  const signatures: Buffer[] = [];
  let entries = 0;
  let fault: string | undefined;
  // A sender separates entries with spaces; a hop that merges a repeated header adds a comma
  // (node:http and fetch ", ", API Gateway HTTP APIs ","). So after a `version,signature` pair a
  // comma starts the next entry, and empty fields are only separators.
  for (const part of header.split(/\s+/)) {
    const fields = part.split(',');
    for (let at = 0; at < fields.length; at++) {
      const version = fields[at] ?? '';
      const value = fields[at + 1] ?? '';
      if (version === '') continue;
      // A value that reads as a version is the next entry: its own pair lost its value.
      if (!VERSION.test(version) || value === '' || VERSION.test(value)) {
        fault ??= 'webhook-signature must be space-separated "version,signature" pairs';
        continue;
      }
      at++; // past the value
      entries++;
      if (entries > MAX_SIGNATURES) return `webhook-signature holds more than ${MAX_SIGNATURES} signatures`;
      // Other versions (v1a: ed25519) are the sender's to add; we skip them, as the spec's libraries do.
      if (version !== SIGNATURE_VERSION) continue;
      if (V1_SIGNATURE.test(value)) signatures.push(Buffer.from(value, 'base64'));
      else fault ??= 'a v1 signature must be the base64 of 32 bytes';
    }
  }
  return signatures.length === 0 && fault !== undefined ? fault : signatures;
};

/**
 * Verifies a request signed by cognito-user-sync (Standard Webhooks, `v1`), in this order: the
 * secrets, the three headers present, each well-formed, the timestamp within the tolerance, then
 * the signature against every key (constant-time). Never throws for a bad request; each refusal
 * has its own `reason` and a `message` fit for a 401 answer or a log (no secret, no body). Throws
 * a `RangeError` for a bad option (`toleranceSeconds`, `now`): the receiver's bug, not the sender's.
 *
 * @example
 * // A node:http User Service; verify the raw bytes before parsing them.
 * import { verifyUserSyncRequest } from 'cognito-user-sync/verify';
 *
 * const chunks = [];
 * for await (const chunk of request) chunks.push(chunk);
 * const body = Buffer.concat(chunks);
 * const verified = verifyUserSyncRequest({
 *   headers: request.headers,
 *   body,
 *   secrets: process.env.USER_SYNC_SIGNING_SECRET, // whsec_… or {"current":"whsec_…","previous":"whsec_…"}
 * });
 * if (!verified.ok) {
 *   response.writeHead(401, { 'content-type': 'application/json' });
 *   return response.end(JSON.stringify({ error: 'unauthorized', reason: verified.message }));
 * }
 * const user = JSON.parse(body.toString('utf8'));
 * // verified.id is msg_<idempotency-key>: the same for every retry of this user.
 */
export const verifyUserSyncRequest = ({
  headers,
  body,
  secrets,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  now = Date.now(),
}: VerifyUserSyncRequestOptions): VerifyResult => {
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw badOption('toleranceSeconds must be a non-negative number');
  }
  // NaN would make both comparisons with the timestamp false, and pass any timestamp.
  if (!Number.isFinite(now)) throw badOption('now must be a finite number of epoch milliseconds');
  const keys = keysOf(secrets);
  if (typeof keys === 'string') return fail('bad-secret', keys);

  const id = headerOf(headers, WEBHOOK_ID_HEADER)?.trim();
  const timestampHeader = headerOf(headers, WEBHOOK_TIMESTAMP_HEADER)?.trim();
  const signatureHeader = headerOf(headers, WEBHOOK_SIGNATURE_HEADER)?.trim();
  const missing = [
    [WEBHOOK_ID_HEADER, id],
    [WEBHOOK_TIMESTAMP_HEADER, timestampHeader],
    [WEBHOOK_SIGNATURE_HEADER, signatureHeader],
  ].flatMap(([name, value]) => (value ? [] : [name]));
  if (!id || !timestampHeader || !signatureHeader)
    return fail('missing-headers', `missing ${missing.join(', ')}`);

  if (!isWebhookId(id)) {
    return fail('malformed-id', 'webhook-id must be at most 256 visible ASCII characters without "."');
  }
  if (!TIMESTAMP.test(timestampHeader)) {
    return fail('malformed-timestamp', 'webhook-timestamp must be a whole number of seconds');
  }
  const signatures = v1SignaturesOf(signatureHeader);
  if (typeof signatures === 'string') return fail('malformed-signature', signatures);

  const timestamp = Number(timestampHeader);
  const current = unixSeconds(now);
  if (current - timestamp > toleranceSeconds) {
    return fail('timestamp-too-old', `webhook-timestamp is more than ${toleranceSeconds} s old`);
  }
  if (timestamp - current > toleranceSeconds) {
    return fail('timestamp-in-future', `webhook-timestamp is more than ${toleranceSeconds} s ahead`);
  }

  if (signatures.length === 0)
    return fail('no-matching-signature', 'webhook-signature holds no v1 signature');
  let matched = false;
  for (const key of keys) {
    const expected = computeSignature({ id, timestamp, body, key });
    for (const signature of signatures) {
      // Every pair is compared, match or not, so the time taken says nothing about the keys.
      if (timingSafeEqual(expected, signature)) matched = true;
    }
  }
  if (!matched) return fail('no-matching-signature', 'no signature matches the body under any accepted key');
  return { ok: true, id, timestamp };
};
