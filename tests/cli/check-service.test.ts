// check-service against real servers on loopback: the dev User Service (which implements the
// contract) passes every rule; services that each break one rule, made by putting a rewriting
// proxy in front of the dev service, are each seen failing that rule, with the request and answer
// seen and the consequence; credentials never reach the report; the test users are always removed.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BARE_409_CONSEQUENCE } from '../../src/core/contract-check.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const API_KEY = 'check-service-test-key-0123456789';

interface Report {
  ok: boolean;
  counts: { passed: number; failed: number; skipped: number };
  checks: {
    id: string;
    status: 'pass' | 'fail' | 'skip';
    detail: string[];
    fix?: string;
    evidence?: { request: { headers: Record<string, string> }; answer?: { status: number; body: string } }[];
  }[];
}

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}

/** What the proxy answers instead of the dev service's answer; undefined passes it through. */
type Rewrite = (
  request: Seen,
  answer: { status: number; body: string },
) => { status: number; body: string; contentType?: string } | undefined;

/**
 * A User Service that breaks one rule: the dev service behind a proxy that rewrites one kind of
 * answer (or answers itself, before the dev service sees the request).
 */
const startBrokenService = async (dev: DevUserService, rewrite: Rewrite, before?: Rewrite) => {
  const target = new URL(dev.url);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(request.url ?? '/', target);
      const seen: Seen = { method: request.method ?? '', path: url.pathname, query: url.searchParams, body };
      const send = ({
        status,
        body: text,
        contentType,
      }: {
        status: number;
        body: string;
        contentType?: string;
      }) => {
        response.writeHead(status, text ? { 'content-type': contentType ?? 'application/json' } : {});
        response.end(text);
      };
      const early = before?.(seen, { status: 0, body: '' });
      if (early) return send(early);
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          ([name]) => !['host', 'content-length', 'connection'].includes(name),
        ),
      ) as Record<string, string>;
      const answer = await fetch(new URL(`${url.pathname}${url.search}`, target), {
        method: request.method,
        headers,
        ...(body && { body }),
      });
      const original = { status: answer.status, body: await answer.text() };
      send(rewrite(seen, original) ?? original);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

const isUnknown = (seen: Seen) => seen.path.endsWith('-ffffffffffff');

describe('check-service', () => {
  let dev: DevUserService;

  beforeEach(async () => {
    vi.stubEnv('USER_SERVICE_API_KEY', API_KEY);
    for (const name of [
      'USER_SERVICE_API_KEY_SECRET_ID',
      'USER_SERVICE_SIGNING_SECRET_ID',
      'USER_SERVICE_SIGNING_SECRET',
    ])
      vi.stubEnv(name, '');
    dev = await startDevUserService({ apiKeys: [API_KEY], signingSecrets: [SECRET] });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await dev.close();
  });

  const check = async (url: string, ...extra: string[]) => {
    const { code, out, err } = await run(
      'check-service',
      '--url',
      url,
      '--signing-secret',
      SECRET,
      '--json',
      ...extra,
    );
    expect(err).toBe('');
    return { code, report: JSON.parse(out) as Report };
  };
  /** A user of someone else's, outside the run's prefix: check-service must never touch it. */
  const SOMEONE_ELSE = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
  const addSomeoneElse = () =>
    dev.users.set(SOMEONE_ELSE, {
      cognitoSub: SOMEONE_ELSE,
      email: 'ada@example.com',
      fullName: 'Ada',
      status: 'ACTIVE',
      role: 'USER',
      createdBy: SOMEONE_ELSE,
      updatedBy: SOMEONE_ELSE,
      createdAt: '2026-01-01T00:00:00.000Z',
      idempotencyKey: 'k',
    });
  const failedIds = (report: Report) => report.checks.filter((c) => c.status === 'fail').map((c) => c.id);

  it('passes every rule against the dev User Service, and leaves no test user behind', async () => {
    const { code, report } = await check(dev.url);

    expect(failedIds(report)).toEqual([]);
    expect(report.counts).toEqual({ passed: 17, failed: 0, skipped: 0 });
    expect(code).toBe(0);
    expect(dev.users.size).toBe(0);
  });

  it('prints a checklist, ✓ for each rule and the counts; --verbose shows the exchanges', async () => {
    const { code, out } = await run(
      'check-service',
      '--url',
      dev.url,
      '--signing-secret',
      SECRET,
      '--verbose',
    );

    expect(code).toBe(0);
    expect(out).toContain(`cognito-user-sync check-service: ${dev.url}`);
    expect(out).toContain('  ✓ a create of a sub it holds: 409 already_exists naming the sub');
    expect(out).toMatch(
      / {6}POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/users \(idempotency-key [0-9a-f]{32}\)/,
    );
    expect(out).toContain('        answered 412 {"error":"stale_write"');
    expect(out).toMatch(/\n17 passed, 0 failed, 0 skipped$/);
  });

  it('never shows a credential: the key and the signatures are cut out of requests and answers', async () => {
    // A service that echoes the request's headers into its error answers.
    const echoing = await startBrokenService(dev, (seen, answer) =>
      isUnknown(seen) ? { status: 404, body: JSON.stringify({ error: 'not_found', echo: API_KEY }) } : answer,
    );
    try {
      const { out } = await run('check-service', '--url', echoing.url, '--signing-secret', SECRET, '--json');

      expect(out).not.toContain(API_KEY);
      expect(out).not.toContain(SECRET.slice(6));
      const report = JSON.parse(out) as Report;
      const headers = report.checks[0]?.evidence?.[0]?.request.headers ?? {};
      expect(headers['x-api-key']).toBe('[redacted]');
      expect(headers['webhook-signature']).toBe('[redacted]');
      expect(headers['webhook-id']).toMatch(/^msg_/);
      expect(out).toContain('"echo\\":\\"[redacted]\\"');
    } finally {
      await echoing.close();
    }
  });

  it('never shows the API key echoed URL-encoded or form-encoded either', async () => {
    const key = 'SUPER SECRET=KEY123';
    vi.stubEnv('USER_SERVICE_API_KEY', key);
    await dev.close();
    dev = await startDevUserService({ apiKeys: [key], signingSecrets: [SECRET] });
    const echoing = await startBrokenService(dev, (seen, answer) =>
      isUnknown(seen)
        ? {
            status: 404,
            body: JSON.stringify({
              error: 'not_found',
              query: `key=${encodeURIComponent(key)}`,
              form: new URLSearchParams({ key }).toString(),
            }),
          }
        : answer,
    );
    try {
      const { out } = await run('check-service', '--url', echoing.url, '--signing-secret', SECRET, '--json');

      expect(out).not.toContain('SECRET%3DKEY123');
      expect(out).not.toContain('KEY123');
      expect(out).toContain('key=[redacted]');
    } finally {
      await echoing.close();
    }
  });

  const nonConforming: {
    breaks: string;
    fails: string[];
    seen: RegExp;
    rewrite?: Rewrite;
    before?: Rewrite;
    withoutSignatures?: boolean;
  }[] = [
    {
      breaks: 'a bare 409 for a user it holds',
      fails: ['replay', 'already-exists'],
      seen: /a bare 409: a 409 without .* Cognito tries the trigger again .* dead-letters it/,
      rewrite: (seen, answer) =>
        seen.method === 'POST' && answer.body.includes('already_exists')
          ? { status: 409, body: '' }
          : undefined,
    },
    {
      breaks: "a 409 already_exists for another user's email",
      fails: ['conflict'],
      seen: /answered already_exists naming the new sub: cognito-user-sync counts the user as created, and it never is/,
      rewrite: (seen, answer) =>
        seen.method === 'POST' && answer.body.includes('"conflict"')
          ? {
              status: 409,
              body: JSON.stringify({ error: 'already_exists', cognitoSub: JSON.parse(seen.body).cognitoSub }),
            }
          : undefined,
    },
    {
      breaks: 'a stale write applied',
      fails: ['stale-write'],
      seen: /the older write was applied: a stale write wins/,
      rewrite: (_seen, answer) => (answer.status === 412 ? { status: 204, body: '' } : undefined),
    },
    {
      breaks: 'a bare 412',
      fails: ['stale-write'],
      seen: /a 412 without .* is read as a refusal/,
      rewrite: (_seen, answer) => (answer.status === 412 ? { status: 412, body: '' } : undefined),
    },
    {
      breaks: "a gateway's 404 page for PATCH of an unknown user",
      fails: ['patch-unknown'],
      seen: /a 404 without \{"error": "not_found"\} is read as a refusal .* instead of the user being created/,
      before: (seen) =>
        seen.method === 'PATCH' && isUnknown(seen)
          ? { status: 404, body: '<html>Not Found</html>', contentType: 'text/html' }
          : undefined,
    },
    {
      breaks: "a gateway's 404 page for DELETE of an unknown user",
      fails: ['delete-unknown'],
      seen: /a 404 without \{"error": "not_found"\} is read as a refusal .* dead-lettered/,
      before: (seen) =>
        seen.method === 'DELETE' && isUnknown(seen)
          ? { status: 404, body: '<html>Not Found</html>', contentType: 'text/html' }
          : undefined,
    },
    {
      breaks: 'a list that ignores prefix',
      fails: ['list.prefix'],
      seen: /listed users outside the prefix: 3c5a1e0f-/,
      // The prefix dropped on the way (a service without prefix support) for the list rules' reads,
      // in pages of 3; the delete's and the clean-up's reads are left alone.
      before: (seen) => {
        if (seen.method === 'GET' && seen.query.get('limit') === '3') seen.query.delete('prefix');
        return undefined;
      },
    },
    {
      breaks: 'a list whose last page never ends (a cursor that comes back)',
      fails: ['list.end'],
      seen: /gives a cursor already given: the list never ends/,
      rewrite: (seen, answer) => {
        if (seen.method !== 'GET' || answer.status !== 200) return undefined;
        const page = JSON.parse(answer.body) as { users: unknown[]; nextCursor: string | null };
        return { status: 200, body: JSON.stringify({ ...page, nextCursor: page.nextCursor ?? 'again' }) };
      },
      before: (seen) =>
        seen.method === 'GET' && seen.query.get('cursor') === 'again'
          ? { status: 200, body: JSON.stringify({ users: [], nextCursor: 'again' }) }
          : undefined,
    },
    {
      breaks: 'a list that ignores limit',
      fails: ['list.paging'],
      seen: /has 4 users, over limit=3/,
      // The limit asked for dropped on the way: the dev service answers with its own page size.
      before: (seen) => {
        if (seen.method === 'GET') seen.query.delete('limit');
        return undefined;
      },
    },
    {
      breaks: 'a service that does not verify signatures',
      fails: ['signature.missing', 'signature.wrong'],
      seen: /accepted: anyone who can reach the service can write users/,
      withoutSignatures: true,
    },
  ];

  it.each(nonConforming)(
    'sees $breaks: fails $fails',
    async ({ fails, seen, rewrite, before, withoutSignatures }) => {
      if (withoutSignatures) {
        await dev.close();
        dev = await startDevUserService({ apiKeys: [API_KEY] });
      }
      addSomeoneElse();
      const broken = await startBrokenService(dev, rewrite ?? (() => undefined), before);
      try {
        const { code, report } = await check(broken.url);

        expect(code).toBe(1);
        expect(failedIds(report)).toEqual(fails);
        for (const id of fails) {
          const failure = report.checks.find((c) => c.id === id);
          expect(failure?.detail[0], failure?.detail.join('\n')).toMatch(seen);
          expect(failure?.fix).toBeTruthy();
          expect(failure?.evidence?.length).toBeGreaterThan(0);
        }
        expect([...dev.users.keys()]).toEqual([SOMEONE_ELSE]);
      } finally {
        await broken.close();
      }
    },
  );

  it("deletes a test user the clean-up finds under the run's prefix though no create was seen to succeed", async () => {
    // The first create lands, but its answer is lost on the way (a gateway's 502).
    let lost: string | undefined;
    const lossy = await startBrokenService(dev, (seen) => {
      if (seen.method !== 'POST' || lost !== undefined) return undefined;
      lost = (JSON.parse(seen.body) as { cognitoSub: string }).cognitoSub;
      return { status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' };
    });
    try {
      const { report } = await check(lossy.url);

      const cleanup = report.checks.at(-1);
      expect(cleanup?.id).toBe('cleanup');
      expect(cleanup?.status, cleanup?.detail.join('\n')).toBe('pass');
      expect(cleanup?.detail).toContain(
        `deleted what was left under the run's prefix, though no create of it was seen to succeed: ${lost}`,
      );
      expect(dev.users.size).toBe(0);
    } finally {
      await lossy.close();
    }
  });

  it('names a left test user it could not delete, and why; never touches a user outside the prefix', async () => {
    let lost: string | undefined;
    const stubborn = await startBrokenService(
      dev,
      (seen) => {
        if (seen.method !== 'POST' || lost !== undefined) return undefined;
        lost = (JSON.parse(seen.body) as { cognitoSub: string }).cognitoSub;
        return { status: 502, body: '' };
      },
      (seen) =>
        seen.method === 'DELETE' && lost !== undefined && seen.path.endsWith(lost)
          ? { status: 500, body: JSON.stringify({ error: 'internal' }) }
          : undefined,
    );
    addSomeoneElse();
    try {
      const { code, report } = await check(stubborn.url);

      expect(code).toBe(1);
      const cleanup = report.checks.at(-1);
      expect(cleanup).toMatchObject({ id: 'cleanup', status: 'fail' });
      expect(cleanup?.detail).toEqual([`left: ${lost}`, `could not delete: ${lost} (answered 500)`]);
      expect([...dev.users.keys()].sort()).toEqual([lost, SOMEONE_ELSE].sort());
    } finally {
      await stubborn.close();
    }
  });

  it('flags a bare 409 with its consequence in the printed checklist', async () => {
    const broken = await startBrokenService(dev, (seen, answer) =>
      seen.method === 'POST' && answer.body.includes('already_exists')
        ? { status: 409, body: '' }
        : undefined,
    );
    try {
      const { code, out } = await run('check-service', '--url', broken.url, '--signing-secret', SECRET);

      expect(code).toBe(1);
      expect(out).toContain(
        `  ✗ a create of a sub it holds: 409 already_exists naming the sub\n      a bare 409: ${BARE_409_CONSEQUENCE}`,
      );
      expect(out).toContain('      fix: answer 409 {"error": "already_exists", "cognitoSub": "<the sub>"}');
    } finally {
      await broken.close();
    }
  });

  it('without a signing secret or API key, skips the refusal rules and says how to run them', async () => {
    vi.stubEnv('USER_SERVICE_API_KEY', '');
    await dev.close();
    dev = await startDevUserService();

    const { code, out } = await run('check-service', '--url', dev.url, '--json');
    const report = JSON.parse(out) as Report;

    expect(code).toBe(0);
    expect(report.checks.filter((c) => c.status === 'skip').map((c) => [c.id, c.detail[0]])).toEqual([
      ['api-key.missing', expect.stringMatching(/^no API key given \(USER_SERVICE_API_KEY_SECRET_ID/)],
      ['signature.missing', expect.stringMatching(/^no signing secret given \(--signing-secret/)],
      ['signature.wrong', expect.stringMatching(/^no signing secret given/)],
    ]);
  });

  it('a service it cannot reach fails each rule with the fix, and a wrong key is named as one', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as AddressInfo;
        server.close(() => resolve(free));
      });
    });
    const closed = `http://127.0.0.1:${port}/api/v1/users`;
    const { code, report } = await check(closed, '--timeout', '500');

    expect(code).toBe(1);
    expect(report.checks.find((c) => c.id === 'create')?.detail[0]).toBe('no answer: ECONNREFUSED');
    expect(report.checks.find((c) => c.id === 'create')?.fix).toMatch(/^check --url/);

    vi.stubEnv('USER_SERVICE_API_KEY', 'not-the-key');
    const wrongKey = await check(dev.url);
    expect(wrongKey.report.checks.find((c) => c.id === 'create')?.detail[0]).toBe(
      'refused our credentials (401)',
    );
  });

  it('usage: --url is required, a bad signing secret is named; --help says what it writes', async () => {
    expect((await run('check-service')).code).toBe(2);
    const bad = await run('check-service', '--url', dev.url, '--signing-secret', 'not-a-secret');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--signing-secret: The signing secret is not valid');
    const insecure = await run('check-service', '--url', 'http://users.example.com/api/v1/users');
    expect(insecure.code).toBe(2);
    expect(insecure.err).toMatch(/--url must use https:\/\//);

    const help = await run('check-service', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(
      /Writes: test users, each with a sub under one prefix of the run \(c0c0c0c0-…\)/,
    );
    expect(help.out).toMatch(/Exit status: 0 when every rule passed/);
    expect(help.out).toMatch(/129 \(SIGHUP\), 130 \(SIGINT\), 143 \(SIGTERM\) when stopped/);
    // A secret on the command line is in the process list: the help says so, and what to use.
    expect(help.out).toMatch(
      /--signing-secret SECRET[\s\S]*shows in the process list \(ps\)[\s\S]*USER_SERVICE_SIGNING_SECRET_ID/,
    );
  });

  it('signs with the signing secret of the environment, as the functions read it (no flag)', async () => {
    vi.stubEnv('USER_SERVICE_SIGNING_SECRET', SECRET);

    const { code, out } = await run('check-service', '--url', dev.url, '--json');
    const report = JSON.parse(out) as Report;

    expect(code).toBe(0);
    expect(report.counts).toEqual({ passed: 17, failed: 0, skipped: 0 });
  });

  it('a second Ctrl-C during the clean-up cuts it short, and the checklist says which test users may be left', async () => {
    let stops = 0;
    const slow = await startBrokenService(dev, (seen) => {
      // The first Ctrl-C as the plan lists the users it made for paging, the second as the
      // clean-up's first DELETE is answered: the others are not deleted.
      if (stops === 0 && seen.method === 'GET') {
        stops++;
        process.emit('SIGINT');
      } else if (stops === 1 && seen.method === 'DELETE') {
        stops++;
        process.emit('SIGINT');
      }
      return undefined;
    });
    const listeningBefore = process.listenerCount('SIGINT');
    try {
      const { code, out, err } = await run(
        'check-service',
        '--url',
        slow.url,
        '--signing-secret',
        SECRET,
        '--json',
      );

      expect(code).toBe(130);
      expect(err).toContain(
        'SIGINT again: the clean-up is cut short: the checklist says which test users may be left, and how to remove them.',
      );
      const cleanup = (JSON.parse(out) as Report).checks.at(-1);
      expect(cleanup).toMatchObject({ id: 'cleanup', status: 'fail' });
      expect(cleanup?.detail[0]).toBe('the clean-up was cut short (a second signal)');
      // What the clean-up did not get to is named, and is what the service still holds.
      const named = cleanup?.detail[1]?.replace(/^left, perhaps: /, '').split(', ') ?? [];
      expect(named.length).toBeGreaterThan(0);
      expect(named.sort()).toEqual([...dev.users.keys()].sort());
      expect(cleanup?.fix).toMatch(/^delete the users whose sub starts with \S+: DELETE \{url\}\/\{sub\}/);
      expect(process.listenerCount('SIGINT')).toBe(listeningBefore);
    } finally {
      await slow.close();
    }
  });

  it('Ctrl-C stops the plan, removes the test users, and exits 130', async () => {
    let stopped = false;
    const slow = await startBrokenService(dev, (seen) => {
      if (!stopped && seen.method === 'PATCH') {
        stopped = true;
        process.emit('SIGINT');
      }
      return undefined;
    });
    try {
      const { code, out } = await run(
        'check-service',
        '--url',
        slow.url,
        '--signing-secret',
        SECRET,
        '--json',
      );

      expect(code).toBe(130);
      const report = JSON.parse(out) as Report;
      expect(report.checks.at(-1)).toMatchObject({ id: 'cleanup', status: 'pass' });
      expect(report.checks.map((c) => c.id)).not.toContain('list.prefix');
      expect(dev.users.size).toBe(0);
    } finally {
      await slow.close();
    }
  });
});
