// examples/python/verify_user_sync.py, the verifier for a User Service written in Python, held to
// src/verify.ts: requests signed by our signer (src/webhooks/signature.ts), good and bad, go to
// both, and the Python verdict must be the TypeScript one, reason and message alike. python3 runs
// it (standard library only); without python3 these tests fail, they never skip.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyUserSyncRequest } from '../../src/verify.js';
import { parseSigningSecret, signatureHeaders, unixSeconds } from '../../src/webhooks/signature.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';

interface Case {
  /** The headers in the order sent; a name may come twice. */
  headers: [string, string][];
  body: Buffer;
  secrets: string | string[];
  /** Epoch milliseconds, as src/verify.ts takes it; the real clock when absent. */
  now?: number;
  toleranceSeconds?: number;
}

type Verdict =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: string; message: string }
  | { thrown: 'bad-option' };

/** What src/verify.ts says; headers as node's IncomingMessage holds them (a repeated one as a list). */
const typescriptVerdict = ({ headers, body, secrets, now, toleranceSeconds }: Case): Verdict => {
  const grouped: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const held = grouped[name];
    grouped[name] = held === undefined ? value : [...(Array.isArray(held) ? held : [held]), value];
  }
  try {
    return verifyUserSyncRequest({
      headers: grouped,
      body,
      secrets,
      ...(now !== undefined && { now }),
      ...(toleranceSeconds !== undefined && { toleranceSeconds }),
    });
  } catch (error) {
    if (error instanceof RangeError) return { thrown: 'bad-option' };
    throw error;
  }
};

const reasonOf = (verdict: Verdict): string =>
  'thrown' in verdict ? 'thrown' : verdict.ok ? 'ok' : verdict.reason;

/** What the Python verifier says, once per way a Python server hands the headers over. */
const pythonVerdicts = async (cases: Case[]): Promise<Record<'pairs' | 'dict' | 'message', Verdict>[]> => {
  const child = spawn(PYTHON, ['tests/examples/verify_cases.py'], { cwd: REPO });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot run ${PYTHON} (CI installs python3; PYTHON names another): ${error.message}`)),
    );
    child.once('close', resolve);
  });
  // A python3 that dies early closes its stdin: its exit status says why, not an EPIPE.
  child.stdin.on('error', () => undefined);
  const input = cases.map(({ body, ...rest }) => ({ ...rest, body: body.toString('base64') }));
  child.stdin.end(JSON.stringify({ cases: input }));
  const code = await exited;
  if (code !== 0) throw new Error(`${PYTHON} exited with ${code}: ${Buffer.concat(err).toString('utf8')}`);
  return JSON.parse(Buffer.concat(out).toString('utf8'));
};

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const NOW = Date.parse('2026-11-26T10:00:00Z');
const BODY = Buffer.from(
  JSON.stringify({
    cognitoSub: '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13',
    email: 'zoe@example.com',
    fullName: 'Zoë Ødegård 李',
    status: 'ACTIVE',
    role: 'USER',
    createdBy: '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13',
    updatedBy: '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13',
  }),
);
const ID = 'msg_bb3f5b44-0090-5699-99ad-7573b728dcbe';
const [oldKey, newKey, otherKey] = [newSecret(), newSecret(), newSecret()];
const rotating = JSON.stringify({ current: newKey, previous: oldKey });

/** Headers our signer makes, as pairs; `secret` may hold several keys (a rotation). */
const signed = ({
  secret = newKey,
  body = BODY,
  timestamp = unixSeconds(NOW),
}: {
  secret?: string;
  body?: Buffer;
  timestamp?: number;
} = {}): [string, string][] =>
  Object.entries(signatureHeaders({ id: ID, timestamp, body, keys: parseSigningSecret(secret) }));
const good = signed();
const validSignature = good[2]?.[1] ?? '';
const wrongSignature = signed({ secret: otherKey })[2]?.[1] ?? '';
/** The same signature but for the last of its 32 bytes: a receiver must compare them all. */
const lastByteChanged = (signature: string) => {
  const bytes = Buffer.from(signature.slice(3), 'base64');
  bytes[31] = (bytes[31] ?? 0) ^ 1;
  return `v1,${bytes.toString('base64')}`;
};
const withHeader = (name: string, value: string): [string, string][] =>
  good.map(([key, held]) => [key, key === name ? value : held]);
const withSignature = (value: string) => withHeader('webhook-signature', value);
const without = (name: string) => good.filter(([key]) => key !== name);
const at = (overrides: Partial<Case> = {}): Case => ({
  headers: good,
  body: BODY,
  secrets: newKey,
  now: NOW,
  ...overrides,
});

const NAMED: [string, Case][] = [
  ['a valid request', at()],
  [
    'the Standard Webhooks test vector',
    at({
      headers: [
        ['webhook-id', 'msg_p5jXN8AQM9LWM0D4loKWxJek'],
        ['webhook-timestamp', '1614265330'],
        ['webhook-signature', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='],
      ],
      body: Buffer.from('{"test": 2432232314}'),
      secrets: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      now: 1614265330000,
    }),
  ],
  [
    'a request signed now, checked against the real clock',
    at({ headers: signed({ timestamp: unixSeconds() }), now: undefined }),
  ],
  ['header names in capitals', at({ headers: good.map(([name, value]) => [name.toUpperCase(), value]) })],
  // Key rotation: the sender signs with both keys while the receiver holds one, the other or both.
  [
    'signed with both keys, verified with the old key only',
    at({ headers: signed({ secret: rotating }), secrets: oldKey }),
  ],
  [
    'signed with both keys, verified with the new key only',
    at({ headers: signed({ secret: rotating }), secrets: newKey }),
  ],
  [
    'signed with both keys, verified with the rotation secret',
    at({ headers: signed({ secret: rotating }), secrets: rotating }),
  ],
  [
    'signed with the old key, verified with both as a list',
    at({ headers: signed({ secret: oldKey }), secrets: [newKey, oldKey] }),
  ],
  [
    'signed with the old key, verified with both space-separated',
    at({ headers: signed({ secret: oldKey }), secrets: `${newKey} ${oldKey}` }),
  ],
  [
    'signed with the old key once the rotation is over',
    at({ headers: signed({ secret: oldKey }), secrets: JSON.stringify({ current: newKey, previous: null }) }),
  ],
  ['signed with another key', at({ headers: signed({ secret: otherKey }) })],
  // Tampering.
  ['a tampered body', at({ body: Buffer.from(BODY.toString('utf8').replace('zoe@', 'eve@')) })],
  [
    'a body re-serialised from its parse',
    at({ body: Buffer.from(JSON.stringify(JSON.parse(BODY.toString('utf8')), null, 1)) }),
  ],
  ['a tampered timestamp', at({ headers: withHeader('webhook-timestamp', String(unixSeconds(NOW) - 1)) })],
  ['a tampered webhook-id', at({ headers: withHeader('webhook-id', 'msg_other') })],
  // The clock.
  ['a timestamp 301 s old', at({ headers: signed({ timestamp: unixSeconds(NOW) - 301 }) })],
  ['a timestamp 301 s ahead', at({ headers: signed({ timestamp: unixSeconds(NOW) + 301 }) })],
  ['a timestamp exactly 300 s old', at({ headers: signed({ timestamp: unixSeconds(NOW) - 300 }) })],
  ['a timestamp exactly 300 s ahead', at({ headers: signed({ timestamp: unixSeconds(NOW) + 300 }) })],
  ['a timestamp in milliseconds', at({ headers: withHeader('webhook-timestamp', String(NOW)) })],
  [
    'a 60 s old request, tolerance 30 s',
    at({ headers: signed({ timestamp: unixSeconds(NOW) - 60 }), toleranceSeconds: 30 }),
  ],
  [
    'a 60 s old request, tolerance 90 s',
    at({ headers: signed({ timestamp: unixSeconds(NOW) - 60 }), toleranceSeconds: 90 }),
  ],
  ['a negative tolerance', at({ toleranceSeconds: -1 })],
  ['now a millisecond before a second', at({ now: NOW + 999 })],
  // Garbage headers.
  ['no webhook-id', at({ headers: without('webhook-id') })],
  ['no webhook-timestamp', at({ headers: without('webhook-timestamp') })],
  ['no webhook-signature', at({ headers: without('webhook-signature') })],
  ['no headers at all', at({ headers: [] })],
  ['a blank webhook-signature', at({ headers: withSignature(' ') })],
  ['a webhook-id with a dot', at({ headers: withHeader('webhook-id', 'msg.1') })],
  ['a webhook-id with a space', at({ headers: withHeader('webhook-id', 'msg 1') })],
  ['a webhook-id of 257 characters', at({ headers: withHeader('webhook-id', 'm'.repeat(257)) })],
  ['a webhook-id that is not ASCII', at({ headers: withHeader('webhook-id', 'msg_é') })],
  ['a timestamp that is not a number', at({ headers: withHeader('webhook-timestamp', 'hello') })],
  ['a timestamp with a fraction', at({ headers: withHeader('webhook-timestamp', `${unixSeconds(NOW)}.0`) })],
  ['a negative timestamp', at({ headers: withHeader('webhook-timestamp', '-1') })],
  [
    'a timestamp with a leading zero',
    at({ headers: withHeader('webhook-timestamp', `0${unixSeconds(NOW)}`) }),
  ],
  ['a timestamp in Arabic-Indic digits', at({ headers: withHeader('webhook-timestamp', '١٦١٤٢٦٥٣٣٠') })],
  [
    'a timestamp followed by a newline',
    at({ headers: withHeader('webhook-timestamp', `${unixSeconds(NOW)}\n`) }),
  ],
  [
    'values padded with no-break spaces and a BOM',
    at({ headers: good.map(([name, value]) => [name, `\u00a0${value}\ufeff`]) }),
  ],
  ['a signature with its last byte changed', at({ headers: withSignature(lastByteChanged(validSignature)) })],
  [
    'values padded with a control character Python counts as space',
    at({ headers: good.map(([name, value]) => [name, `${value}\x1c`]) }),
  ],
  ['a signature without a version', at({ headers: withSignature(validSignature.slice(3)) })],
  ['a bare version', at({ headers: withSignature('v1,') })],
  ['a truncated signature', at({ headers: withSignature(validSignature.slice(0, 8)) })],
  ['a signature that is not base64', at({ headers: withSignature(`v1,${'*'.repeat(43)}=`) })],
  [
    'only signatures of another version',
    at({ headers: withSignature(validSignature.replace('v1,', 'v1a,')) }),
  ],
  ['33 signatures', at({ headers: withSignature(Array(33).fill(validSignature).join(' ')) })],
  [
    '32 signatures, the good one last',
    at({ headers: withSignature([...Array(31).fill(wrongSignature), validSignature].join(' ')) }),
  ],
  [
    'entries of other versions and garbled ones beside a valid one',
    at({
      headers: withSignature(
        `v1a,${randomBytes(64).toString('base64')} abc v1, ${validSignature} v1,abc v2,xyz`,
      ),
    }),
  ],
  // A header sent twice: joined by a hop, or handed over as two values.
  [
    'webhook-signature twice, joined by ", ", the good value first',
    at({ headers: withSignature(`${validSignature}, ${wrongSignature}`) }),
  ],
  [
    'webhook-signature twice, joined by ", ", the good value second',
    at({ headers: withSignature(`${wrongSignature}, ${validSignature}`) }),
  ],
  [
    'webhook-signature twice, joined by ",", the good value second',
    at({ headers: withSignature(`${wrongSignature},${validSignature}`) }),
  ],
  [
    'webhook-signature twice, two values, the good one second',
    at({ headers: [...withSignature(wrongSignature), ['webhook-signature', validSignature]] }),
  ],
  [
    'webhook-signature twice, two values, neither good',
    at({ headers: [...withSignature(wrongSignature), ['Webhook-Signature', wrongSignature]] }),
  ],
  ['webhook-timestamp twice', at({ headers: [...good, ['webhook-timestamp', String(unixSeconds(NOW))]] })],
  ['webhook-id twice', at({ headers: [...good, ['webhook-id', ID]] })],
  // The receiver's secrets.
  ['a secret without the whsec_ prefix', at({ secrets: newKey.slice(6) })],
  ['a secret that is broken JSON', at({ secrets: `{"current":"${newKey}"` })],
  ['a secret that is a JSON list', at({ secrets: `{"current": ["${newKey}"]}` })],
  [
    'a secret whose JSON misspells previous',
    at({ secrets: JSON.stringify({ current: newKey, previos: oldKey }) }),
  ],
  ['a secret whose JSON has no current', at({ secrets: JSON.stringify({ previous: oldKey }) })],
  ['a secret whose previous is a number', at({ secrets: JSON.stringify({ current: newKey, previous: 1 }) })],
  [
    'a secret whose previous is a list',
    at({
      headers: signed({ secret: oldKey }),
      secrets: JSON.stringify({ current: newKey, previous: [otherKey, oldKey] }),
    }),
  ],
  ['a secret whose JSON holds NaN', at({ secrets: `{"current": "${newKey}", "previous": NaN}` })],
  ['a key of 16 bytes', at({ secrets: `whsec_${randomBytes(16).toString('base64')}` })],
  ['a key of 65 bytes', at({ secrets: `whsec_${randomBytes(65).toString('base64')}` })],
  ['a key in URL-safe base64', at({ secrets: `whsec_${randomBytes(33).toString('base64url')}-_` })],
  ['a key without its padding', at({ secrets: newKey.replace(/=+$/, '') })],
  ['a blank secret', at({ secrets: '  ' })],
  ['no secret at all', at({ secrets: [] })],
  ['a good secret beside a bad one', at({ secrets: [newKey, 'whsec_short'] })],
];

// Signature headers made of the pieces a sender, a hop or an attacker puts together.
const PIECES = [
  validSignature,
  wrongSignature,
  'v1',
  'v1,',
  'v1a,',
  'v2',
  ',',
  ' ',
  ', ',
  '\t',
  '\u00a0',
  'abc',
  '=',
  `v1,${'*'.repeat(43)}=`,
  validSignature.slice(0, 20),
];
const GARBLED_SIGNATURES = fc.sample(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 8 }).map((pieces) => pieces.join('')),
  { seed: 23, numRuns: 300 },
);
const GARBLED_VALUES = fc.sample(fc.string({ unit: 'grapheme', maxLength: 12 }), { seed: 5, numRuns: 100 });
const FUZZED: [string, Case][] = [
  ...GARBLED_SIGNATURES.map((signature): [string, Case] => [
    `signature ${JSON.stringify(signature)}`,
    at({ headers: withSignature(signature) }),
  ]),
  ...GARBLED_VALUES.flatMap((value): [string, Case][] => [
    [`webhook-id ${JSON.stringify(value)}`, at({ headers: withHeader('webhook-id', value) })],
    [`webhook-timestamp ${JSON.stringify(value)}`, at({ headers: withHeader('webhook-timestamp', value) })],
  ]),
];

describe('examples/python/verify_user_sync.py', () => {
  // One python3 run for all the cases, started by the first test to ask. Each test awaits it, so
  // without python3 each one fails saying so (a beforeAll would leave them marked skipped).
  type Verdicts = Awaited<ReturnType<typeof pythonVerdicts>>;
  let verdicts: Promise<[Verdicts, Verdicts]> | undefined;
  const python = () =>
    (verdicts ??= Promise.all([
      pythonVerdicts(NAMED.map(([, testCase]) => testCase)),
      pythonVerdicts(FUZZED.map(([, testCase]) => testCase)),
    ]));

  it.each(NAMED.map(([name, testCase], index) => [name, testCase, index] as const))(
    'gives the verdict src/verify.ts gives on %s',
    async (_name, testCase, index) => {
      const [named] = await python();
      const expected = typescriptVerdict(testCase);

      expect(named[index]).toEqual({ pairs: expected, dict: expected, message: expected });
    },
  );

  it('gives the verdicts src/verify.ts gives on 500 garbled headers', async () => {
    const [, fuzzed] = await python();
    const expected = FUZZED.map(([name, testCase]) => {
      const verdict = typescriptVerdict(testCase);
      return [name, { pairs: verdict, dict: verdict, message: verdict }];
    });

    const actual = FUZZED.map(([name], index) => [name, fuzzed[index]]);

    expect(actual).toEqual(expected);
    // The garbled headers reach the refusals of a bad header, and some still carry the good signature.
    const reasons = new Set(FUZZED.map(([, testCase]) => reasonOf(typescriptVerdict(testCase))));
    expect([...reasons]).toEqual(
      expect.arrayContaining([
        'ok',
        'malformed-id',
        'malformed-signature',
        'malformed-timestamp',
        'missing-headers',
        'no-matching-signature',
      ]),
    );
  });

  it('covers every refusal src/verify.ts has', () => {
    const reasons = new Set(NAMED.map(([, testCase]) => reasonOf(typescriptVerdict(testCase))));

    expect([...reasons].sort()).toEqual([
      'bad-secret',
      'malformed-id',
      'malformed-signature',
      'malformed-timestamp',
      'missing-headers',
      'no-matching-signature',
      'ok',
      'thrown',
      'timestamp-in-future',
      'timestamp-too-old',
    ]);
  });
});
