import { describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../src/domain/idempotency.js';

describe('idempotencyKey', () => {
  it('is a version 5 UUID', () => {
    expect(idempotencyKey('eu-west-1_Qx7Lm2Rt9', 's-1')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('is the same for the same pool and sub, every time', () => {
    expect(idempotencyKey('pool', 'sub')).toBe(idempotencyKey('pool', 'sub'));
    // Pinned: a change here would let every queued and retried user be created twice.
    expect(idempotencyKey('eu-west-1_Qx7Lm2Rt9', '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13')).toBe(
      'bb3f5b44-0090-5699-99ad-7573b728dcbe',
    );
  });

  it('differs between pools and between subs', () => {
    const keys = new Set([
      idempotencyKey('pool-a', 'sub-1'),
      idempotencyKey('pool-b', 'sub-1'),
      idempotencyKey('pool-a', 'sub-2'),
    ]);
    expect(keys.size).toBe(3);
  });
});
