// The users of a pool as Cognito gives them, Cognito mocked at the SDK (aws-sdk-client-mock).

import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { regionOfUserPool } from '../../src/clients/cognito-users.js';

const cognito = mockClient(CognitoIdentityProviderClient);

beforeEach(() => {
  cognito.reset();
});

describe('regionOfUserPool', () => {
  it.each([
    ['eu-west-1_Qx7Lm2Rt9', 'eu-west-1'],
    ['eusc-de-east-1_AbC123', 'eusc-de-east-1'],
    ['us-gov-west-1_AbC123', 'us-gov-west-1'],
    ['cn-north-1_AbC123', 'cn-north-1'],
    ['us-iso-east-1_AbC123', 'us-iso-east-1'],
    ['us-isob-east-1_AbC123', 'us-isob-east-1'],
  ])('gives the region of %s: %s', (userPoolId, region) => {
    expect(regionOfUserPool(userPoolId)).toBe(region);
  });

  it.each(['Qx7Lm2Rt9', 'eu-west-1_', 'eu-west-1_Qx7-Lm2', `eu-west-1_${'a'.repeat(46)}`])(
    'gives no region for %s, which is no pool id',
    (userPoolId) => {
      expect(regionOfUserPool(userPoolId)).toBeUndefined();
    },
  );
});
