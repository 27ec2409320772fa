import { describe, expect, it } from 'vitest';
import { USER_RECORD_KEYS } from '../../src/domain/contract.js';
import { fullNameOf, toUserRecord } from '../../src/domain/user-record.js';

const defaults = { status: 'ACTIVE', role: 'USER' };

describe('toUserRecord', () => {
  it('has exactly the contract keys, in order, with the sub as creator and updater', () => {
    const record = toUserRecord('s-1', { sub: 's-1', email: 'A.B@Example.com', name: 'A B' }, defaults);
    expect(Object.keys(record)).toEqual([...USER_RECORD_KEYS]);
    expect(record).toEqual({
      cognitoSub: 's-1',
      email: 'A.B@Example.com', // as sent
      fullName: 'A B',
      status: 'ACTIVE',
      role: 'USER',
      createdBy: 's-1',
      updatedBy: 's-1',
    });
  });

  it('sends null for an absent or empty email', () => {
    expect(toUserRecord('s', {}, defaults).email).toBeNull();
    expect(toUserRecord('s', { email: '' }, defaults).email).toBeNull();
  });

  it('takes status and role from the configured defaults', () => {
    expect(toUserRecord('s', {}, { status: 'PENDING', role: 'MEMBER' })).toMatchObject({
      status: 'PENDING',
      role: 'MEMBER',
    });
  });
});

describe('fullNameOf', () => {
  it.each([
    [{ name: 'Ada Lovelace', given_name: 'A', family_name: 'L' }, 'Ada Lovelace'],
    [{ name: '  ', given_name: 'Radia', family_name: 'Perlman' }, 'Radia Perlman'],
    [{ given_name: 'Radia' }, 'Radia'],
    [{ family_name: 'Perlman' }, 'Perlman'],
    [{ preferred_username: 'margaret.h' }, 'margaret.h'],
    [{ email: 'x@example.com' }, null],
  ])('%j → %j', (attributes, expected) => {
    expect(fullNameOf(attributes)).toBe(expected);
  });
});
