// Whether a CloudTrail trail delivers Cognito's user-change calls to EventBridge: EventBridge gets
// "AWS API Call via CloudTrail" events only from a trail with logging on that records them
// (EventBridge User Guide, "AWS service events delivered via AWS CloudTrail":
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html). Every
// call the rule takes is a write management event of cognito-idp.amazonaws.com, so a trail is
// suitable when it logs and one of its selectors takes those:
// - a basic selector (CloudTrail API Reference, EventSelector) with IncludeManagementEvents (true
//   unless set false), ReadWriteType All or WriteOnly (All unless set), and cognito-idp not in
//   ExcludeManagementEventSources;
// - an advanced selector (AdvancedEventSelector, AdvancedFieldSelector:
//   https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html)
//   whose field selectors, ANDed, all let the calls through: eventCategory Equals Management,
//   readOnly not only "true", eventSource and eventName (where given) matching. A field doctor
//   cannot evaluate for a call (userIdentity.arn, say) is taken as one that may leave calls out.
// Plain functions.

import type { AdvancedField, TrailSelectors } from '../clients/deployment-reads.js';
import { USER_EVENTS } from '../domain/user-events.js';

const COGNITO = 'cognito-idp.amazonaws.com';
const EVENT_NAMES = [...USER_EVENTS.changed, ...USER_EVENTS.deleted];

/** Whether a field selector lets a value through: each operator given must agree (values within one ORed). */
const letsThrough = (field: AdvancedField, value: string): boolean =>
  (field.Equals === undefined || field.Equals.includes(value)) &&
  (field.StartsWith === undefined || field.StartsWith.some((prefix) => value.startsWith(prefix))) &&
  (field.EndsWith === undefined || field.EndsWith.some((suffix) => value.endsWith(suffix))) &&
  !(field.NotEquals ?? []).includes(value) &&
  !(field.NotStartsWith ?? []).some((prefix) => value.startsWith(prefix)) &&
  !(field.NotEndsWith ?? []).some((suffix) => value.endsWith(suffix));

/** Why an advanced selector leaves some of the calls out, or undefined when it takes them all. */
const advancedMisses = (fields: readonly AdvancedField[]): string | undefined => {
  const category = fields.find((field) => field.Field === 'eventCategory');
  if (!category || !letsThrough(category, 'Management')) return 'it selects no management events';
  for (const field of fields) {
    switch (field.Field) {
      case 'eventCategory':
        break;
      case 'readOnly':
        if (!letsThrough(field, 'false')) return 'it selects read-only events only';
        break;
      case 'eventSource':
        if (!letsThrough(field, COGNITO)) return `it leaves ${COGNITO} out`;
        break;
      case 'eventName': {
        const missed = EVENT_NAMES.filter((name) => !letsThrough(field, name));
        if (missed.length > 0) return `it leaves out ${missed.join(', ')}`;
        break;
      }
      default:
        return `it filters on ${field.Field}, which may leave Cognito's calls out`;
    }
  }
  return undefined;
};

/** Whether the selectors take Cognito's write management events; why not, if they do not. */
export const selectorsTakeCognitoWrites = (
  selectors: TrailSelectors,
): { ok: true } | { ok: false; why: string } => {
  if (selectors.advanced.length > 0) {
    const misses = selectors.advanced.map((selector) => advancedMisses(selector.FieldSelectors ?? []));
    if (misses.some((miss) => miss === undefined)) return { ok: true };
    return { ok: false, why: `no advanced selector takes them (${[...new Set(misses)].join('; ')})` };
  }
  if (selectors.basic.length === 0) {
    // A trail without selectors logs all management events (CloudTrail API Reference, PutEventSelectors).
    return { ok: true };
  }
  const takes = selectors.basic.some(
    (selector) =>
      selector.IncludeManagementEvents !== false &&
      (selector.ReadWriteType ?? 'All') !== 'ReadOnly' &&
      !(selector.ExcludeManagementEventSources ?? []).includes(COGNITO),
  );
  return takes
    ? { ok: true }
    : {
        ok: false,
        why: 'no event selector includes write management events of cognito-idp (IncludeManagementEvents true, ReadWriteType All or WriteOnly)',
      };
};
