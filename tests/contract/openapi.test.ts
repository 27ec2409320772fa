// openapi.yaml is the contract with the User Service: a valid OpenAPI 3.1 document that the
// client's real requests and the dev User Service's real answers both satisfy.

import { randomBytes } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Credentials, createUserServiceClient, USER_AGENT } from '../../src/clients/user-service.js';
import { startDeadline } from '../../src/core/deadline.js';
import { idempotencyKey } from '../../src/core/idempotency.js';
import { toUserRecord, USER_RECORD_KEYS, type UserRecord } from '../../src/core/user-record.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { parseSigningSecret, signatureHeaders, webhookIdFor } from '../../src/webhooks/signature.js';
import { reply, type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import {
  type Contract,
  createContract,
  type HttpAnswer,
  type HttpRequest,
  loadOpenApi,
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
  /** A request as the client makes it, with `headers` changed (undefined leaves one out). */
  const valid = (body: unknown = user, headers: Record<string, string | undefined> = {}): HttpRequest => ({
    method: 'POST',
    path: '/api/v1/users',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey(POOL, SUB),
      'user-agent': USER_AGENT,
      'x-api-key': 'k-1',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  const exchange = async (request: HttpRequest): Promise<HttpAnswer> => {
    const response = await fetch(new URL(request.path, service.url), {
      method: request.method,
      headers: Object.fromEntries(
        Object.entries(request.headers).flatMap(([name, value]) =>
          typeof value === 'string' ? [[name, value]] : [],
        ),
      ),
      ...(request.method === 'POST' && { body: request.body }),
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      body: await response.text(),
    };
  };

  it('answers a valid request 201, then 409 for the same user, as the contract describes', async () => {
    const request = valid();

    const created = await exchange(request);
    const again = await exchange(request);

    expect(contract.requestProblems(request)).toEqual([]);
    expect([created.status, again.status]).toEqual([201, 409]);
    expect(contract.responseProblems(request, created)).toEqual([]);
    expect(contract.responseProblems(request, again)).toEqual([]);
    expect(JSON.parse(again.body)).toMatchObject({ error: 'conflict', user: { cognitoSub: SUB } });
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
  ])('refuses %s with a status and an error body the contract describes', async (_what, request, status) => {
    const answer = await exchange(request);

    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(contract.responseProblems(request, answer)).toEqual([]);
    const body: unknown = JSON.parse(answer.body);
    expect(isObject(body) && typeof body.reason === 'string' && body.reason.length > 0).toBe(true);
  });

  it('is checked by a contract that does flag answers breaking it', async () => {
    const request = valid();
    const created = await exchange(request);
    const stored = JSON.parse(created.body) as Record<string, unknown>;

    const broken: Record<string, HttpAnswer> = {
      'an undocumented status': { ...created, status: 302 },
      'a text/html body': { ...created, headers: { 'content-type': 'text/html' } },
      'a body that is not JSON': { ...created, body: '<html>' },
      'a stored user without createdAt': {
        ...created,
        body: JSON.stringify({ ...stored, createdAt: undefined }),
      },
      'a stored user with an extra key': { ...created, body: JSON.stringify({ ...stored, password: 'x' }) },
      'an error without a reason': {
        ...created,
        status: 422,
        body: JSON.stringify({ error: 'unprocessable' }),
      },
      'a Retry-After that is neither seconds nor a date': {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': 'soon' },
        body: JSON.stringify({ error: 'too_many_requests', reason: 'slow down' }),
      },
    };

    expect(created.status).toBe(201);
    for (const [what, answer] of Object.entries(broken)) {
      expect(contract.responseProblems(request, answer), what).not.toEqual([]);
    }
  });

  it('checks signatures when it holds a signing secret, answering 401 as the contract describes', async () => {
    await service.close();
    service = await startDevUserService({ apiKeys: ['k-1'], signingSecrets: [ROTATING_SECRET] });
    const unsigned = valid();
    const signed = {
      ...unsigned,
      headers: {
        ...unsigned.headers,
        ...signatureHeaders({
          id: webhookIdFor(idempotencyKey(POOL, SUB)),
          body: unsigned.body,
          keys: ROTATING_KEYS,
        }),
      },
    };

    const refused = await exchange(unsigned);
    const created = await exchange(signed);

    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({
      reason: expect.stringMatching(/^signature missing-headers/),
    });
    expect(contract.responseProblems(unsigned, refused)).toEqual([]);
    expect(created.status).toBe(201);
    expect(contract.responseProblems(signed, created)).toEqual([]);
  });

  it('answers its inspection endpoints as the contract describes', async () => {
    await exchange(valid());
    const list = { method: 'GET', path: '/api/v1/users', headers: {}, body: '' };
    const one = { method: 'GET', path: `/api/v1/users/${SUB}`, headers: {}, body: '' };
    const none = { method: 'GET', path: '/api/v1/users/nobody', headers: {}, body: '' };

    const answers = await Promise.all([list, one, none].map(exchange));

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 404]);
    for (const [request, answer] of [list, one, none].map((request, i) => [request, answers[i]] as const)) {
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
