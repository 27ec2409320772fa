// openapi.yaml is the contract with the User Service: a valid OpenAPI 3.1 document that the
// client's real requests and the dev User Service's real answers both satisfy.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Credentials } from '../../src/clients/credentials.js';
import { createUserServiceClient, USER_AGENT } from '../../src/clients/user-service.js';
import { startDeadline } from '../../src/core/deadline.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { COGNITO_OWNED_KEYS, USER_RECORD_KEYS, type UserRecord } from '../../src/domain/contract.js';
import { idempotencyKey } from '../../src/domain/idempotency.js';
import { toUserRecord } from '../../src/domain/user-record.js';
import { parseSigningSecret, signatureHeaders, webhookIdFor } from '../../src/webhooks/signature.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import {
  type Contract,
  createContract,
  type HttpAnswer,
  type HttpRequest,
  loadOpenApi,
  pathsCitedByOpenApi,
  REPO_ROOT,
} from './openapi-contract.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const ROTATING_SECRET = JSON.stringify({
  current: `whsec_${randomBytes(32).toString('base64')}`,
  previous: `whsec_${randomBytes(32).toString('base64')}`,
});
const ROTATING_KEYS = parseSigningSecret(ROTATING_SECRET);
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const defaults = { status: 'ACTIVE', role: 'USER' };

const users: Record<string, UserRecord> = {
  'with email and name': toUserRecord(SUB, { email: 'ada@example.com', name: 'Ada Lovelace' }, defaults),
  'with neither email nor name': toUserRecord('8d2f6a4b-1c3e-4f5a-9b7c-0e1d2c3b4a59', {}, defaults),
  'with given and family names only': toUserRecord(
    'a1b2c3d4-0000-4000-8000-000000000001',
    { email: 'grace@example.com', given_name: 'Grace', family_name: 'Hopper' },
    { status: 'PENDING_REVIEW', role: 'org:member' },
  ),
};

let contract: Contract;
beforeAll(async () => {
  contract = createContract(await loadOpenApi());
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

describe('openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();

    const result = await validator.validate(await loadOpenApi());

    expect(result).toEqual({ valid: true });
    expect(validator.version).toBe('3.1');
  });

  it('is refused by the validator once broken, so the check above means something', async () => {
    const { info: _info, ...withoutInfo } = await loadOpenApi();
    const validator = new Validator();

    const result = await validator.validate(withoutInfo);

    expect(result.valid).toBe(false);
  });

  it('requires exactly the keys of the UserRecord the code sends', () => {
    const fields = contract.at('/components/schemas/UserFields') as {
      required: string[];
      properties: Record<string, unknown>;
    };

    expect([...fields.required].sort()).toEqual([...USER_RECORD_KEYS].sort());
    expect(Object.keys(fields.properties).sort()).toEqual([...USER_RECORD_KEYS].sort());
  });

  it('documents every answer the caller tells apart, and Retry-After where it is honoured', () => {
    const responses = contract.at('/paths/~1api~1v1~1users/post/responses') as Record<string, unknown>;

    expect(Object.keys(responses)).toEqual(
      expect.arrayContaining([
        '201',
        '2XX',
        '409',
        '400',
        '401',
        '403',
        '413',
        '415',
        '422',
        '429',
        '4XX',
        '5XX',
      ]),
    );
    for (const code of ['429', '5XX']) {
      expect(responses[code]).toMatchObject({ headers: { 'Retry-After': expect.anything() } });
    }
    for (const response of Object.values(responses)) {
      expect(response).toMatchObject({ description: expect.stringMatching(/.{20}/) });
    }
  });

  it('has examples that satisfy its own schemas', () => {
    const examples = Object.values(
      contract.at('/paths/~1api~1v1~1users/post/requestBody/content/application~1json/examples') as Record<
        string,
        { value: unknown }
      >,
    );

    expect(examples.length).toBeGreaterThan(0);
    for (const { value } of examples) {
      expect(contract.schemaProblems('/components/schemas/UserRecord', value)).toEqual([]);
    }
  });

  /** Every operation of the document, with its method and path template. */
  const operations = () =>
    Object.entries(contract.at('/paths') as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      ['get', 'put', 'post', 'patch', 'delete'].flatMap((method) => {
        const operation = item[method];
        return isObject(operation) ? [{ method, path, operation }] : [];
      }),
    );
  const called = () => operations().filter(({ operation }) => (operation.tags as string[]).includes('users'));
  /** A response, parameter or schema, through its `$ref` when it has one. */
  const resolved = (node: unknown): Record<string, unknown> => {
    const ref = isObject(node) ? node.$ref : undefined;
    return (typeof ref === 'string' ? contract.at(ref.slice(1)) : node) as Record<string, unknown>;
  };

  it('describes the four operations cognito-user-sync calls, and the one it never does', () => {
    const names = (list: ReturnType<typeof operations>) =>
      list.map(({ method, path }) => `${method.toUpperCase()} ${path}`).sort();

    expect(names(called())).toEqual([
      'DELETE /api/v1/users/{cognitoSub}',
      'GET /api/v1/users',
      'PATCH /api/v1/users/{cognitoSub}',
      'POST /api/v1/users',
    ]);
    expect(
      names(operations().filter(({ operation }) => !called().some((c) => c.operation === operation))),
    ).toEqual(['GET /api/v1/users/{cognitoSub}']);
  });

  it('documents every answer of every operation it calls, with Retry-After where it is honoured', () => {
    for (const { method, path, operation } of called()) {
      const responses = operation.responses as Record<string, unknown>;
      const what = `${method} ${path}`;
      expect(Object.keys(responses), what).toEqual(
        expect.arrayContaining(['400', '401', '403', '429', '4XX', '5XX']),
      );
      for (const code of ['429', '5XX']) {
        expect(resolved(responses[code]), `${what} ${code}`).toMatchObject({
          headers: { 'Retry-After': expect.anything() },
        });
      }
      for (const [code, response] of Object.entries(responses)) {
        expect(resolved(response), `${what} ${code}`).toMatchObject({
          description: expect.stringMatching(/.{20}/),
        });
      }
    }
  });

  it('asks for the same headers on every operation it calls, and an idempotency-key on each write', () => {
    for (const { method, path, operation } of called()) {
      const headers = (operation.parameters as unknown[])
        .map(resolved)
        .filter((parameter) => parameter.in === 'header')
        .map((parameter) => `${parameter.name}${parameter.required ? ' (required)' : ''}`);
      expect(headers, `${method} ${path}`).toEqual([
        ...(method === 'get' ? [] : ['idempotency-key (required)']),
        'user-agent',
        'webhook-id',
        'webhook-timestamp',
        'webhook-signature',
      ]);
    }
  });

  it('lets a PATCH touch only the fields Cognito owns, as a merge patch', () => {
    const patch = contract.at('/paths/~1api~1v1~1users~1{cognitoSub}/patch/requestBody/content') as Record<
      string,
      unknown
    >;
    const schema = contract.at('/components/schemas/UserPatch') as Record<string, unknown>;

    expect(Object.keys(patch)).toEqual(['application/merge-patch+json']);
    expect(Object.keys(schema.properties as object).sort()).toEqual(
      [...COGNITO_OWNED_KEYS, 'updatedBy', 'cognitoLastModified'].sort(),
    );
    expect(schema.additionalProperties).toBe(false);
    for (const owned of ['role', 'cognitoSub', 'createdBy', 'phone']) {
      expect(contract.schemaProblems('/components/schemas/UserPatch', { [owned]: 'x' }), owned).not.toEqual(
        [],
      );
    }
  });

  it('has examples for PATCH and the list that satisfy its own schemas', () => {
    const examplesAt = (pointer: string) =>
      Object.values(contract.at(pointer) as Record<string, { value: unknown }>).map(({ value }) => value);
    const patches = examplesAt(
      '/paths/~1api~1v1~1users~1{cognitoSub}/patch/requestBody/content/application~1merge-patch+json/examples',
    );
    const pages = examplesAt('/paths/~1api~1v1~1users/get/responses/200/content/application~1json/examples');

    expect([patches.length, pages.length]).toEqual([2, 2]);
    for (const value of patches)
      expect(contract.schemaProblems('/components/schemas/UserPatch', value)).toEqual([]);
    for (const value of pages)
      expect(contract.schemaProblems('/components/schemas/UserPage', value)).toEqual([]);
  });

  it('cites no file or folder that is not in the repository', async () => {
    const cited = await pathsCitedByOpenApi();

    // The two it must cite are found, so an empty list would not pass for a clean one.
    expect(cited).toEqual(
      expect.arrayContaining(['src/dev/user-service.ts', 'tests/contract/openapi.test.ts']),
    );
    expect(cited.filter((path) => !existsSync(new URL(path, REPO_ROOT)))).toEqual([]);
  });
});

describe('createUserServiceClient against openapi.yaml', () => {
  let server: ScriptedServer | undefined;
  afterEach(() => server?.close());

  const send = async (body: UserRecord, credentials: Credentials, url: string) => {
    const client = createUserServiceClient({ url: new URL(url), timeoutMs: 1000, baseBackoffMs: 1 });
    return client.createUser(body, {
      idempotencyKey: idempotencyKey(POOL, body.cognitoSub),
      credentials,
      deadline: startDeadline(3000),
    });
  };

  it.each(
    Object.entries(users).flatMap(([name, user]) => [
      [`${name}, with an API key`, user, { apiKey: 'k-1' }] as const,
      [`${name}, without an API key`, user, { apiKey: undefined }] as const,
      [`${name}, signed during a rotation`, user, { apiKey: 'k-1', signingKeys: ROTATING_KEYS }] as const,
    ]),
  )('sends what the contract describes, on every attempt (%s)', async (_name, user, credentials) => {
    server = await startScriptedServer([reply(503, { error: 'unavailable', reason: 'busy' }), reply(201)]);

    const result = await send(user, credentials, server.url);

    expect(result).toMatchObject({ outcome: 'created', attempts: 2 });
    expect(server.requests).toHaveLength(2);
    for (const request of server.requests) {
      expect(contract.requestProblems(request)).toEqual([]);
    }
    expect(server.requests[1]?.headers['idempotency-key']).toBe(
      server.requests[0]?.headers['idempotency-key'],
    );
    expect(server.requests[1]?.body).toBe(server.requests[0]?.body);
  });

  it('is checked by a contract that does flag requests breaking it', async () => {
    server = await startScriptedServer([reply(201)]);
    await send(users['with email and name'] as UserRecord, { apiKey: 'k-1' }, server.url);
    const [sent] = server.requests;
    if (!sent) throw new Error('no request was recorded');
    const { 'idempotency-key': _key, ...withoutKey } = sent.headers;

    const broken: Record<string, HttpRequest> = {
      'no idempotency-key': { ...sent, headers: withoutKey },
      'an idempotency-key that is no UUID': {
        ...sent,
        headers: { ...sent.headers, 'idempotency-key': 'k-1' },
      },
      'text/plain': { ...sent, headers: { ...sent.headers, 'content-type': 'text/plain' } },
      'an eighth key': { ...sent, body: JSON.stringify({ ...JSON.parse(sent.body), phone: '+44' }) },
      'a numeric email': { ...sent, body: JSON.stringify({ ...JSON.parse(sent.body), email: 42 }) },
      'a missing fullName': {
        ...sent,
        body: JSON.stringify({ ...JSON.parse(sent.body), fullName: undefined }),
      },
      'another path': { ...sent, path: '/api/v2/users' },
      'a malformed signature': { ...sent, headers: { ...sent.headers, 'webhook-signature': 'v1,abc' } },
    };

    for (const [what, request] of Object.entries(broken)) {
      expect(contract.requestProblems(request), what).not.toEqual([]);
    }
  });

  it('describes the signature headers signatureHeaders makes, with one key and during a rotation', async () => {
    server = await startScriptedServer([reply(201)]);
    await send(users['with email and name'] as UserRecord, { apiKey: 'k-1' }, server.url);
    const [sent] = server.requests;
    if (!sent) throw new Error('no request was recorded');
    const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
    const id = webhookIdFor(String(sent.headers['idempotency-key']));

    for (const value of [secret(), JSON.stringify({ current: secret(), previous: secret() })]) {
      const signed = {
        ...sent.headers,
        ...signatureHeaders({ id, body: sent.body, keys: parseSigningSecret(value) }),
      };
      expect(contract.requestProblems({ ...sent, headers: signed })).toEqual([]);
    }
  });
});

describe('dev User Service against openapi.yaml', () => {
  let service: DevUserService;
  beforeEach(async () => {
    service = await startDevUserService({ apiKeys: ['k-1'] });
  });
  afterEach(() => service.close());

  const user = users['with email and name'] as UserRecord;
  const other = users['with given and family names only'] as UserRecord;
  const PATCH_KEY = '6f1c2d3e-4b5a-4697-8a1b-2c3d4e5f6a7b';
  const DELETE_KEY = '0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d';
  type HeaderChanges = Record<string, string | undefined>;
  /** `base` with `changes` applied; an undefined value leaves a header out. */
  const headersOf = (base: Record<string, string>, changes: HeaderChanges): Record<string, string> =>
    Object.fromEntries(
      Object.entries({ ...base, ...changes }).flatMap(([name, value]) =>
        value === undefined ? [] : [[name, value]],
      ),
    );
  const sent = { 'user-agent': USER_AGENT, 'x-api-key': 'k-1' };
  const bodyOf = (body: unknown) => (typeof body === 'string' ? body : JSON.stringify(body));

  /** A request as the client makes it, with `headers` changed (undefined leaves one out). */
  const valid = (body: unknown = user, headers: HeaderChanges = {}): HttpRequest => ({
    method: 'POST',
    path: '/api/v1/users',
    headers: headersOf(
      { 'content-type': 'application/json', 'idempotency-key': idempotencyKey(POOL, SUB), ...sent },
      headers,
    ),
    body: bodyOf(body),
  });
  const patchOf = (body: unknown, headers: HeaderChanges = {}, sub = SUB): HttpRequest => ({
    method: 'PATCH',
    path: `/api/v1/users/${sub}`,
    headers: headersOf(
      { 'content-type': 'application/merge-patch+json', 'idempotency-key': PATCH_KEY, ...sent },
      headers,
    ),
    body: bodyOf(body),
  });
  const deleteOf = (sub = SUB, headers: HeaderChanges = {}): HttpRequest => ({
    method: 'DELETE',
    path: `/api/v1/users/${sub}`,
    headers: headersOf({ 'idempotency-key': DELETE_KEY, ...sent }, headers),
    body: '',
  });
  const listOf = (query = '', headers: HeaderChanges = {}): HttpRequest => ({
    method: 'GET',
    path: `/api/v1/users${query === '' ? '' : `?${query}`}`,
    headers: headersOf(sent, headers),
    body: '',
  });
  const signed = (request: HttpRequest, id: string): HttpRequest => ({
    ...request,
    headers: { ...request.headers, ...signatureHeaders({ id, body: request.body, keys: ROTATING_KEYS }) },
  });

  const exchange = async (request: HttpRequest): Promise<HttpAnswer> => {
    const response = await fetch(new URL(request.path, service.url), {
      method: request.method,
      headers: Object.fromEntries(
        Object.entries(request.headers).flatMap(([name, value]) =>
          typeof value === 'string' ? [[name, value]] : [],
        ),
      ),
      ...(request.body !== '' && { body: request.body }),
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      body: await response.text(),
    };
  };
  /** Sends a request the contract describes and checks the answer against the contract. */
  const answerTo = async (request: HttpRequest, status: number): Promise<unknown> => {
    const answer = await exchange(request);
    expect(answer.status).toBe(status);
    expect(contract.responseProblems(request, answer)).toEqual([]);
    return answer.body === '' ? undefined : JSON.parse(answer.body);
  };
  const create = (body: UserRecord & { cognitoLastModified?: string }) =>
    answerTo(valid(body, { 'idempotency-key': idempotencyKey(POOL, body.cognitoSub) }), 201);

  it('answers a valid request 201, then 409 already_exists naming the sub, as the contract describes', async () => {
    const request = valid();

    const created = await exchange(request);
    const again = await exchange(request);

    expect(contract.requestProblems(request)).toEqual([]);
    expect([created.status, again.status]).toEqual([201, 409]);
    expect(contract.responseProblems(request, created)).toEqual([]);
    expect(contract.schemaProblems('/components/schemas/StoredUser', JSON.parse(created.body))).toEqual([]);
    expect(JSON.parse(created.body)).toMatchObject({ cognitoSub: SUB });
    expect(contract.responseProblems(request, again)).toEqual([]);
    expect(JSON.parse(again.body)).toMatchObject({ error: 'already_exists', cognitoSub: SUB });
  });

  it('creates a user with cognitoLastModified, as the lifecycle path and reconcile send it', async () => {
    const request = valid({ ...user, cognitoLastModified: '2025-03-01T10:00:05.123Z' });

    const stored = await answerTo(request, 201);

    expect(contract.requestProblems(request)).toEqual([]);
    expect(contract.schemaProblems('/components/schemas/StoredUser', stored)).toEqual([]);
    expect(stored).toMatchObject({ cognitoLastModified: '2025-03-01T10:00:05.123Z' });
  });

  it('answers 409 conflict naming the field for an email another user holds, as the contract describes', async () => {
    await create(user);
    const request = valid(
      { ...other, email: user.email?.toUpperCase() ?? null },
      { 'idempotency-key': idempotencyKey(POOL, other.cognitoSub) },
    );

    const answer = await answerTo(request, 409);

    expect(contract.requestProblems(request)).toEqual([]);
    expect(answer).toMatchObject({ error: 'conflict', field: 'email' });
  });

  const { cognitoSub: _sub, ...withoutSub } = user;
  it.each<[string, HttpRequest, number]>([
    ['a body that is not JSON', valid('{"cognitoSub": '), 400],
    ['a body that is a JSON array', valid([user]), 400],
    ['no idempotency-key', valid(user, { 'idempotency-key': undefined }), 400],
    ['a wrong API key', valid(user, { 'x-api-key': 'k-2' }), 401],
    ['no API key', valid(user, { 'x-api-key': undefined }), 401],
    ['a body over 64 KiB', valid({ ...user, fullName: 'x'.repeat(70 * 1024) }), 413],
    ['text/plain', valid(user, { 'content-type': 'text/plain' }), 415],
    ['an unknown key', valid({ ...user, phone: '+441234' }), 422],
    ['a missing key', valid(withoutSub), 422],
    ['an email without @', valid({ ...user, email: 'ada.example.com' }), 422],
    ['createdBy not the cognitoSub', valid({ ...user, createdBy: 'someone-else' }), 422],
    ['a cognitoLastModified that is not a date-time', valid({ ...user, cognitoLastModified: 'today' }), 422],
    [
      'a PATCH without idempotency-key',
      patchOf({ status: 'DISABLED' }, { 'idempotency-key': undefined }),
      400,
    ],
    ['a PATCH body that is not JSON', patchOf('{"status":'), 400],
    ['a PATCH without an API key', patchOf({ status: 'DISABLED' }, { 'x-api-key': undefined }), 401],
    [
      'a PATCH in application/json',
      patchOf({ status: 'DISABLED' }, { 'content-type': 'application/json' }),
      415,
    ],
    ['a PATCH of role', patchOf({ role: 'ADMIN' }), 422],
    ['a PATCH of cognitoSub', patchOf({ cognitoSub: 'another' }), 422],
    ['a PATCH with a null status', patchOf({ status: null }), 422],
    ['a PATCH over 64 KiB', patchOf({ fullName: 'x'.repeat(70 * 1024) }), 413],
    ['a DELETE without idempotency-key', deleteOf(SUB, { 'idempotency-key': undefined }), 400],
    [
      'a DELETE with a body',
      { ...deleteOf(), headers: { ...deleteOf().headers, 'content-type': 'application/json' }, body: '{}' },
      400,
    ],
    ['a DELETE with a wrong API key', deleteOf(SUB, { 'x-api-key': 'k-2' }), 401],
    ['a list without an API key', listOf('', { 'x-api-key': undefined }), 401],
    ['a list with limit=0', listOf('limit=0'), 400],
    ['a list with limit=1001', listOf('limit=1001'), 400],
    ['a list with a cursor it did not give', listOf('cursor=bm90LWEtY3Vyc29y'), 400],
  ])('refuses %s with a status and an error body the contract describes', async (_what, request, status) => {
    await exchange(valid());

    const answer = await exchange(request);

    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(contract.responseProblems(request, answer)).toEqual([]);
    const body: unknown = JSON.parse(answer.body);
    expect(isObject(body) && typeof body.reason === 'string' && body.reason.length > 0).toBe(true);
  });

  it('answers a PATCH 200 with the updated user, 404 for a user it lacks, as the contract describes', async () => {
    await create(user);
    const update = patchOf({ email: null, status: 'DISABLED', cognitoLastModified: '2025-03-01T10:00:05Z' });
    const missing = patchOf({ status: 'DISABLED' }, {}, 'nobody');

    const updated = await answerTo(update, 200);
    const notFound = await answerTo(missing, 404);

    for (const request of [update, missing]) expect(contract.requestProblems(request)).toEqual([]);
    expect(contract.schemaProblems('/components/schemas/StoredUser', updated)).toEqual([]);
    expect(updated).toMatchObject({ cognitoSub: SUB, email: null, status: 'DISABLED' });
    expect(notFound).toMatchObject({ error: 'not_found' });
  });

  it('answers a stale PATCH 412 with the stored cognitoLastModified, and applies a newer one', async () => {
    await create({ ...user, cognitoLastModified: '2025-03-01T10:00:05.000Z' });
    const stale = patchOf({ status: 'DISABLED', cognitoLastModified: '2025-03-01T10:00:04.999Z' });
    const newer = patchOf({ status: 'DISABLED', cognitoLastModified: '2025-03-01T10:00:06.000Z' });

    const refused = await answerTo(stale, 412);
    const applied = await answerTo(newer, 200);

    for (const request of [stale, newer]) expect(contract.requestProblems(request)).toEqual([]);
    expect(refused).toMatchObject({ error: 'stale_write', cognitoLastModified: '2025-03-01T10:00:05.000Z' });
    expect(applied).toMatchObject({ status: 'DISABLED', cognitoLastModified: '2025-03-01T10:00:06.000Z' });
  });

  it('answers a PATCH taking another user’s email 409 conflict, as the contract describes', async () => {
    await create(user);
    await create(other);
    const request = patchOf({ email: other.email });

    const answer = await answerTo(request, 409);

    expect(contract.requestProblems(request)).toEqual([]);
    expect(answer).toMatchObject({ error: 'conflict', field: 'email' });
  });

  it('answers a DELETE 204 with no body, then 404 not_found, as the contract describes', async () => {
    await create(user);
    const request = deleteOf();

    const deleted = await answerTo(request, 204);
    const gone = await answerTo(request, 404);

    expect(contract.requestProblems(request)).toEqual([]);
    expect(deleted).toBeUndefined();
    expect(gone).toMatchObject({ error: 'not_found' });
  });

  it('lists users a page at a time, with prefix and cursor, as the contract describes', async () => {
    const subs = Array.from({ length: 40 }, (_, n) => `${(n % 4).toString(16)}${String(n).padStart(3, '0')}`);
    for (const sub of subs) {
      await create({ ...user, cognitoSub: sub, email: null, createdBy: sub, updatedBy: sub });
    }
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const request = listOf(
        new URLSearchParams({ prefix: '2', limit: '3', ...(cursor && { cursor }) }).toString(),
      );
      expect(contract.requestProblems(request)).toEqual([]);
      const page = (await answerTo(request, 200)) as {
        users: { cognitoSub: string }[];
        nextCursor: string | null;
      };
      listed.push(...page.users.map((listedUser) => listedUser.cognitoSub));
      cursor = page.nextCursor;
    } while (cursor !== null);

    expect(listed).toEqual(subs.filter((sub) => sub.startsWith('2')).sort());
  });

  it('is checked by a contract that does flag answers breaking it', async () => {
    await create(user);
    const post = valid(other, { 'idempotency-key': idempotencyKey(POOL, other.cognitoSub) });
    const created = await exchange(post);
    const stored = JSON.parse(created.body) as Record<string, unknown>;
    const show = listOf();
    const page = await exchange(show);
    const listed = JSON.parse(page.body) as { users: Record<string, unknown>[] };
    const inspect = { method: 'GET', path: `/api/v1/users/${SUB}`, headers: {}, body: '' };
    const json = { 'content-type': 'application/json' };
    const answer = (status: number, body: unknown, headers: HttpAnswer['headers'] = json): HttpAnswer => ({
      status,
      headers,
      body: JSON.stringify(body),
    });

    const broken: [string, HttpRequest, HttpAnswer][] = [
      ['an undocumented status', post, { ...created, status: 302 }],
      ['a text/html 201', post, { ...created, headers: { 'content-type': 'text/html' } }],
      ['a 201 body that is not JSON', post, { ...created, body: '<html>' }],
      ['a 201 body that is a JSON array', post, answer(201, [stored])],
      ['a 409 already_exists without the cognitoSub', post, answer(409, { error: 'already_exists' })],
      ['a 409 conflict without the field', post, answer(409, { error: 'conflict', reason: 'email' })],
      ['a 409 of another kind', post, answer(409, { error: 'duplicate', cognitoSub: SUB })],
      ['a 412 without the stored cognitoLastModified', patchOf({}), answer(412, { error: 'stale_write' })],
      [
        'a 412 whose cognitoLastModified is no date-time',
        patchOf({}),
        answer(412, { error: 'stale_write', cognitoLastModified: 'yesterday' }),
      ],
      ['a PATCH 404 that is not not_found', patchOf({}), answer(404, { error: 'no_route', reason: 'x' })],
      ['a DELETE 404 that is not JSON', deleteOf(), { status: 404, headers: {}, body: 'Not Found' }],
      ['a DELETE 204 with a body', deleteOf(), answer(204, {})],
      ['a page without nextCursor', show, answer(200, { users: listed.users })],
      [
        'a page whose user shows its role',
        show,
        answer(200, { users: [{ ...listed.users[0], role: 'USER' }], nextCursor: null }),
      ],
      [
        'a page whose user lacks cognitoLastModified',
        show,
        answer(200, { users: [{ ...listed.users[0], cognitoLastModified: undefined }], nextCursor: null }),
      ],
      ['a stored user without createdAt', inspect, answer(200, { ...stored, createdAt: undefined })],
      ['a stored user with an extra key', inspect, answer(200, { ...stored, password: 'x' })],
      ['an error without a reason', post, answer(422, { error: 'unprocessable' })],
      [
        'a Retry-After that is neither seconds nor a date',
        patchOf({}),
        answer(429, { error: 'too_many_requests', reason: 'slow down' }, { ...json, 'retry-after': 'soon' }),
      ],
    ];

    expect([created.status, page.status]).toEqual([201, 200]);
    for (const [what, request, broke] of broken) {
      expect(contract.responseProblems(request, broke), what).not.toEqual([]);
    }
  });

  it('is checked by a contract that does flag requests to PATCH, DELETE and the list breaking it', () => {
    const broken: Record<string, HttpRequest> = {
      'a PATCH of role': patchOf({ role: 'ADMIN' }),
      'a PATCH of an unknown key': patchOf({ phone: '+44' }),
      'a PATCH with a null status': patchOf({ status: null }),
      'a PATCH in application/json': patchOf({ status: 'DISABLED' }, { 'content-type': 'application/json' }),
      'a PATCH without idempotency-key': patchOf({}, { 'idempotency-key': undefined }),
      'a PATCH with a cognitoLastModified without a zone': patchOf({
        cognitoLastModified: '2025-03-01T10:00:00',
      }),
      'a DELETE with a body': { ...deleteOf(), body: '{}' },
      'a DELETE without idempotency-key': deleteOf(SUB, { 'idempotency-key': undefined }),
      'a list with limit=0': listOf('limit=0'),
      'a list with limit=ten': listOf('limit=ten'),
      'a list with limit given twice': listOf('limit=5&limit=6'),
      'a list with an unknown parameter': listOf('sort=email'),
      'a list with a body': { ...listOf(), body: '{}' },
    };

    for (const [what, request] of Object.entries(broken)) {
      expect(contract.requestProblems(request), what).not.toEqual([]);
    }
  });

  it('checks signatures on every operation when it holds a signing secret, answering as the contract describes', async () => {
    await service.close();
    service = await startDevUserService({ apiKeys: ['k-1'], signingSecrets: [ROTATING_SECRET] });
    const create = valid();
    const update = patchOf({ status: 'DISABLED' });
    const show = listOf('limit=10');
    const remove = deleteOf();
    const operations: [HttpRequest, string, number][] = [
      [create, webhookIdFor(idempotencyKey(POOL, SUB)), 201],
      [update, webhookIdFor(PATCH_KEY), 200],
      [show, 'msg_2b7e4f60-1c3d-4e5f-8a9b-0c1d2e3f4a5b', 200],
      [remove, webhookIdFor(DELETE_KEY), 204],
    ];

    for (const [unsigned, id, status] of operations) {
      const refused = await exchange(unsigned);
      const request = signed(unsigned, id);
      const accepted = await exchange(request);

      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body)).toMatchObject({
        reason: expect.stringMatching(/^signature missing-headers/),
      });
      expect(contract.responseProblems(unsigned, refused)).toEqual([]);
      expect(contract.requestProblems(request)).toEqual([]);
      expect(accepted.status).toBe(status);
      expect(contract.responseProblems(request, accepted)).toEqual([]);
    }
  });

  it('answers its inspection endpoint as the contract describes, without a key', async () => {
    await exchange(valid());
    const one = { method: 'GET', path: `/api/v1/users/${SUB}`, headers: {}, body: '' };
    const none = { method: 'GET', path: '/api/v1/users/nobody', headers: {}, body: '' };

    const answers = await Promise.all([one, none].map(exchange));

    expect(answers.map((answer) => answer.status)).toEqual([200, 404]);
    for (const [request, answer] of [one, none].map((request, i) => [request, answers[i]] as const)) {
      expect(contract.requestProblems(request)).toEqual([]);
      expect(contract.responseProblems(request, answer as HttpAnswer)).toEqual([]);
    }
  });

  it('receives from the real client requests the contract describes', async () => {
    const client = createUserServiceClient({ url: new URL(service.url), timeoutMs: 1000 });
    const options = {
      idempotencyKey: idempotencyKey(POOL, SUB),
      credentials: { apiKey: 'k-1' },
      deadline: startDeadline(3000),
    };

    const outcomes = [await client.createUser(user, options), await client.createUser(user, options)];

    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(['created', 'exists']);
    expect(service.requests.map((request) => request.status)).toEqual([201, 409]);
    for (const request of service.requests) {
      expect(contract.requestProblems(request)).toEqual([]);
    }
  });
});
