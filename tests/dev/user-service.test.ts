// The dev User Service implements the contract, so the rest of the suite can trust it.

import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DevUserService, type StoredUser, startDevUserService } from '../../src/dev/user-service.js';
import { parseSigningSecret, signatureHeaders } from '../../src/webhooks/signature.js';

const user = {
  cognitoSub: 's-1',
  email: 'ada@example.com',
  fullName: 'Ada Lovelace',
  status: 'ACTIVE',
  role: 'USER',
  createdBy: 's-1',
  updatedBy: 's-1',
};

/** Another user like `user`: its own sub, and by default an email of its own. */
const userNamed = (sub: string, email: string | null = `${sub}@example.com`) => ({
  ...user,
  cognitoSub: sub,
  email,
  createdBy: sub,
  updatedBy: sub,
});

/** A UUID-shaped sub, the same for the same n on every run. */
const subOf = (n: number): string => {
  const hex = createHash('sha256').update(String(n)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

const T1 = '2025-03-01T10:00:00.000Z';
const T2 = '2025-03-01T10:00:05.000Z';
const T3 = '2025-03-01T11:00:05+01:00'; // the same instant as T2, written otherwise

type Headers = Record<string, string>;

describe('dev User Service', () => {
  let service: DevUserService;
  const key = { 'x-api-key': 'current' };

  const post = (body: unknown, headers: Headers = key) =>
    fetch(service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const patch = (sub: string, body: unknown, headers: Headers = key) =>
    fetch(`${service.url}/${encodeURIComponent(sub)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json', 'idempotency-key': 'k-2', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const remove = (sub: string, headers: Headers = key) =>
    fetch(`${service.url}/${encodeURIComponent(sub)}`, {
      method: 'DELETE',
      headers: { 'idempotency-key': 'k-3', ...headers },
    });
  const list = (query = '', headers: Headers = key) =>
    fetch(`${service.url}${query === '' ? '' : `?${query}`}`, { headers });
  const stored = (sub: string) => service.users.get(sub);

  beforeEach(async () => {
    service = await startDevUserService({ apiKeys: ['current', 'previous'] });
  });
  afterEach(() => service.close());

  describe('POST: create', () => {
    it('creates a user (201), then answers 409 already_exists naming the cognitoSub', async () => {
      const created = await post(user, { 'x-api-key': 'current' });
      const again = await post(user, { 'x-api-key': 'previous' });

      expect(created.status).toBe(201);
      expect(created.headers.get('content-type')).toBe('application/json');
      expect(await created.json()).toMatchObject({ ...user, idempotencyKey: 'k-1' });
      expect(again.status).toBe(409);
      expect(await again.json()).toEqual({
        error: 'already_exists',
        cognitoSub: 's-1',
        reason: 'a user with this cognitoSub exists',
      });
      expect(service.users.size).toBe(1);
    });

    it('stores cognitoLastModified when the caller sends it, and shows it', async () => {
      const created = await post({ ...user, cognitoLastModified: T1 });

      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ cognitoLastModified: T1 });
      expect(stored('s-1')).toMatchObject({ cognitoLastModified: T1 });
      expect(await (await fetch(`${service.url}/s-1`)).json()).toMatchObject({ cognitoLastModified: T1 });
    });

    it('leaves cognitoLastModified out when the caller (the sign-up trigger) does not send it', async () => {
      const created = await post(user);

      expect(await created.json()).not.toHaveProperty('cognitoLastModified');
      expect(stored('s-1')).not.toHaveProperty('cognitoLastModified');
    });

    it('refuses an email another user holds, in any case, with 409 conflict naming the field', async () => {
      await post(userNamed('s-1', 'ada@example.com'));

      const clash = await post(userNamed('s-2', 'ADA@Example.com'));

      expect(clash.status).toBe(409);
      expect(await clash.json()).toEqual({
        error: 'conflict',
        field: 'email',
        reason: 'another user has this email',
      });
      expect(service.users.has('s-2')).toBe(false);
    });

    it('answers already_exists, not conflict, for the same cognitoSub whatever its email', async () => {
      await post(userNamed('s-1', 'ada@example.com'));

      const again = await post(userNamed('s-1', 'other@example.com'));

      expect(again.status).toBe(409);
      expect(await again.json()).toMatchObject({ error: 'already_exists', cognitoSub: 's-1' });
    });

    it('never counts null emails as a clash', async () => {
      const first = await post(userNamed('s-1', null));
      const second = await post(userNamed('s-2', null));

      expect([first.status, second.status]).toEqual([201, 201]);
    });

    it('frees the email of a deleted user for the one who re-registers with it', async () => {
      await post(userNamed('s-1', 'ada@example.com'));
      await remove('s-1');

      const again = await post(userNamed('s-2', 'ada@example.com'));

      expect(again.status).toBe(201);
    });

    it('checks emails written to its map directly, as other tests do', async () => {
      service.users.set('legacy', {
        ...userNamed('legacy', 'grace@example.com'),
        createdAt: T1,
        idempotencyKey: 'legacy',
      });

      const clash = await post(userNamed('s-1', 'Grace@example.com'));

      expect(clash.status).toBe(409);
    });

    it.each([
      [{ 'x-api-key': 'wrong' }, 401, 'x-api-key not accepted'],
      [{}, 401, 'x-api-key missing'],
    ])('answers 401 with a reason for a key it does not accept (%j)', async (headers, status, reason) => {
      const response = await post(user, headers);
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ error: 'unauthorized', reason });
    });

    it.each([
      ['not JSON', '{"cognitoSub":', 400, 'body is not valid JSON'],
      ['an array', [], 400, 'body must be a JSON object'],
      ['a missing key', { ...user, role: undefined }, 422, 'missing keys: role'],
      ['an unknown key', { ...user, phone: '+1' }, 422, 'unknown keys: phone'],
      ['a malformed email', { ...user, email: 'ada' }, 422, 'email must be null or an email address'],
      [
        'createdBy not the sub',
        { ...user, createdBy: 'admin' },
        422,
        'createdBy and updatedBy must equal cognitoSub',
      ],
      [
        'a cognitoLastModified that is no RFC 3339 date-time',
        { ...user, cognitoLastModified: '2025-02-30T10:00:00Z' },
        422,
        'cognitoLastModified must be an RFC 3339 date-time',
      ],
      [
        'a cognitoLastModified without a time zone',
        { ...user, cognitoLastModified: '2025-03-01T10:00:00' },
        422,
        'cognitoLastModified must be an RFC 3339 date-time',
      ],
    ])('rejects %s with %i and a reason', async (_, body, status, reason) => {
      const response = await post(body);
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ reason });
      expect(service.users.size).toBe(0);
    });

    it('requires an idempotency-key', async () => {
      const response = await fetch(service.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'current' },
        body: JSON.stringify(user),
      });
      expect(response.status).toBe(400);
    });

    it('accepts a null email and a null fullName', async () => {
      const response = await post({ ...user, email: null, fullName: null });
      expect(response.status).toBe(201);
    });
  });

  describe('PATCH: update the Cognito-owned fields', () => {
    beforeEach(async () => {
      await post({ ...user, cognitoLastModified: T2 });
    });

    it('merges the patch into the user and answers 200 with the updated user', async () => {
      const before = stored('s-1');

      const response = await patch('s-1', { email: 'ada.king@example.com', status: 'DISABLED' });

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      const updated = (await response.json()) as StoredUser;
      expect(updated).toEqual(stored('s-1'));
      expect(updated).toMatchObject({
        ...user,
        email: 'ada.king@example.com',
        status: 'DISABLED',
        cognitoLastModified: T2,
        createdAt: before?.createdAt,
      });
      expect(Date.parse(updated.updatedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(before?.updatedAt ?? ''));
    });

    it('sets email and fullName to null when the patch says null (RFC 7396)', async () => {
      const response = await patch('s-1', { email: null, fullName: null });

      expect(response.status).toBe(200);
      expect(stored('s-1')).toMatchObject({ email: null, fullName: null, status: 'ACTIVE' });
    });

    it('applies an empty patch as a no-op', async () => {
      const response = await patch('s-1', {});

      expect(response.status).toBe(200);
      expect(stored('s-1')).toMatchObject(user);
    });

    it('answers 404 not_found for a cognitoSub it does not hold, and creates nothing', async () => {
      const response = await patch('nobody', { status: 'DISABLED' });

      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'not_found', reason: 'no user with this cognitoSub' });
      expect(service.users.has('nobody')).toBe(false);
    });

    it('refuses a write older than the one it holds with 412 stale_write, changing nothing', async () => {
      const response = await patch('s-1', { status: 'DISABLED', cognitoLastModified: T1 });

      expect(response.status).toBe(412);
      expect(await response.json()).toEqual({
        error: 'stale_write',
        cognitoLastModified: T2,
        reason: 'the user holds a newer cognitoLastModified',
      });
      expect(stored('s-1')).toMatchObject({ status: 'ACTIVE', cognitoLastModified: T2 });
    });

    it.each([
      ['newer', '2025-03-01T10:00:05.001Z'],
      ['equal', T2],
      ['equal, written with another offset', T3],
    ])('applies a write whose cognitoLastModified is %s, and keeps it', async (_, when) => {
      const response = await patch('s-1', { status: 'DISABLED', cognitoLastModified: when });

      expect(response.status).toBe(200);
      expect(stored('s-1')).toMatchObject({ status: 'DISABLED', cognitoLastModified: when });
    });

    it('applies a write without cognitoLastModified unconditionally, keeping the stored one', async () => {
      const response = await patch('s-1', { status: 'DISABLED' });

      expect(response.status).toBe(200);
      expect(stored('s-1')).toMatchObject({ status: 'DISABLED', cognitoLastModified: T2 });
    });

    it('lets the newer of two writes win, whichever arrives first', async () => {
      const newer = { status: 'DISABLED', cognitoLastModified: '2025-03-01T12:00:00.000Z' };
      const older = { status: 'ACTIVE', cognitoLastModified: '2025-03-01T11:00:00.000Z' };

      const statuses = [(await patch('s-1', newer)).status, (await patch('s-1', older)).status];

      expect(statuses).toEqual([200, 412]);
      expect(stored('s-1')).toMatchObject(newer);
    });

    it('lets the newest of many concurrent writes win', async () => {
      const writes = Array.from({ length: 20 }, (_, n) => ({
        fullName: `Ada ${n}`,
        cognitoLastModified: new Date(Date.parse('2025-03-02T00:00:00Z') + n * 1000).toISOString(),
      }));

      await Promise.all([...writes].reverse().map((write) => patch('s-1', write)));

      expect(stored('s-1')).toMatchObject(writes[19] ?? {});
    });

    it('refuses an email another user holds with 409 conflict, but not the user its own in another case', async () => {
      await post(userNamed('s-2', 'grace@example.com'));

      const clash = await patch('s-1', { email: 'Grace@Example.com' });
      const own = await patch('s-1', { email: 'ADA@example.com' });

      expect(clash.status).toBe(409);
      expect(await clash.json()).toEqual({
        error: 'conflict',
        field: 'email',
        reason: 'another user has this email',
      });
      expect(own.status).toBe(200);
      expect(stored('s-1')).toMatchObject({ email: 'ADA@example.com' });
    });

    it('checks staleness before uniqueness: a stale write is refused as stale, not as a conflict', async () => {
      await post(userNamed('s-2', 'grace@example.com'));

      const response = await patch('s-1', { email: 'grace@example.com', cognitoLastModified: T1 });

      expect(response.status).toBe(412);
    });

    it.each([
      ['role', { role: 'ADMIN' }, 'not patchable: role'],
      ['cognitoSub', { cognitoSub: 's-9' }, 'not patchable: cognitoSub'],
      ['createdBy', { createdBy: 's-9' }, 'not patchable: createdBy'],
      ['an unknown key', { phone: '+1' }, 'not patchable: phone'],
      ['a null status', { status: null }, 'status must be a non-empty string'],
      ['an empty updatedBy', { updatedBy: '' }, 'updatedBy must be a non-empty string'],
      ['a malformed email', { email: 'ada' }, 'email must be null or an email address'],
      ['a numeric fullName', { fullName: 7 }, 'fullName must be a string or null'],
      [
        'a cognitoLastModified that is no date-time',
        { cognitoLastModified: 'yesterday' },
        'cognitoLastModified must be an RFC 3339 date-time',
      ],
      [
        'a null cognitoLastModified',
        { cognitoLastModified: null },
        'cognitoLastModified must be an RFC 3339 date-time',
      ],
    ])('refuses a patch of %s with 422 and a reason, changing nothing', async (_, body, reason) => {
      const response = await patch('s-1', body);

      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ error: 'unprocessable', reason });
      expect(stored('s-1')).toMatchObject({ ...user, cognitoLastModified: T2 });
    });

    it.each([
      ['not JSON', '{"status":', 400],
      ['an array', '[]', 400],
      ['a string', '"DISABLED"', 400],
    ])('refuses a body that is %s with %i', async (_, body, status) => {
      const response = await patch('s-1', body);

      expect(response.status).toBe(status);
    });

    it('requires content-type application/merge-patch+json', async () => {
      const response = await patch(
        's-1',
        { status: 'DISABLED' },
        { ...key, 'content-type': 'application/json' },
      );

      expect(response.status).toBe(415);
      expect(await response.json()).toEqual({
        error: 'unsupported_media_type',
        reason: 'content-type must be application/merge-patch+json',
      });
    });

    it('requires an idempotency-key', async () => {
      const response = await fetch(`${service.url}/s-1`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json', ...key },
        body: '{}',
      });

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'bad_request',
        reason: 'idempotency-key header required',
      });
    });
  });

  describe('DELETE', () => {
    it('deletes a user (204, no body), then answers 404 not_found', async () => {
      await post(user);

      const deleted = await remove('s-1');
      const again = await remove('s-1');

      expect(deleted.status).toBe(204);
      expect(await deleted.text()).toBe('');
      expect(again.status).toBe(404);
      expect(await again.json()).toEqual({ error: 'not_found', reason: 'no user with this cognitoSub' });
      expect(service.users.has('s-1')).toBe(false);
      expect((await fetch(`${service.url}/s-1`)).status).toBe(404);
    });

    it('refuses a DELETE with a body: there is nothing to send, and the signature covers none', async () => {
      await post(user);

      const response = await fetch(`${service.url}/s-1`, {
        method: 'DELETE',
        headers: { 'idempotency-key': 'k-3', 'content-type': 'application/json', ...key },
        body: '{}',
      });

      expect(response.status).toBe(400);
      expect(service.users.has('s-1')).toBe(true);
    });

    it('requires an idempotency-key', async () => {
      await post(user);

      const response = await fetch(`${service.url}/s-1`, { method: 'DELETE', headers: key });

      expect(response.status).toBe(400);
      expect(service.users.has('s-1')).toBe(true);
    });
  });

  describe('GET: list for reconcile', () => {
    const page = async (query: string) => {
      const response = await list(query);
      expect(response.status).toBe(200);
      return (await response.json()) as {
        users: { cognitoSub: string }[];
        nextCursor: string | null;
      };
    };
    /** Every page from the first, following nextCursor; the sub of every user listed, in order. */
    const walk = async (params: Record<string, string>) => {
      const subs: string[] = [];
      let pages = 0;
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ ...params, ...(cursor !== null && { cursor }) });
        const body = await page(query.toString());
        pages++;
        expect(body.users.length).toBeGreaterThan(0);
        subs.push(...body.users.map((listed) => listed.cognitoSub));
        cursor = body.nextCursor;
      } while (cursor !== null);
      return { subs, pages };
    };
    const seed = async (count: number) => {
      const subs = Array.from({ length: count }, (_, n) => subOf(n));
      for (let start = 0; start < count; start += 50) {
        const batch = subs.slice(start, start + 50);
        const answers = await Promise.all(batch.map((sub) => post(userNamed(sub))));
        expect(answers.map((answer) => answer.status)).toEqual(batch.map(() => 201));
      }
      return subs;
    };
    const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

    it('lists only the Cognito-owned fields and cognitoLastModified, null when unknown', async () => {
      await post({ ...userNamed('s-1'), cognitoLastModified: T1 });
      await post(userNamed('s-2', null));

      const body = await page('');

      expect(body).toEqual({
        users: [
          {
            cognitoSub: 's-1',
            email: 's-1@example.com',
            fullName: 'Ada Lovelace',
            status: 'ACTIVE',
            cognitoLastModified: T1,
          },
          {
            cognitoSub: 's-2',
            email: null,
            fullName: 'Ada Lovelace',
            status: 'ACTIVE',
            cognitoLastModified: null,
          },
        ],
        nextCursor: null,
      });
    });

    it('answers an empty page with no cursor when it holds nobody', async () => {
      expect(await page('')).toEqual({ users: [], nextCursor: null });
    });

    it('pages through a few hundred users in cognitoSub byte order, without duplicates or gaps', async () => {
      const subs = await seed(300);

      const { subs: listed, pages } = await walk({ limit: '7' });

      expect(listed).toEqual([...subs].sort(byteOrder));
      expect(new Set(listed).size).toBe(300);
      expect(pages).toBe(Math.ceil(300 / 7));
    });

    it('pages 100 users at a time by default, and up to 1000 when asked', async () => {
      await seed(300);

      const first = await page('');
      const all = await page('limit=1000');

      expect(first.users).toHaveLength(100);
      expect(first.nextCursor).toEqual(expect.any(String));
      expect(all.users).toHaveLength(300);
      expect(all.nextCursor).toBeNull();
    });

    it('answers nextCursor null on a last page that is exactly full', async () => {
      await seed(20);

      const { pages } = await walk({ limit: '10' });

      expect(pages).toBe(2);
    });

    it('lists one slice of the sub space with prefix, and the 16 slices cover every user once', async () => {
      const subs = await seed(300);

      const slices = await Promise.all(
        [...'0123456789abcdef'].map(async (prefix) => ({ prefix, ...(await walk({ prefix, limit: '5' })) })),
      );

      for (const { prefix, subs: listed } of slices) {
        expect(listed).toEqual(subs.filter((sub) => sub.startsWith(prefix)).sort(byteOrder));
      }
      expect(slices.flatMap((slice) => slice.subs)).toEqual([...subs].sort(byteOrder));
    });

    it('lists a user created after the cursor once, and skips none that stay, while a walk is under way', async () => {
      const subs = (await seed(60)).sort(byteOrder);
      const first = await page('limit=20');
      const lastListed = subs[19] ?? '';
      // A sub sorting after the first page, one deleted from the second page on.
      const late = `${lastListed}-late`;
      await post(userNamed(late));
      await remove(subs[30] ?? '');

      const rest = await walk({ limit: '20', cursor: first.nextCursor ?? '' });

      const listed = [...first.users.map((listed) => listed.cognitoSub), ...rest.subs];
      expect(listed).toEqual([...subs.filter((sub) => sub !== subs[30]), late].sort(byteOrder));
    });

    it.each([
      ['limit=0', 'limit must be an integer from 1 to 1000'],
      ['limit=1001', 'limit must be an integer from 1 to 1000'],
      ['limit=ten', 'limit must be an integer from 1 to 1000'],
      ['limit=1.5', 'limit must be an integer from 1 to 1000'],
      ['limit=', 'limit must be an integer from 1 to 1000'],
      ['limit=5&limit=6', 'limit given more than once'],
      ['cursor=not-a-cursor', 'cursor is not one this service gave'],
      ['cursor=', 'cursor is not one this service gave'],
      ['sort=email', 'unknown query parameter: sort'],
    ])('answers 400 with a reason for %s', async (query, reason) => {
      const response = await list(query);

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'bad_request', reason });
    });

    it('answers 400 for a cursor given with another prefix than its own', async () => {
      await seed(40);
      const { nextCursor } = await page('prefix=&limit=1');

      const response = await list(`prefix=a&cursor=${nextCursor}`);

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'bad_request',
        reason: 'cursor belongs to another prefix',
      });
    });

    it('still shows one user, and 404 for none, on its dev-inspection route, without a key', async () => {
      await post(user);

      const one = await fetch(`${service.url}/s-1`);
      const none = await fetch(`${service.url}/nobody`);

      expect(await one.json()).toMatchObject(user);
      expect(none.status).toBe(404);
    });
  });

  describe('keys and signatures on every operation', () => {
    it.each([
      ['PATCH', () => patch('s-1', { status: 'DISABLED' }, {})],
      ['DELETE', () => remove('s-1', {})],
      ['GET', () => list('', {})],
    ])('answers 401 to a %s without an accepted key, changing nothing', async (_, send) => {
      await post(user);

      const response = await send();

      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'unauthorized', reason: 'x-api-key missing' });
      expect(stored('s-1')).toMatchObject(user);
    });

    describe('with a signing secret', () => {
      const secret = JSON.stringify({
        current: `whsec_${randomBytes(32).toString('base64')}`,
        previous: `whsec_${randomBytes(32).toString('base64')}`,
      });
      const keys = parseSigningSecret(secret);
      const signed = (body: string, id = 'msg_k-1') => signatureHeaders({ id, body, keys });

      beforeEach(async () => {
        await service.close();
        service = await startDevUserService({ apiKeys: ['current'], signingSecrets: [secret] });
        const body = JSON.stringify(user);
        expect((await post(body, { ...key, ...signed(body) })).status).toBe(201);
      });

      it('accepts a PATCH signed over its body, and refuses one unsigned or signed over another body', async () => {
        const body = JSON.stringify({ status: 'DISABLED' });

        const unsigned = await patch('s-1', body);
        const otherBody = await patch('s-1', body, { ...key, ...signed('{"status":"ACTIVE"}', 'msg_k-2') });
        const good = await patch('s-1', body, { ...key, ...signed(body, 'msg_k-2') });

        expect(unsigned.status).toBe(401);
        expect(await unsigned.json()).toMatchObject({
          reason: expect.stringMatching(/^signature missing-headers/),
        });
        expect(otherBody.status).toBe(401);
        expect(await otherBody.json()).toMatchObject({
          reason: expect.stringMatching(/^signature no-matching-signature/),
        });
        expect(good.status).toBe(200);
        expect(stored('s-1')).toMatchObject({ status: 'DISABLED' });
      });

      it('accepts a GET signed over the empty body, and refuses one unsigned', async () => {
        const unsigned = await list('');
        const good = await list('', { ...key, ...signed('', 'msg_list-1') });

        expect(unsigned.status).toBe(401);
        expect(good.status).toBe(200);
        expect(((await good.json()) as { users: unknown[] }).users).toHaveLength(1);
      });

      it('accepts a DELETE signed over the empty body, and refuses one unsigned or signed over a body', async () => {
        const unsigned = await remove('s-1');
        const overBody = await remove('s-1', { ...key, ...signed('{}', 'msg_k-3') });
        const good = await remove('s-1', { ...key, ...signed('', 'msg_k-3') });

        expect([unsigned.status, overBody.status, good.status]).toEqual([401, 401, 204]);
        expect(service.users.has('s-1')).toBe(false);
      });
    });
  });

  it('records every request it answers: method, path with query, headers, body and status', async () => {
    await post(user);
    await patch('s-1', { status: 'DISABLED' });
    await list('limit=5');
    await remove('s-1');

    expect(service.requests.map(({ method, path, status }) => ({ method, path, status }))).toEqual([
      { method: 'POST', path: '/api/v1/users', status: 201 },
      { method: 'PATCH', path: '/api/v1/users/s-1', status: 200 },
      { method: 'GET', path: '/api/v1/users?limit=5', status: 200 },
      { method: 'DELETE', path: '/api/v1/users/s-1', status: 204 },
    ]);
    expect(service.requests[1]).toMatchObject({
      headers: expect.objectContaining({ 'content-type': 'application/merge-patch+json' }),
      body: '{"status":"DISABLED"}',
    });
  });

  it('answers 405 with the methods it allows', async () => {
    const collection = await fetch(service.url, { method: 'PUT', headers: key });
    const member = await fetch(`${service.url}/s-1`, { method: 'POST', headers: key });

    expect([collection.status, member.status]).toEqual([405, 405]);
    expect(collection.headers.get('allow')).toBe('GET, POST');
    expect(member.headers.get('allow')).toBe('GET, PATCH, DELETE');
  });
});
