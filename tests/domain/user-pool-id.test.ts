import { describe, expect, it } from 'vitest';
import { isUserPoolId, parseUserPoolId } from '../../src/domain/user-pool-id.js';

describe('parseUserPoolId', () => {
  it.each([
    ['eu-west-1_Qx7Lm2Rt9', 'eu-west-1', 'Qx7Lm2Rt9'],
    ['us-east-1_abc', 'us-east-1', 'abc'],
    ['eusc-de-east-1_AbC123', 'eusc-de-east-1', 'AbC123'],
    ['us-gov-west-1_AbC123', 'us-gov-west-1', 'AbC123'],
    ['cn-north-1_AbC123', 'cn-north-1', 'AbC123'],
    ['cn-northwest-1_AbC123', 'cn-northwest-1', 'AbC123'],
    ['us-iso-east-1_AbC123', 'us-iso-east-1', 'AbC123'],
    ['us-isob-east-1_AbC123', 'us-isob-east-1', 'AbC123'],
    ['eu-isoe-west-1_AbC123', 'eu-isoe-west-1', 'AbC123'],
    ['us-isof-south-1_AbC123', 'us-isof-south-1', 'AbC123'],
  ])('reads %s as the pool %s in region %s', (value, region, id) => {
    expect(parseUserPoolId(value)).toEqual({ region, id });
    expect(isUserPoolId(value)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['no region', 'Qx7Lm2Rt9'],
    ['no id', 'eu-west-1_'],
    ['no separator', 'eu-west-1Qx7Lm2Rt9'],
    ['a region that is not one (no number)', 'eu-west_Qx7Lm2Rt9'],
    ['a region in capitals (not a region the SDK resolves)', 'EU-WEST-1_Qx7Lm2Rt9'],
    ['an underscore in the region', 'eu_west-1_Qx7Lm2Rt9'],
    ['a hyphen at the start', '-eu-west-1_Qx7Lm2Rt9'],
    ['a character the id cannot hold', 'eu-west-1_Qx7-Lm2'],
    ['spaces around it', ' eu-west-1_Qx7Lm2Rt9 '],
    ['a line break after it', 'eu-west-1_Qx7Lm2Rt9\n'],
    ['more than 55 characters', `eu-west-1_${'a'.repeat(46)}`],
  ])('refuses %s', (_, value) => {
    expect(parseUserPoolId(value)).toBeUndefined();
    expect(isUserPoolId(value)).toBe(false);
  });

  it('takes 55 characters, the longest id Cognito gives', () => {
    const value = `eu-west-1_${'a'.repeat(45)}`;

    expect(value).toHaveLength(55);
    expect(parseUserPoolId(value)).toEqual({ region: 'eu-west-1', id: 'a'.repeat(45) });
  });

  it('refuses what is not a string, for callers reading JSON', () => {
    expect(isUserPoolId(42)).toBe(false);
    expect(isUserPoolId(undefined)).toBe(false);
  });
});
