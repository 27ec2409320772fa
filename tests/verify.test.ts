import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type HeadersLike, type VerifyResult, verifyUserSyncRequest } from '../src/verify.js';
import { parseSigningSecret, signatureHeaders, unixSeconds } from '../src/webhooks/signature.js';

// Counts the constant-time comparisons, and leaves them working.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

// The published Standard Webhooks test vector: github.com/standard-webhooks/standard-webhooks,
// libraries/javascript/src/webhook.test.ts ("sign function works"), the same in the PHP library.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const VECTOR_HEADERS = {
  'webhook-id': VECTOR.id,
  'webhook-timestamp': String(VECTOR.timestamp),
  'webhook-signature': VECTOR.signature,
};
const AT_VECTOR_TIME = VECTOR.timestamp * 1000;

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const BODY = JSON.stringify({
  cognitoSub: 's-1',
  email: 'ada@example.com',
  fullName: 'Ada Lovelace',
  status: 'ACTIVE',
  role: 'USER',
  createdBy: 's-1',
  updatedBy: 's-1',
});

describe('verifyUserSyncRequest', () => {
  it('accepts the Standard Webhooks test vector', () => {
    const result = verifyUserSyncRequest({
      headers: VECTOR_HEADERS,
      body: VECTOR.body,
      secrets: VECTOR.secret,
      now: AT_VECTOR_TIME,
    });

    expect(result).toEqual({ ok: true, id: VECTOR.id, timestamp: VECTOR.timestamp });
  });

  it('accepts a request signed by the official standardwebhooks library', () => {
    const secret = newSecret();
    const timestamp = unixSeconds();
    const signature = new Webhook(secret).sign('msg_1', new Date(timestamp * 1000), BODY);

    const result = verifyUserSyncRequest({
      headers: {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      },
      body: BODY,
      secrets: secret,
    });

    expect(result).toEqual({ ok: true, id: 'msg_1', timestamp });
  });

  it('reads headers in any case, from a plain object or a Headers, and a body as a string or bytes', () => {
    const base = { secrets: VECTOR.secret, now: AT_VECTOR_TIME };
    const shouting = Object.fromEntries(Object.entries(VECTOR_HEADERS).map(([k, v]) => [k.toUpperCase(), v]));

    const results = [
      verifyUserSyncRequest({ ...base, headers: shouting, body: VECTOR.body }),
      verifyUserSyncRequest({ ...base, headers: new Headers(VECTOR_HEADERS), body: VECTOR.body }),
      verifyUserSyncRequest({ ...base, headers: VECTOR_HEADERS, body: Buffer.from(VECTOR.body) }),
      verifyUserSyncRequest({
        ...base,
        headers: VECTOR_HEADERS,
        body: new TextEncoder().encode(VECTOR.body),
      }),
    ];

    expect(results.map((result) => result.ok)).toEqual([true, true, true, true]);
  });

  it('verifies a real node:http request: IncomingMessage headers and the raw body', async () => {
    const secret = newSecret();
    const results: VerifyResult[] = [];
    const server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const verified = verifyUserSyncRequest({
        headers: request.headers,
        body: Buffer.concat(chunks),
        secrets: secret,
      });
      results.push(verified);
      response.writeHead(verified.ok ? 201 : 401).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/users`;
    const body = JSON.stringify({ fullName: 'Zoë Ødegård' });
    try {
      const headers = signatureHeaders({ id: 'msg_1', body, keys: parseSigningSecret(secret) });

      const answers = await Promise.all([
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }),
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: `${body} `,
        }),
      ]);

      expect(answers.map((answer) => answer.status).sort()).toEqual([201, 401]);
      expect(results.map((result) => (result.ok ? 'ok' : result.reason)).sort()).toEqual([
        'no-matching-signature',
        'ok',
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  describe('refusals', () => {
    const secret = newSecret();
    const now = Date.parse('2026-11-26T10:00:00Z');
    const signed = (overrides: { body?: string; timestamp?: number; secret?: string } = {}) =>
      signatureHeaders({
        id: 'msg_bb3f5b44-0090-5699-99ad-7573b728dcbe',
        timestamp: overrides.timestamp ?? unixSeconds(now),
        body: overrides.body ?? BODY,
        keys: parseSigningSecret(overrides.secret ?? secret),
      });
    const good = signed();
    const without = (name: keyof typeof good) => {
      const { [name]: _removed, ...rest } = good;
      return rest;
    };
    const verify = (
      headers: Record<string, string>,
      options: { body?: string; secrets?: string | string[] } = {},
    ) =>
      verifyUserSyncRequest({ headers, body: options.body ?? BODY, secrets: options.secrets ?? secret, now });

    it('accepts the untouched request (the baseline of the cases below)', () => {
      expect(verify(good)).toMatchObject({ ok: true });
    });

    it.each<[string, () => VerifyResult, string, RegExp?]>([
      [
        'a tampered body',
        () => verify(good, { body: BODY.replace('ada@', 'eve@') }),
        'no-matching-signature',
      ],
      [
        'a body re-serialised with spaces',
        () => verify(good, { body: JSON.stringify(JSON.parse(BODY), null, 1) }),
        'no-matching-signature',
      ],
      ['a signature by another key', () => verify(signed({ secret: newSecret() })), 'no-matching-signature'],
      ['a changed webhook-id', () => verify({ ...good, 'webhook-id': 'msg_other' }), 'no-matching-signature'],
      [
        'a changed timestamp',
        () => verify({ ...good, 'webhook-timestamp': String(unixSeconds(now) - 1) }),
        'no-matching-signature',
      ],
      [
        'only signatures of another version',
        () => verify({ ...good, 'webhook-signature': good['webhook-signature'].replace('v1,', 'v1a,') }),
        'no-matching-signature',
        /no v1 signature/,
      ],
      [
        'a timestamp 301 s old',
        () => verify(signed({ timestamp: unixSeconds(now) - 301 })),
        'timestamp-too-old',
        /300 s old/,
      ],
      [
        'a timestamp 301 s ahead',
        () => verify(signed({ timestamp: unixSeconds(now) + 301 })),
        'timestamp-in-future',
        /300 s ahead/,
      ],
      [
        'a timestamp in milliseconds',
        () => verify({ ...good, 'webhook-timestamp': String(now) }),
        'timestamp-in-future',
      ],
      ['no webhook-id', () => verify(without('webhook-id')), 'missing-headers', /^missing webhook-id$/],
      [
        'no webhook-timestamp',
        () => verify(without('webhook-timestamp')),
        'missing-headers',
        /^missing webhook-timestamp$/,
      ],
      [
        'no webhook-signature',
        () => verify(without('webhook-signature')),
        'missing-headers',
        /^missing webhook-signature$/,
      ],
      [
        'no signature headers at all',
        () => verify({}),
        'missing-headers',
        /webhook-id, webhook-timestamp, webhook-signature/,
      ],
      ['an empty webhook-signature', () => verify({ ...good, 'webhook-signature': ' ' }), 'missing-headers'],
      ['a webhook-id with a dot', () => verify({ ...good, 'webhook-id': 'msg.1' }), 'malformed-id'],
      ['a webhook-id with a space', () => verify({ ...good, 'webhook-id': 'msg 1' }), 'malformed-id'],
      [
        'a webhook-id of 257 characters',
        () => verify({ ...good, 'webhook-id': 'm'.repeat(257) }),
        'malformed-id',
      ],
      [
        'a timestamp that is not a number',
        () => verify({ ...good, 'webhook-timestamp': 'hello' }),
        'malformed-timestamp',
      ],
      [
        'a timestamp with a fraction',
        () => verify({ ...good, 'webhook-timestamp': `${unixSeconds(now)}.0` }),
        'malformed-timestamp',
      ],
      ['a negative timestamp', () => verify({ ...good, 'webhook-timestamp': '-1' }), 'malformed-timestamp'],
      [
        'a timestamp with a leading zero',
        () => verify({ ...good, 'webhook-timestamp': `0${unixSeconds(now)}` }),
        'malformed-timestamp',
      ],
      [
        'a signature without a version',
        () => verify({ ...good, 'webhook-signature': good['webhook-signature'].slice(3) }),
        'malformed-signature',
      ],
      ['a bare version', () => verify({ ...good, 'webhook-signature': 'v1,' }), 'malformed-signature'],
      [
        'a truncated signature',
        () => verify({ ...good, 'webhook-signature': good['webhook-signature'].slice(0, 8) }),
        'malformed-signature',
        /32 bytes/,
      ],
      [
        'a signature that is not base64',
        () => verify({ ...good, 'webhook-signature': `v1,${'*'.repeat(43)}=` }),
        'malformed-signature',
      ],
      [
        'a repeated webhook-signature with no good value',
        () => {
          const other = signed({ secret: newSecret() })['webhook-signature'];
          return verify({ ...good, 'webhook-signature': `${other}, ${other}` });
        },
        'no-matching-signature',
      ],
      [
        '33 signatures',
        () => verify({ ...good, 'webhook-signature': Array(33).fill(good['webhook-signature']).join(' ') }),
        'malformed-signature',
      ],
      [
        'a secret without the whsec_ prefix',
        () => verify(good, { secrets: secret.slice(6) }),
        'bad-secret',
        /whsec_/,
      ],
      [
        'a secret that is broken JSON',
        () => verify(good, { secrets: `{"current":"${secret}"` }),
        'bad-secret',
        /not JSON/,
      ],
      ['no secret at all', () => verify(good, { secrets: [] }), 'bad-secret'],
    ])('refuses %s, with its own reason', (_what, act, reason, message) => {
      const result = act();

      expect(result).toMatchObject({ ok: false, reason });
      if (message && !result.ok) expect(result.message).toMatch(message);
    });

    it('says why in a message that holds neither the secret nor the body', () => {
      const results = [
        verify(good, { body: `${BODY} ` }),
        verify(good, { secrets: secret.slice(6) }),
        verify(good, { secrets: `{"current":"${secret}"` }),
        verify({ ...good, 'webhook-signature': 'v1,abc' }),
      ];

      for (const result of results) {
        expect(result.ok).toBe(false);
        const text = JSON.stringify(result);
        expect(text).not.toContain(secret.slice(6, 20));
        expect(text).not.toContain('ada@example.com');
        expect(text).not.toContain(good['webhook-signature'].slice(3, 20));
      }
    });

    it('accepts a timestamp exactly at the tolerance, either way', () => {
      const old = verify(signed({ timestamp: unixSeconds(now) - 300 }));
      const ahead = verify(signed({ timestamp: unixSeconds(now) + 300 }));

      expect([old.ok, ahead.ok]).toEqual([true, true]);
    });

    it('takes another tolerance when given one, and refuses a negative one', () => {
      const headers = signed({ timestamp: unixSeconds(now) - 60 });

      const strict = verifyUserSyncRequest({
        headers,
        body: BODY,
        secrets: secret,
        now,
        toleranceSeconds: 30,
      });
      const lenient = verifyUserSyncRequest({
        headers,
        body: BODY,
        secrets: secret,
        now,
        toleranceSeconds: 90,
      });

      expect(strict).toMatchObject({
        ok: false,
        reason: 'timestamp-too-old',
        message: expect.stringContaining('30 s'),
      });
      expect(lenient.ok).toBe(true);
      expect(() =>
        verifyUserSyncRequest({ headers, body: BODY, secrets: secret, toleranceSeconds: -1 }),
      ).toThrow(RangeError);
    });

    it.each<[string, number]>([
      ['an unparsable date (NaN)', Date.parse('not a date')],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
    ])(
      'refuses %s as now, as it refuses a bad tolerance, rather than skip the timestamp check',
      (_what, bad) => {
        const dayOld = signed({ timestamp: unixSeconds(now) - 86_400 });

        const act = () => verifyUserSyncRequest({ headers: dayOld, body: BODY, secrets: secret, now: bad });

        expect(act).toThrow(RangeError);
        expect(act).toThrow(/now/);
      },
    );
  });

  describe('during a key rotation', () => {
    const [oldKey, newKey] = [newSecret(), newSecret()];
    const rotating = JSON.stringify({ current: newKey, previous: oldKey });
    const signedWith = (secretValue: string) =>
      signatureHeaders({ id: 'msg_1', body: BODY, keys: parseSigningSecret(secretValue) });
    const verifyWith = (headers: Record<string, string>, secrets: string | string[]) =>
      verifyUserSyncRequest({ headers, body: BODY, secrets });

    it('accepts a sender signing with both keys, whichever key the receiver holds', () => {
      const headers = signedWith(rotating);

      const results = [
        verifyWith(headers, oldKey),
        verifyWith(headers, newKey),
        verifyWith(headers, rotating),
      ];

      expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    });

    it('still accepts the previous key when the receiver holds both', () => {
      const fromOldSender = signedWith(oldKey);

      const results = [verifyWith(fromOldSender, rotating), verifyWith(fromOldSender, [newKey, oldKey])];

      expect(results.map((result) => result.ok)).toEqual([true, true]);
    });

    it('refuses a signature by the removed key once the rotation is over', () => {
      const fromOldSender = signedWith(oldKey);

      const result = verifyWith(fromOldSender, JSON.stringify({ current: newKey }));

      expect(result).toMatchObject({ ok: false, reason: 'no-matching-signature' });
    });

    it("skips signatures of other versions beside a good one, as the spec's libraries do", () => {
      const headers = signedWith(newKey);
      const mixed = `v1a,${randomBytes(64).toString('base64')} ${headers['webhook-signature']} v2,abc`;

      const result = verifyWith({ ...headers, 'webhook-signature': mixed }, newKey);

      expect(result.ok).toBe(true);
    });
  });

  // The official library (node_modules/standardwebhooks/dist/index.js, Webhook.verify) splits the
  // header on " ", takes the first two comma-separated fields of each part as version and
  // signature, skips a version other than "v1" and compares the rest: whatever it cannot read it
  // passes over. These requests are signed now, as it checks the time against Date.now().
  describe('reading webhook-signature as the official library reads it', () => {
    const secret = newSecret();
    const timestamp = unixSeconds();
    const signedBy = (key: string) =>
      signatureHeaders({ id: 'msg_1', timestamp, body: BODY, keys: parseSigningSecret(key) })[
        'webhook-signature'
      ];
    const valid = signedBy(secret);
    const wrong = signedBy(newSecret());
    const withSignature = <T extends string | string[]>(signature: T) => ({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    });
    const ours = (headers: HeadersLike) => verifyUserSyncRequest({ headers, body: BODY, secrets: secret });
    const official = (signature: string) => {
      try {
        new Webhook(secret).verify(BODY, withSignature(signature));
        return 'ok';
      } catch (error) {
        return error instanceof Error ? error.message : 'thrown';
      }
    };
    const accepted = { ok: true, id: 'msg_1', timestamp };

    it.each<[string, string]>([
      ['an entry without a comma', `abc ${valid}`],
      ['a v1 entry that is not base64', `v1,${'*'.repeat(43)}= ${valid}`],
      ['a truncated v1 entry', `${valid} v1,abc`],
      ['a bare version', `v1, ${valid}`],
      [
        'broken entries of every kind and an unknown version',
        `v1a,xyz abc v1, ${valid} v1,abc v1,${'*'.repeat(43)}=`,
      ],
      ['a repeated header joined as Node and fetch join it, the good value second', `${wrong}, ${valid}`],
      ['a repeated header joined as Node and fetch join it, the good value first', `${valid}, ${wrong}`],
      [
        'a repeated header joined by a bare comma (API Gateway HTTP APIs), the good value first',
        `${valid},${wrong}`,
      ],
    ])('accepts a good signature beside %s, as the official library does', (_what, header) => {
      const results = { ours: ours(withSignature(header)), official: official(header) };

      expect(results).toEqual({ ours: accepted, official: 'ok' });
    });

    it('accepts the good value of a header repeated and joined by a bare comma, when it comes second', () => {
      // Beyond the official library, which reads only the first two fields of "v1,<wrong>,v1,<good>":
      // a gateway merging a repeated header with a bare comma may as well put the good value second.
      const result = ours(withSignature(`${wrong},${valid}`));

      expect(result).toEqual(accepted);
    });

    it('reads a header given as several values, as an array or in a Headers', () => {
      const twice = (first: string, second: string) => {
        const headers = new Headers(withSignature(first));
        headers.append('webhook-signature', second);
        return headers;
      };

      const results = [
        ours(withSignature([wrong, valid])),
        ours(withSignature([valid, wrong])),
        ours(twice(wrong, valid)),
        ours(twice(valid, wrong)),
      ];

      expect(results).toEqual([accepted, accepted, accepted, accepted]);
    });

    it('verifies a node:http request that carries webhook-signature twice', async () => {
      const received: { joined?: string | string[]; ours: VerifyResult[] } = { ours: [] };
      const server = createServer(async (request, response) => {
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const body = Buffer.concat(chunks);
        received.joined = request.headers['webhook-signature'];
        received.ours.push(
          verifyUserSyncRequest({ headers: request.headers, body, secrets: secret }),
          verifyUserSyncRequest({ headers: request.headersDistinct, body, secrets: secret }),
        );
        response.writeHead(204).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        await new Promise<void>((resolve, reject) => {
          const sent = httpRequest(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: '/api/v1/users',
              headers: withSignature([wrong, valid]),
            },
            (answer) => answer.resume().on('end', resolve),
          );
          sent.on('error', reject).end(BODY);
        });

        expect(received.joined).toBe(`${wrong}, ${valid}`);
        expect(received.ours).toEqual([accepted, accepted]);
        expect(official(`${wrong}, ${valid}`)).toBe('ok');
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  it('compares every signature with every key in constant time, even after a match', () => {
    const [first, second] = [newSecret(), newSecret()];
    const headers = signatureHeaders({
      id: 'msg_1',
      body: BODY,
      keys: parseSigningSecret(`${first} ${second}`),
    });
    const three = `${headers['webhook-signature']} ${headers['webhook-signature'].split(' ')[0]}`;
    vi.mocked(timingSafeEqual).mockClear();

    const result = verifyUserSyncRequest({
      headers: { ...headers, 'webhook-signature': three },
      body: BODY,
      secrets: [first, second],
    });

    expect(result.ok).toBe(true);
    expect(timingSafeEqual).toHaveBeenCalledTimes(2 * 3);
  });
});

describe('src/verify.ts as a standalone bundle', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('bundles from itself, signature.ts and the dependency-free errors and guards, importing only node built-ins, and still verifies', async () => {
    const { outputFiles, metafile } = await build({
      entryPoints: ['src/verify.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    dir = await mkdtemp(join(tmpdir(), 'verify-bundle-'));
    const file = join(dir, 'verify.mjs');
    await writeFile(file, outputFiles[0]?.text ?? '');

    const bundled = (await import(pathToFileURL(file).href)) as {
      verifyUserSyncRequest: typeof verifyUserSyncRequest;
    };
    const result = bundled.verifyUserSyncRequest({
      headers: VECTOR_HEADERS,
      body: VECTOR.body,
      secrets: VECTOR.secret,
      now: AT_VECTOR_TIME,
    });

    expect(Object.keys(metafile.inputs).sort()).toEqual([
      'src/errors.ts',
      'src/guards.ts',
      'src/verify.ts',
      'src/webhooks/signature.ts',
    ]);
    const imports = Object.values(metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
    expect(imports.every((path) => path.startsWith('node:'))).toBe(true);
    expect(result).toEqual({ ok: true, id: VECTOR.id, timestamp: VECTOR.timestamp });
  });
});
