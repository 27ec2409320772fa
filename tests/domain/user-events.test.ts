// The changes queue's messages, read: CloudTrail's Cognito events (the samples in events/) and
// reconcile's repair messages, of every version in flight.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseChangeRecord, repairMessage } from '../../src/domain/user-events.js';

const POOL = 'eu-west-1_Qx7Lm2Rt9';
const SUB = '3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13';
const sample = (name: string) => readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8');

describe('parseChangeRecord', () => {
  it.each([
    ['cloudtrail-admin-create-user', 'changed', POOL],
    ['cloudtrail-admin-update-user-attributes', 'changed', POOL],
    ['cloudtrail-update-user-attributes', 'changed', undefined],
    ['cloudtrail-verify-user-attribute', 'changed', undefined],
    ['cloudtrail-admin-delete-user-attributes', 'changed', POOL],
    ['cloudtrail-delete-user-attributes', 'changed', undefined],
    ['cloudtrail-admin-disable-user', 'changed', POOL],
    ['cloudtrail-admin-enable-user', 'changed', POOL],
    ['cloudtrail-admin-delete-user', 'deleted', POOL],
    ['cloudtrail-delete-user', 'deleted', undefined],
  ])('reads %s: the sub, the kind, and the pool when the event names one', (name, kind, userPoolId) => {
    expect(parseChangeRecord(sample(name))).toEqual({
      change: { sub: SUB, userPoolId, kind, source: expect.any(String) },
    });
  });

  it('ignores a failed call', () => {
    expect(parseChangeRecord(sample('cloudtrail-admin-update-user-attributes-failed'))).toMatchObject({
      ignore: 'failed-call',
    });
  });

  it('reads an event of another pool as naming that pool (the apply step skips it)', () => {
    expect(parseChangeRecord(sample('cloudtrail-admin-disable-user-other-pool'))).toMatchObject({
      change: { userPoolId: 'eu-west-1_Other0000' },
    });
  });

  it('ignores a Cognito call that changes no user', () => {
    const event = JSON.parse(sample('cloudtrail-admin-disable-user'));
    event.detail.eventName = 'DescribeUserPool';

    expect(parseChangeRecord(JSON.stringify(event))).toEqual({
      ignore: 'not-a-user-change',
      source: 'DescribeUserPool',
    });
  });

  it('reads a repair message from reconcile', () => {
    const repair = {
      type: 'cognito-user-sync.repair',
      version: 1,
      userPoolId: POOL,
      sub: SUB,
      action: 'delete',
    };

    expect(parseChangeRecord(JSON.stringify(repair))).toEqual({
      change: { sub: SUB, userPoolId: POOL, kind: 'deleted', source: 'reconcile' },
    });
  });

  it('reads a repair of version 2: remove a user the policy leaves out', () => {
    const repair = {
      type: 'cognito-user-sync.repair',
      version: 2,
      userPoolId: POOL,
      sub: SUB,
      action: 'remove',
    };

    expect(parseChangeRecord(JSON.stringify(repair))).toEqual({
      change: { sub: SUB, userPoolId: POOL, kind: 'removed', source: 'reconcile' },
    });
  });

  it('still reads the repairs of version 1 (sync, delete), and sends them as version 1', () => {
    for (const action of ['sync', 'delete'] as const) {
      const message = repairMessage(POOL, SUB, action);
      expect(message).toEqual({
        type: 'cognito-user-sync.repair',
        version: 1,
        userPoolId: POOL,
        sub: SUB,
        action,
      });
      expect(parseChangeRecord(JSON.stringify(message))).toHaveProperty('change');
    }
    expect(repairMessage(POOL, SUB, 'remove')).toMatchObject({ version: 2, action: 'remove' });
  });

  it('calls a version 1 repair that asks to remove malformed: version 1 has no such action', () => {
    const repair = {
      type: 'cognito-user-sync.repair',
      version: 1,
      userPoolId: POOL,
      sub: SUB,
      action: 'remove',
    };

    expect(parseChangeRecord(JSON.stringify(repair))).toHaveProperty('malformed');
  });

  it.each([
    'eusc-de-east-1_AbC123',
    'us-gov-west-1_AbC123',
    'cn-north-1_AbC123',
    'us-iso-east-1_AbC123',
    'us-isob-east-1_AbC123',
  ])('reads a repair message naming the pool %s, of any partition', (userPoolId) => {
    const repair = { type: 'cognito-user-sync.repair', version: 1, userPoolId, sub: SUB, action: 'sync' };

    expect(parseChangeRecord(JSON.stringify(repair))).toEqual({
      change: { sub: SUB, userPoolId, kind: 'changed', source: 'reconcile' },
    });
  });

  it.each([
    ['a region no SDK resolves', 'EU_WEST_1_Qx7Lm2Rt9'],
    ['more than the 55 characters of a pool id', `eu-west-1_${'a'.repeat(46)}`],
  ])('calls a repair naming %s malformed, as USER_POOL_ID would be refused', (_, userPoolId) => {
    const repair = { type: 'cognito-user-sync.repair', version: 1, userPoolId, sub: SUB, action: 'sync' };

    expect(parseChangeRecord(JSON.stringify(repair))).toEqual({ malformed: 'no valid userPoolId' });
  });

  it.each([
    ['not JSON', 'nope'],
    ['not an object', '[1]'],
    ['another event', JSON.stringify({ 'detail-type': 'Scheduled Event', source: 'aws.events' })],
    [
      'a repair with extra keys',
      JSON.stringify({
        type: 'cognito-user-sync.repair',
        version: 1,
        userPoolId: POOL,
        sub: SUB,
        action: 'sync',
        role: 'ADMIN',
      }),
    ],
    [
      'a repair with another action',
      JSON.stringify({
        type: 'cognito-user-sync.repair',
        version: 1,
        userPoolId: POOL,
        sub: SUB,
        action: 'promote',
      }),
    ],
  ])('calls %s malformed', (_, body) => {
    expect(parseChangeRecord(body)).toHaveProperty('malformed');
  });
});
