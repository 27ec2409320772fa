// What a POST's 409 means, through the client against a loopback User Service: "exists" only with
// the contract's answer (`error: "already_exists"` and the sub sent); any other 409 is a refusal,
// whatever else its body echoes back.

import { afterEach, describe, expect, it } from 'vitest';
import { createUserServiceClient } from '../../../src/clients/user-service.js';
import { startDeadline } from '../../../src/core/deadline.js';
import { toUserRecord } from '../../../src/domain/user-record.js';
import { reply, type ScriptedServer, startScriptedServer } from '../../helpers/scripted-server.js';

const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const body = toUserRecord(SUB, { email: 'ada.lovelace@example.com' }, { status: 'ACTIVE', role: 'USER' });

describe('CREATE (a POST answered 409)', () => {
  let server: ScriptedServer | undefined;
  afterEach(() => server?.close());

  const createAgainst = async (status: number, answer: unknown) => {
    server = await startScriptedServer([reply(status, answer)]);
    const client = createUserServiceClient({ url: new URL(server.url), timeoutMs: 1000 });
    return client.createUser(body, {
      idempotencyKey: 'key-1',
      credentials: { apiKey: 'k-1' },
      deadline: startDeadline(2000),
    });
  };

  it('counts the contract\'s 409 (error "already_exists", the sub sent) as exists', async () => {
    const result = await createAgainst(409, { error: 'already_exists', cognitoSub: SUB, reason: 'held' });

    expect(result).toMatchObject({ outcome: 'exists', httpStatus: 409 });
  });

  it.each([
    ['an email clash that echoes the sub sent', { error: 'conflict', field: 'email', cognitoSub: SUB }],
    ['another error code naming the sub sent', { error: 'duplicate', cognitoSub: SUB }],
    ['no error code, only the sub sent', { cognitoSub: SUB }],
    ['already_exists for another sub', { error: 'already_exists', cognitoSub: 'someone-else' }],
    ['already_exists without a sub', { error: 'already_exists' }],
  ])('refuses a 409 with %s, as rejected http-409, its body kept as the detail', async (_, answer) => {
    const result = await createAgainst(409, answer);

    expect(result).toMatchObject({ failure: 'rejected', reason: 'http-409', httpStatus: 409 });
    expect(result).not.toHaveProperty('outcome');
    expect(result.detail).toBe(JSON.stringify(answer));
  });
});
