import { describe, expect, it } from 'vitest';
import { decide } from '../../src/domain/cognito-event.js';

const signUp = (overrides: Record<string, unknown> = {}) => ({
  version: '1',
  triggerSource: 'PostConfirmation_ConfirmSignUp',
  userPoolId: 'eu-west-1_Qx7Lm2Rt9',
  userName: 'u',
  callerContext: { awsSdkVersion: 'x', clientId: null },
  request: { userAttributes: { sub: 's-1', email: 'a@example.com', email_verified: 'true' } },
  response: {},
  ...overrides,
});

describe('decide', () => {
  it('syncs a ConfirmSignUp, admin confirm (clientId null) included', () => {
    expect(decide(signUp())).toEqual({
      action: 'sync',
      user: {
        userPoolId: 'eu-west-1_Qx7Lm2Rt9',
        triggerSource: 'PostConfirmation_ConfirmSignUp',
        sub: 's-1',
        attributes: { sub: 's-1', email: 'a@example.com', email_verified: 'true' },
      },
    });
  });

  it('skips a password reset', () => {
    expect(decide(signUp({ triggerSource: 'PostConfirmation_ConfirmForgotPassword' }))).toEqual({
      action: 'skip',
      reason: 'forgot-password',
      triggerSource: 'PostConfirmation_ConfirmForgotPassword',
    });
  });

  it('skips an unknown trigger source', () => {
    expect(decide(signUp({ triggerSource: 'PreSignUp_SignUp' }))).toMatchObject({
      action: 'skip',
      reason: 'unsupported-trigger',
    });
  });

  it.each([null, 42, 'event', [], {}, { triggerSource: 7 }])(
    'skips %j, which is no Cognito event',
    (event) => {
      expect(decide(event)).toEqual({ action: 'skip', reason: 'not-a-cognito-event' });
    },
  );

  it('keeps only string attributes', () => {
    const decision = decide(signUp({ request: { userAttributes: { sub: 's-1', email: 5, name: null } } }));
    expect(decision).toMatchObject({ action: 'sync', user: { attributes: { sub: 's-1' } } });
  });

  it.each([
    [signUp({ userPoolId: '' }), 'event has no valid userPoolId'],
    [signUp({ userPoolId: 'not a pool' }), 'event has no valid userPoolId'],
    [signUp({ userPoolId: `eu-west-1_${'a'.repeat(50)}` }), 'event has no valid userPoolId'],
    [signUp({ request: { userAttributes: { email: 'a@example.com' } } }), 'event has no sub attribute'],
    [signUp({ request: null }), 'event has no sub attribute'],
  ])('calls a sign-up it cannot make a user of invalid', (event, problem) => {
    expect(decide(event)).toMatchObject({ action: 'invalid', problem });
  });
});
