// The retry queue's message: what the sign-up path writes (src/core/sync-user.ts) and the worker
// reads back here, strictly, in whichever version it was written: a message waits on the queue (and
// in the dead-letter queue, to be replayed) across deployments.

import * as v from 'valibot';
import { MalformedMessageError } from '../errors.js';
import { isRecord } from '../guards.js';
import { TRIGGER_SOURCES } from './cognito-event.js';
import { entriesOf, USER_RECORD_FIELDS, USER_RECORD_KEYS, type UserRecord } from './contract.js';
import { idempotencyKey } from './idempotency.js';
import { isUserPoolId } from './user-pool-id.js';

/**
 * The version the sign-up path writes: the latest of its body's fields' (`since`, in ./contract.ts).
 * It moves only when the body's shape does, and the worker reads every version up to it.
 */
export const RETRY_MESSAGE_VERSION = Math.max(
  ...Object.values(USER_RECORD_FIELDS).map((field) => field.since),
);

/** The retry queue's message: a user the User Service has not got yet, with the exact request body. */
export interface RetryMessage {
  /** The shape of the body as written; read back, the body has the current shape. */
  version: number;
  /** The same key the first attempt carried, so a redelivery can never create the user twice. */
  idempotencyKey: string;
  userPoolId: string;
  triggerSource: string;
  /** A new user as the sign-up path sends it: never with cognitoLastModified. */
  body: UserRecord;
  /** A short code: `http-503`, `timeout`, `network-ECONNREFUSED`, `config-USER_SERVICE_URL`… */
  reason: string;
  /** What the User Service answered, cut to a few KiB. Holds PII at worst: never logged. */
  detail?: string;
  attempts: number;
  firstFailedAt: string;
}

/** Exactly the keys of the fields a message of `version` carried, each of its JSON type (the service's rules are the service's). */
const bodyOf = (version: number) => {
  const keys = USER_RECORD_KEYS.filter((key) => USER_RECORD_FIELDS[key].since <= version);
  return v.strictObject(
    Object.fromEntries(keys.map((key) => [key, USER_RECORD_FIELDS[key].type])),
    `body does not have exactly the keys ${keys.join(', ')}`,
  );
};

const ATTEMPTS = 'has no attempts count';
const FIRST_FAILED_AT = 'has no firstFailedAt time';

const messageOf = (version: number) =>
  v.strictObject(
    {
      version: v.literal(version),
      idempotencyKey: v.string('has no idempotencyKey'),
      userPoolId: v.custom<string>(isUserPoolId, 'has no valid userPoolId'),
      triggerSource: v.literal(TRIGGER_SOURCES.confirmSignUp, 'is not from a sign-up'),
      body: bodyOf(version),
      reason: v.string('has no reason'),
      detail: v.optional(v.string('has a detail that is not text')),
      attempts: v.pipe(v.number(ATTEMPTS), v.safeInteger(ATTEMPTS), v.minValue(0, ATTEMPTS)),
      firstFailedAt: v.pipe(
        v.string(FIRST_FAILED_AT),
        v.check((text) => !Number.isNaN(Date.parse(text)), FIRST_FAILED_AT),
      ),
    },
    (issue) =>
      issue.expected === 'never'
        ? 'has a key a retry message does not have'
        : `has no ${String(issue.path?.at(-1)?.key ?? 'object')}`,
  );

/**
 * The message of each version the worker reads (from 1), and the current body: made at the first
 * read, not in the functions that only write a message.
 */
let schemas: { messages: ReturnType<typeof messageOf>[]; body: ReturnType<typeof currentBody> } | undefined;
const currentBody = () => v.strictObject(entriesOf(USER_RECORD_FIELDS, 'type'));
const schemasOf = () =>
  (schemas ??= {
    messages: Array.from({ length: RETRY_MESSAGE_VERSION }, (_, index) => messageOf(index + 1)),
    body: currentBody(),
  });

/**
 * What is wrong: the message's own words for the envelope and the body's keys; for a body field,
 * where it is and what was expected there. Never what the message holds, which valibot's own
 * message for a field names.
 */
const problemOf = (issue: v.BaseIssue<unknown>): string =>
  issue.type === 'strict_object' || (issue.path?.length ?? 0) < 2
    ? issue.message
    : `${issue.path?.map((item) => String(item.key)).join('.')} is not ${issue.expected ?? 'valid'}`;

/**
 * Reads a queue message back, strictly: whoever can send to the queue must not be able to make the
 * worker create any user it likes with our key and signature. A version the worker reads, and
 * exactly the keys and types of a RetryMessage of that version; a body of exactly that version's
 * keys, made for the user it names (createdBy and updatedBy are its sub), with a status and role
 * the configuration could have given; an idempotency key that is the one derived from the pool and
 * the sub. The body comes back in the current shape: a field added since the message's version is
 * null. Throws a MalformedMessageError saying what is wrong, never what the message holds.
 */
export const parseRetryMessage = (text: string): RetryMessage => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedMessageError('the message is not JSON');
  }
  const malformed = (problem: string) => new MalformedMessageError(`the message ${problem}`);
  if (!isRecord(value)) throw malformed('is not a JSON object');
  const { version } = value;
  if (
    typeof version !== 'number' ||
    !Number.isSafeInteger(version) ||
    version < 1 ||
    version > RETRY_MESSAGE_VERSION
  ) {
    // A newer version than this worker's (after a rollback) waits in the dead-letter queue for a replay.
    throw malformed(`version is not ${RETRY_MESSAGE_VERSION === 1 ? '1' : `1 to ${RETRY_MESSAGE_VERSION}`}`);
  }

  const { messages, body: current } = schemasOf();
  const read = v.safeParse(messages[version - 1] as (typeof messages)[number], value, { abortEarly: true });
  if (!read.success) throw malformed(problemOf(read.issues[0]));

  const { body: written, ...message } = read.output;
  // Fields added since the message was written: null, which each of them allows.
  const upgraded = v.safeParse(
    current,
    Object.fromEntries(USER_RECORD_KEYS.map((key) => [key, key in written ? written[key] : null])),
    { abortEarly: true },
  );
  if (!upgraded.success) throw malformed(`body of version ${version} cannot take a newer field`);
  const body = upgraded.output;

  if (body.createdBy !== body.cognitoSub || body.updatedBy !== body.cognitoSub) {
    throw malformed('body is not made for the user it names');
  }
  // The status and role the sign-up path wrote from DEFAULT_USER_STATUS and DEFAULT_USER_ROLE as
  // they were then: any value a configuration accepts (a change of either during an outage must
  // not make its backlog malformed). The worker sends the ones configured now, never these
  // (src/core/retry-user.ts); one no configuration accepts was written by no sign-up.
  if (!v.is(USER_RECORD_FIELDS.status.rule, body.status) || !v.is(USER_RECORD_FIELDS.role.rule, body.role)) {
    throw malformed('body has a status or role no configuration gives');
  }
  if (message.idempotencyKey !== idempotencyKey(message.userPoolId, body.cognitoSub)) {
    throw malformed('idempotencyKey is not the one of its user');
  }
  return { ...message, body };
};
