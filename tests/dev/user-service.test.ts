// The dev User Service implements the contract, so the rest of the suite can trust it.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';

const user = {
  cognitoSub: 's-1',
  email: 'ada@example.com',
  fullName: 'Ada Lovelace',
  status: 'ACTIVE',
  role: 'USER',
  createdBy: 's-1',
  updatedBy: 's-1',
};

describe('dev User Service', () => {
  let service: DevUserService;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeEach(async () => {
    service = await startDevUserService({ apiKeys: ['current', 'previous'] });
  });
  afterEach(() => service.close());

  it('creates a user (201), then answers 409 for the same cognitoSub', async () => {
    const created = await post(user, { 'x-api-key': 'current' });
    const again = await post(user, { 'x-api-key': 'previous' });

    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ ...user, idempotencyKey: 'k-1' });
    expect(again.status).toBe(409);
    expect(service.users.size).toBe(1);
  });

  it('shows what it holds', async () => {
    await post(user, { 'x-api-key': 'current' });

    const list = await (await fetch(service.url)).json();
    const one = await fetch(`${service.url}/s-1`);
    const none = await fetch(`${service.url}/nobody`);

    expect(list).toEqual({ users: [expect.objectContaining(user)] });
    expect(await one.json()).toMatchObject(user);
    expect(none.status).toBe(404);
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
  ])('rejects %s with %i and a reason', async (_, body, status, reason) => {
    const response = await post(body, { 'x-api-key': 'current' });
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
    const response = await post({ ...user, email: null, fullName: null }, { 'x-api-key': 'current' });
    expect(response.status).toBe(201);
  });
});
