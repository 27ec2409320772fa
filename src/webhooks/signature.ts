// Standard Webhooks signing (symmetric, `v1`: HMAC-SHA256 of `id.timestamp.body`) for the requests
// we send to the User Service. Node built-ins only: src/verify.ts bundles this into a standalone file.

import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { SigningError } from '../errors.js';
import { isRecord } from '../guards.js';

export const SECRET_PREFIX = 'whsec_';
export const SIGNATURE_VERSION = 'v1';

export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

/** The spec's bounds for a symmetric secret: "at least 24 bytes (192 bits, 512 maximum)". */
export const MIN_KEY_BYTES = 24;
export const MAX_KEY_BYTES = 64;

const MAX_WEBHOOK_ID_LENGTH = 256;

/**
 * A key to sign or verify with. A `KeyObject`, not bytes, so a key that ends up in a log line or
 * a debugger prints as `SecretKeyObject { type: 'secret', … }` and never as its value.
 */
export type SigningKey = KeyObject;

// A type, not an interface, so it passes as a `Record<string, string>` (ky's and fetch's headers).
export type SignatureHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export interface SignInput {
  /** The `webhook-id`: the same on every attempt of one message. */
  id: string;
  /** Unix time in seconds of this attempt. */
  timestamp: number;
  /** The exact bytes sent (a string is taken as UTF-8). */
  body: string | Uint8Array;
}

// Padded standard base64 only: Buffer.from(…, 'base64') would silently skip anything else,
// and a mistyped secret must fail here rather than as a string of 401s.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{1,200}$/;
// Visible ASCII without `.`: the spec asks that an id never hold the separator of the signed content.
const WEBHOOK_ID = /^[\x21-\x2d\x2f-\x7e]+$/;

const invalidSecret = (why: string) => new SigningError(`The signing secret is not valid: ${why}`);

/** One `whsec_<base64>` key; `position` (1-based) only says which key of a list is wrong. */
export const parseSigningKey = (value: string, position = 1): SigningKey => {
  const which = `key ${position}`;
  if (!value.startsWith(SECRET_PREFIX)) throw invalidSecret(`${which} does not start with ${SECRET_PREFIX}`);
  const encoded = value.slice(SECRET_PREFIX.length);
  if (encoded === '' || !BASE64.test(encoded)) throw invalidSecret(`${which} is not base64 after the prefix`);
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length < MIN_KEY_BYTES || bytes.length > MAX_KEY_BYTES) {
    throw invalidSecret(`${which} is ${bytes.length} bytes, not ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES}`);
  }
  return createSecretKey(bytes);
};

const keysOfJson = (text: string): string[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the input, that is the secret: it is neither kept nor chained.
    throw invalidSecret('it starts with { but is not JSON');
  }
  if (!isRecord(parsed)) throw invalidSecret('it is JSON but not an object');
  const unknown = Object.keys(parsed).filter((key) => key !== 'current' && key !== 'previous');
  // A misspelt "previous" would drop the old key in the middle of a rotation without a word.
  if (unknown.length > 0) throw invalidSecret('its JSON may only have the keys "current" and "previous"');
  const { current, previous = [] } = parsed;
  if (typeof current !== 'string') throw invalidSecret('its JSON needs "current", a whsec_ string');
  const previousKeys = previous === null ? [] : Array.isArray(previous) ? previous : [previous];
  if (!previousKeys.every((key): key is string => typeof key === 'string')) {
    throw invalidSecret('its "previous" must be a whsec_ string or a list of them');
  }
  return [current, ...previousKeys];
};

/**
 * The keys held by a signing secret, the current one first. The secret value is one of:
 *
 * - `whsec_<base64>`: a single key (the spec's serialisation);
 * - `{"current": "whsec_…", "previous": "whsec_…"}`: during a rotation; `previous` may also be a
 *   list, or absent or null once the rotation is over;
 * - `whsec_<new> whsec_<old>`: the same, space-separated, current first, as in the signature header.
 *
 * Each key is base64 of 24 to 64 bytes. A key listed twice counts once. Throws a `SigningError`
 * that says what is wrong and never quotes the value.
 */
export const parseSigningSecret = (value: string): SigningKey[] => {
  const text = value.trim();
  if (text === '') throw invalidSecret('it is empty');
  const values = text.startsWith('{') ? keysOfJson(text) : text.split(/\s+/);
  const keys: SigningKey[] = [];
  values.forEach((key, index) => {
    const parsed = parseSigningKey(key.trim(), index + 1);
    if (!keys.some((known) => known.equals(parsed))) keys.push(parsed);
  });
  return keys;
};

/**
 * The `webhook-id` of a user's creation: derived from its idempotency key, so every retry, queue
 * redelivery, replay and backfill of that user is the same message to the receiver.
 */
export const webhookIdFor = (idempotencyKey: string): string => {
  if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new SigningError(
      'An idempotency key must be 1 to 200 letters, digits, _ or - to make a webhook-id',
    );
  }
  return `msg_${idempotencyKey}`;
};

/** What a `webhook-id` may be: visible ASCII without `.`, at most 256 characters. */
export const isWebhookId = (value: string): boolean =>
  value.length <= MAX_WEBHOOK_ID_LENGTH && WEBHOOK_ID.test(value);

/** Current Unix time in seconds, what `webhook-timestamp` carries. */
export const unixSeconds = (now: number = Date.now()): number => Math.floor(now / 1000);

/** The raw HMAC-SHA256 (32 bytes) of `id.timestamp.body` under one key. */
export const computeSignature = ({ id, timestamp, body, key }: SignInput & { key: SigningKey }): Buffer =>
  createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();

const assertSignable = ({ id, timestamp }: Pick<SignInput, 'id' | 'timestamp'>): void => {
  if (!isWebhookId(id)) {
    throw new SigningError('A webhook-id must be 1 to 256 visible ASCII characters without "."');
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new SigningError('A webhook-timestamp must be a whole, non-negative number of seconds');
  }
};

/** One signature as the header carries it: `v1,<base64>`. */
export const sign = (input: SignInput & { key: SigningKey }): string => {
  assertSignable(input);
  return `${SIGNATURE_VERSION},${computeSignature(input).toString('base64')}`;
};

/**
 * The three Standard Webhooks headers for one attempt: one `v1,…` signature per key,
 * space-separated, so a receiver holding either the current or the previous key accepts it.
 * Call it for every attempt, over the exact bytes sent: the timestamp (now, by default) must be
 * fresh each time while the id stays the same.
 */
export const signatureHeaders = ({
  id,
  timestamp = unixSeconds(),
  body,
  keys,
}: Omit<SignInput, 'timestamp'> & { timestamp?: number; keys: readonly SigningKey[] }): SignatureHeaders => {
  assertSignable({ id, timestamp });
  if (keys.length === 0) throw new SigningError('Signing needs at least one key');
  return {
    [WEBHOOK_ID_HEADER]: id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: keys.map((key) => sign({ id, timestamp, body, key })).join(' '),
  };
};
