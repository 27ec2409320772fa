// Whether a trail's selectors take Cognito's write management events, for basic and advanced
// selectors as the CloudTrail API Reference documents them (EventSelector, AdvancedFieldSelector).

import { describe, expect, it } from 'vitest';
import { selectorsTakeCognitoWrites } from '../../src/core/trail-selectors.js';

const basic = (selectors: Record<string, unknown>[]) => ({ basic: selectors, advanced: [] });
const advanced = (...fieldSets: Record<string, unknown>[][]) => ({
  basic: [],
  advanced: fieldSets.map((FieldSelectors) => ({ FieldSelectors })),
});
const MANAGEMENT = { Field: 'eventCategory', Equals: ['Management'] };

describe('selectorsTakeCognitoWrites', () => {
  it.each([
    ['no selectors: a trail logs all management events', { basic: [], advanced: [] }],
    ['basic, All', basic([{ ReadWriteType: 'All', IncludeManagementEvents: true }])],
    ['basic, WriteOnly', basic([{ ReadWriteType: 'WriteOnly', IncludeManagementEvents: true }])],
    ['basic, defaults left out', basic([{}])],
    [
      'basic, KMS excluded',
      basic([{ ReadWriteType: 'All', ExcludeManagementEventSources: ['kms.amazonaws.com'] }]),
    ],
    ['advanced, management', advanced([MANAGEMENT])],
    ['advanced, writes', advanced([MANAGEMENT, { Field: 'readOnly', Equals: ['false'] }])],
    [
      'advanced, KMS left out',
      advanced([MANAGEMENT, { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] }]),
    ],
    [
      'advanced, one of two selectors takes them',
      advanced([{ Field: 'eventCategory', Equals: ['Data'] }], [MANAGEMENT]),
    ],
    [
      'advanced, Cognito by prefix',
      advanced([MANAGEMENT, { Field: 'eventSource', StartsWith: ['cognito-'] }]),
    ],
  ])('takes them: %s', (_, selectors) => {
    expect(selectorsTakeCognitoWrites(selectors as never)).toEqual({ ok: true });
  });

  it.each([
    [
      'basic, ReadOnly',
      basic([{ ReadWriteType: 'ReadOnly', IncludeManagementEvents: true }]),
      /no event selector/,
    ],
    [
      'basic, management off',
      basic([{ ReadWriteType: 'All', IncludeManagementEvents: false }]),
      /no event selector/,
    ],
    [
      'basic, cognito-idp excluded',
      basic([{ ReadWriteType: 'All', ExcludeManagementEventSources: ['cognito-idp.amazonaws.com'] }]),
      /no event selector/,
    ],
    [
      'advanced, data only',
      advanced([{ Field: 'eventCategory', Equals: ['Data'] }]),
      /selects no management events/,
    ],
    [
      'advanced, reads only',
      advanced([MANAGEMENT, { Field: 'readOnly', Equals: ['true'] }]),
      /read-only events only/,
    ],
    [
      'advanced, cognito-idp left out',
      advanced([MANAGEMENT, { Field: 'eventSource', NotEquals: ['cognito-idp.amazonaws.com'] }]),
      /leaves cognito-idp\.amazonaws\.com out/,
    ],
    [
      'advanced, some event names left out',
      advanced([MANAGEMENT, { Field: 'eventName', NotStartsWith: ['AdminDelete'] }]),
      /leaves out AdminDeleteUserAttributes, AdminDeleteUser/,
    ],
    [
      'advanced, a field doctor cannot judge',
      advanced([MANAGEMENT, { Field: 'userIdentity.arn', Equals: ['arn:aws:iam::123456789012:role/admin'] }]),
      /filters on userIdentity\.arn/,
    ],
  ])('leaves them out: %s', (_, selectors, why) => {
    const verdict = selectorsTakeCognitoWrites(selectors as never);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.why).toMatch(why);
  });
});
