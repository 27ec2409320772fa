// What the input/output lines (DEBUG) may show of an event: only what a shape allows, everything
// else replaced by a mask, whatever the event looks like. Masking by default means a new trigger's
// `response`, an array or an unknown key is never logged as it came.

import { isRecord } from '../guards.js';

export const MASK = '*****';

/**
 * What may be logged: `true` keeps a scalar (string, number, boolean, null) as it is; an object
 * keeps the keys it names, each with its own shape; `[shape]` keeps an array whose every element
 * has that shape. Anything the shape does not name, or of another kind than it says, is masked.
 */
export type Shape = true | { readonly [key: string]: Shape } | readonly [Shape];

const isScalar = (value: unknown): boolean =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

/** A copy of `value` with everything `shape` does not allow masked; `value` is not touched. */
export const maskExcept = (value: unknown, shape: Shape): unknown => {
  if (shape === true) return isScalar(value) ? value : MASK;
  if (Array.isArray(shape)) {
    const element = shape[0] as Shape;
    return Array.isArray(value) ? value.map((item) => maskExcept(item, element)) : MASK;
  }
  if (!isRecord(value)) return MASK;
  const fields = shape as { readonly [key: string]: Shape };
  // fromEntries defines own properties: a `__proto__` key from JSON stays a key, masked.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      const allowed = Object.hasOwn(fields, key) ? fields[key] : undefined;
      return [key, allowed === undefined ? MASK : maskExcept(item, allowed)];
    }),
  );
};

/**
 * A Cognito trigger event: its routing fields as they are; `userName` (often an email), the
 * user's attributes, the client metadata, and anything else masked.
 * Shape: the post-confirmation event of the Cognito developer guide ("Post confirmation Lambda
 * trigger", event parameters): version, region, userPoolId, userName, callerContext, triggerSource,
 * request.userAttributes, request.clientMetadata, response.
 */
export const maskCognitoEvent = (event: unknown): unknown =>
  maskExcept(event, {
    version: true,
    region: true,
    userPoolId: true,
    triggerSource: true,
    callerContext: { awsSdkVersion: true, clientId: true },
    request: {},
    response: {},
  });

/**
 * An SQS event: the delivery's ids and counts as they are; each message's body and attributes
 * (a user's data) masked. Shape: the SQS event of the Lambda developer guide ("Using Lambda with
 * Amazon SQS", example standard queue message event).
 */
export const maskSqsEvent = (event: unknown): unknown =>
  maskExcept(event, {
    Records: [
      {
        messageId: true,
        attributes: {
          ApproximateReceiveCount: true,
          SentTimestamp: true,
          SenderId: true,
          ApproximateFirstReceiveTimestamp: true,
        },
        md5OfBody: true,
        eventSource: true,
        eventSourceARN: true,
        awsRegion: true,
      },
    ],
  });
