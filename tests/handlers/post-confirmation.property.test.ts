// Bad input: arbitrary JSON and half-formed Cognito events never make the handler throw, and it
// always gives back exactly what it got, unchanged.

import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { resetHandlerState } from '../helpers/aws-mocks.js';
import { invokeHandler, setEnv } from '../helpers/handler.js';

const triggerSource = fc.oneof(
  fc.constantFrom(
    'PostConfirmation_ConfirmSignUp',
    'PostConfirmation_ConfirmForgotPassword',
    'PreSignUp_SignUp',
  ),
  fc.string(),
  fc.jsonValue(),
);

const attributeValue = fc.oneof(fc.string(), fc.emailAddress(), fc.jsonValue());

const userAttributes = fc.oneof(
  fc.dictionary(
    fc.constantFrom('sub', 'email', 'name', 'given_name', 'family_name', 'preferred_username', 'custom:x'),
    attributeValue,
  ),
  fc.record({ sub: fc.oneof(fc.uuid(), fc.string(), fc.jsonValue()) }, { requiredKeys: [] }),
  fc.jsonValue(),
);

/** Shaped like a post-confirmation event, with any part missing or of the wrong type. */
const halfFormedEvent = fc.record(
  {
    version: fc.oneof(fc.constant('1'), fc.jsonValue()),
    triggerSource,
    region: fc.string(),
    userPoolId: fc.oneof(fc.constant('eu-west-1_Qx7Lm2Rt9'), fc.string(), fc.jsonValue()),
    userName: fc.oneof(fc.string(), fc.jsonValue()),
    callerContext: fc.oneof(
      fc.record({ awsSdkVersion: fc.string(), clientId: fc.oneof(fc.string(), fc.constant(null)) }),
      fc.jsonValue(),
    ),
    request: fc.oneof(
      fc.record({ userAttributes, clientMetadata: fc.jsonValue() }, { requiredKeys: [] }),
      fc.jsonValue(),
    ),
    response: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

/** A real sign-up whose attributes are anything: the path that reaches the User Service. */
const signUpWithAnyAttributes = fc
  .record({
    sub: fc.uuid(),
    others: fc.dictionary(
      fc.constantFrom('email', 'name', 'given_name', 'family_name', 'preferred_username', 'phone_number'),
      attributeValue,
    ),
  })
  .map(({ sub, others }) => ({
    version: '1',
    triggerSource: 'PostConfirmation_ConfirmSignUp',
    userPoolId: 'eu-west-1_Qx7Lm2Rt9',
    userName: sub,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: null },
    request: { userAttributes: { ...others, sub } },
    response: {},
  }));

describe('post-confirmation handler on arbitrary input', () => {
  let service: DevUserService;

  beforeAll(async () => {
    service = await startDevUserService();
  });
  afterAll(() => service.close());

  beforeEach(() => {
    resetHandlerState();
    setEnv({ USER_SERVICE_URL: service.url, SYNC_DEADLINE_MS: '500' });
  });

  it('never throws and returns what it got, unchanged, for 500+ inputs', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), halfFormedEvent, signUpWithAnyAttributes), async (input) => {
        runs++;
        const before = structuredClone(input);

        const { result } = await invokeHandler(input);

        expect(result).toBe(input);
        expect(input).toEqual(before);
      }),
      { numRuns: 600 },
    );
    expect(runs).toBeGreaterThanOrEqual(500);
    // Some of those inputs were whole enough to create users.
    expect(service.users.size).toBeGreaterThan(0);
  });
});
