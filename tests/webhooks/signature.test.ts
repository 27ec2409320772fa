import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { SigningError } from '../../src/errors.js';
import {
  computeSignature,
  isWebhookId,
  parseSigningKey,
  parseSigningSecret,
  sign,
  signatureHeaders,
  unixSeconds,
  webhookIdFor,
} from '../../src/webhooks/signature.js';

// The published Standard Webhooks test vector. The spec (spec/standard-webhooks.md) defines the
// scheme; this triple is the one its reference libraries pin their `sign` to, in
// github.com/standard-webhooks/standard-webhooks: libraries/javascript/src/webhook.test.ts
// ("sign function works") and libraries/php/tests/WebhookTest.php (testSignFunctionWorks).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

describe('sign', () => {
  it('reproduces the Standard Webhooks test vector', () => {
    const key = parseSigningKey(VECTOR.secret);

    const signature = sign({ id: VECTOR.id, timestamp: VECTOR.timestamp, body: VECTOR.body, key });

    expect(signature).toBe(VECTOR.signature);
  });

  it('signs the same bytes whether the body is a string or a Buffer', () => {
    const key = parseSigningKey(VECTOR.secret);
    const input = { id: VECTOR.id, timestamp: VECTOR.timestamp, key };

    const fromBuffer = sign({ ...input, body: Buffer.from(VECTOR.body, 'utf8') });

    expect(fromBuffer).toBe(VECTOR.signature);
  });

  it('signs UTF-8 bodies as their bytes, like the official library', () => {
    const secret = newSecret();
    const body = JSON.stringify({ fullName: 'Zoë Ødegård 李' });
    const timestamp = unixSeconds();

    const ours = sign({ id: 'msg_x', timestamp, body, key: parseSigningKey(secret) });

    expect(ours).toBe(new Webhook(secret).sign('msg_x', new Date(timestamp * 1000), body));
  });

  it('gives the raw 32-byte HMAC through computeSignature', () => {
    const key = parseSigningKey(VECTOR.secret);

    const raw = computeSignature({ id: VECTOR.id, timestamp: VECTOR.timestamp, body: VECTOR.body, key });

    expect(raw).toHaveLength(32);
    expect(`v1,${raw.toString('base64')}`).toBe(VECTOR.signature);
  });
});

describe('signatureHeaders', () => {
  it('makes the three Standard Webhooks headers of the test vector', () => {
    const headers = signatureHeaders({
      id: VECTOR.id,
      timestamp: VECTOR.timestamp,
      body: VECTOR.body,
      keys: parseSigningSecret(VECTOR.secret),
    });

    expect(headers).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature,
    });
  });

  it('makes headers the official standardwebhooks library verifies', () => {
    const secret = newSecret();
    const body = JSON.stringify({ cognitoSub: 's-1', email: 'ada@example.com' });

    const headers = signatureHeaders({ id: 'msg_1', body, keys: parseSigningSecret(secret) });

    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('signs with every key during a rotation, so a receiver holding either one verifies', () => {
    const [current, previous] = [newSecret(), newSecret()];
    const body = '{"cognitoSub":"s-1"}';

    const headers = signatureHeaders({
      id: 'msg_1',
      body,
      keys: parseSigningSecret(JSON.stringify({ current, previous })),
    });

    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(headers['webhook-signature'].split(' ')[0]).toBe(
      sign({
        id: 'msg_1',
        timestamp: Number(headers['webhook-timestamp']),
        body,
        key: parseSigningKey(current),
      }),
    );
    expect(() => new Webhook(current).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(newSecret()).verify(body, { ...headers })).toThrow(
      'No matching signature found',
    );
  });

  it('keeps the id and signs a fresh timestamp on each attempt', () => {
    const keys = parseSigningSecret(newSecret());
    const id = webhookIdFor(idempotencyKey('eu-west-1_Qx7Lm2Rt9', 's-1'));

    const first = signatureHeaders({ id, timestamp: 1_764_151_200, body: '{}', keys });
    const retry = signatureHeaders({ id, timestamp: 1_764_151_203, body: '{}', keys });

    expect(retry['webhook-id']).toBe(first['webhook-id']);
    expect(retry['webhook-timestamp']).toBe('1764151203');
    expect(retry['webhook-signature']).not.toBe(first['webhook-signature']);
  });

  it('stamps the current time when no timestamp is given', () => {
    const before = unixSeconds();

    const headers = signatureHeaders({ id: 'msg_1', body: '{}', keys: parseSigningSecret(newSecret()) });

    expect(Number(headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(Number(headers['webhook-timestamp'])).toBeLessThanOrEqual(unixSeconds());
  });

  it.each([
    ['no key', { id: 'msg_1', timestamp: 1, keys: [] }, 'at least one key'],
    ['an id with a dot', { id: 'msg_1.2', timestamp: 1 }, 'webhook-id'],
    ['an empty id', { id: '', timestamp: 1 }, 'webhook-id'],
    ['a timestamp in milliseconds with a fraction', { id: 'msg_1', timestamp: 1.5 }, 'webhook-timestamp'],
    ['a negative timestamp', { id: 'msg_1', timestamp: -1 }, 'webhook-timestamp'],
  ])('refuses to sign with %s', (_what, input, message) => {
    const keys = parseSigningSecret(VECTOR.secret);

    const act = () => signatureHeaders({ body: '{}', keys, ...input });

    expect(act).toThrow(SigningError);
    expect(act).toThrow(message);
  });
});

describe('webhookIdFor', () => {
  it('derives the webhook-id from the idempotency key, the same for every retry of a user', () => {
    const key = idempotencyKey('eu-west-1_Qx7Lm2Rt9', '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13');

    const ids = [
      webhookIdFor(key),
      webhookIdFor(idempotencyKey('eu-west-1_Qx7Lm2Rt9', '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13')),
    ];

    expect(ids).toEqual([`msg_${key}`, `msg_${key}`]);
    expect(isWebhookId(`msg_${key}`)).toBe(true);
  });

  it.each(['', 'a.b', 'a b', 'x'.repeat(201)])(
    'refuses an idempotency key it cannot carry safely (%j)',
    (key) => {
      const act = () => webhookIdFor(key);

      expect(act).toThrow(SigningError);
    },
  );
});

describe('parseSigningSecret', () => {
  const [current, previous, older] = [newSecret(), newSecret(), newSecret()];
  const bytesOf = (secret: string) => Buffer.from(secret.slice('whsec_'.length), 'base64');
  const exported = (value: string) => parseSigningSecret(value).map((key) => key.export());

  it.each([
    ['a single key', current, [current]],
    ['a single key with surrounding whitespace', `\n ${current}\n`, [current]],
    ['JSON with current and previous', JSON.stringify({ current, previous }), [current, previous]],
    ['JSON with current only', JSON.stringify({ current }), [current]],
    ['JSON with previous null', JSON.stringify({ current, previous: null }), [current]],
    [
      'JSON with a list of previous keys',
      JSON.stringify({ current, previous: [previous, older] }),
      [current, previous, older],
    ],
    ['space-separated keys', `${current} ${previous}`, [current, previous]],
    ['a key listed twice', JSON.stringify({ current, previous: current }), [current]],
  ])('reads %s, the current key first', (_what, value, expected) => {
    expect(exported(value)).toEqual(expected.map(bytesOf));
  });

  it("accepts the 24-byte key of the test vector and a 64-byte key, the spec's bounds", () => {
    const longest = `whsec_${randomBytes(64).toString('base64')}`;

    expect(exported(VECTOR.secret)[0]).toHaveLength(24);
    expect(exported(longest)[0]).toHaveLength(64);
  });

  const short = `whsec_${randomBytes(16).toString('base64')}`;
  const long = `whsec_${randomBytes(65).toString('base64')}`;
  it.each([
    ['an empty value', '   ', 'it is empty'],
    ['a key without the whsec_ prefix', current.slice('whsec_'.length), 'key 1 does not start with whsec_'],
    [
      'a second key without the prefix',
      `${current} ${previous.slice(6)}`,
      'key 2 does not start with whsec_',
    ],
    ['a key that is not base64', 'whsec_not*base64!', 'key 1 is not base64'],
    ['a key without its padding', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa', 'key 1 is not base64'],
    ['a key of 16 bytes', short, 'key 1 is 16 bytes'],
    ['a key of 65 bytes', long, 'key 1 is 65 bytes'],
    ['broken JSON', `{"current": "${current}"`, 'not JSON'],
    ['JSON that is a list', `[${JSON.stringify(current)}]`, 'whsec_'],
    ['JSON without current', JSON.stringify({ previous }), '"current"'],
    ['JSON with a misspelt key', JSON.stringify({ current, previos: previous }), '"current" and "previous"'],
    ['JSON with a number for previous', JSON.stringify({ current, previous: 1 }), '"previous"'],
  ])('refuses %s with a SigningError that says why, without the secret', (_what, value, why) => {
    let error: unknown;
    try {
      parseSigningSecret(value);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(SigningError);
    const { message, cause } = error as SigningError;
    expect(message).toContain(why);
    expect(cause).toEqual({ package: 'cognito-user-sync' });
    for (const secret of [current, previous, short, long]) {
      expect(message).not.toContain(secret.slice('whsec_'.length, 16));
    }
    expect(inspect(error)).not.toContain(current.slice('whsec_'.length, 16));
  });

  it('holds keys that print and serialise without their value', () => {
    const keys = parseSigningSecret(JSON.stringify({ current, previous }));
    const shown = [inspect(keys), JSON.stringify(keys), String(keys[0])].join('\n');

    for (const secret of [current, previous]) {
      expect(shown).not.toContain(secret.slice('whsec_'.length));
      expect(shown).not.toContain(bytesOf(secret).toString('hex'));
    }
  });
});
