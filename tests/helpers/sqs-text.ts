// What SQS accepts as text. From the SendMessage API reference (MessageBody): "A message can
// include only XML, JSON, and unformatted text. The following Unicode characters are allowed:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. If a message
// contains characters outside this range, it is rejected." String message attribute values follow
// the same rule (MessageAttributeValue.StringValue). moto does not check it, so the tests do.

import type { SendMessageCommandInput } from '@aws-sdk/client-sqs';

const ALLOWED = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

export const isSqsText = (text: string): boolean => ALLOWED.test(text);

/** Every text of a SendMessage that SQS would check: the body and each string attribute. */
export const sqsTexts = (input: SendMessageCommandInput): string[] => [
  input.MessageBody ?? '',
  ...Object.values(input.MessageAttributes ?? {}).flatMap((attribute) =>
    attribute.StringValue === undefined ? [] : [attribute.StringValue],
  ),
];
