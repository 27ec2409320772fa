// The User Service contract, once: every body cognito-user-sync and a User Service exchange, as
// valibot schemas. From them come the types, the client's reading of the service's answers
// (src/clients/user-service/answers.ts), the dev service's checks (src/dev/user-service.ts) and the
// retry message's body (./retry-message.ts). openapi.yaml says the same for people, and
// tests/contract/schemas.test.ts holds it to these schemas.
//
// Each field has two sides: its JSON type, which a reader holds it to (the client reading an
// answer, the retry worker reading a queued message: a value the service would refuse is still
// read), and its rule, which the service holds a writer to (the dev service's 422, whose reason is
// the rule's message; openapi.yaml's pattern and format).

import * as v from 'valibot';

/** The instant of an RFC 3339 date-time (a full date, a full time and a zone) in epoch ms, or undefined. */
export const instantOf = (value: unknown): number | undefined => {
  if (typeof value !== 'string') return undefined;
  const match = DATE_TIME.exec(value);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number];
  // Date.parse rolls 30 February over into March: check the calendar date itself.
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  const instant = Date.parse(value);
  return Number.isNaN(instant) ? undefined : instant;
};

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** openapi.yaml's `format: date-time`. */
export const isDateTime = (value: string): boolean => instantOf(value) !== undefined;

const EMAIL = /^[^@\s]+@[^@\s]+$/;
/** What configuration accepts for DEFAULT_USER_STATUS, DEFAULT_USER_ROLE and DISABLED_USER_STATUS. */
const TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;

const nonEmpty = (message?: string) => v.pipe(v.string(message), v.minLength(1, message));
/** A string with more than white space in it. */
const nonBlank = (message?: string) =>
  v.pipe(v.string(message), v.minLength(1, message), v.regex(/\S/, message));
const token = (name: string) =>
  v.pipe(
    v.string(`${name} must be a non-empty string`),
    v.regex(TOKEN, `${name} must be 1 to 64 letters, digits or _.:-`),
  );
const dateTime = (name: string) => {
  const message = `${name} must be an RFC 3339 date-time`;
  return v.pipe(v.string(message), v.check(isDateTime, message));
};

interface Field<T extends v.GenericSchema, R extends v.GenericSchema> {
  /** The JSON type a reader holds the field to. */
  type: T;
  /** The rule a writer is held to by the service; the message is the dev service's 422 reason. */
  rule: R;
  /** The version of the retry message whose body first carried the field (./retry-message.ts). */
  since: number;
}

const field = <T extends v.GenericSchema, R extends v.GenericSchema<unknown, v.InferOutput<T>>>(
  type: T,
  rule: R,
  since = 1,
): Field<T, R> => ({ type, rule, since });

export type Fields = Readonly<Record<string, Field<v.GenericSchema, v.GenericSchema>>>;

/** The entries of an object schema: each field's JSON type, or each field's rule. */
export const entriesOf = <F extends Fields, K extends 'type' | 'rule'>(fields: F, side: K) => {
  const entries: Record<string, v.GenericSchema> = {};
  for (const [name, described] of Object.entries(fields)) entries[name] = described[side];
  return entries as { [N in keyof F]: F[N][K] };
};

/**
 * What Cognito owns of a user, mapped from the user's attributes (./user-record.ts): sent at
 * creation, patched on every change, listed by the service, compared by reconcile. A new field goes
 * here, with the retry message version that first carries it (`since`, the next version): queued
 * messages of earlier versions are read with it null, so it must be nullable.
 */
export const COGNITO_OWNED = {
  email: field(
    v.nullable(v.string()),
    v.nullable(
      v.pipe(
        v.string('email must be null or an email address'),
        v.regex(EMAIL, 'email must be null or an email address'),
      ),
    ),
  ),
  fullName: field(v.nullable(v.string()), v.nullable(v.string('fullName must be a string or null'))),
  status: field(v.string(), token('status')),
} satisfies Fields;

export type CognitoOwnedKey = keyof typeof COGNITO_OWNED;
export const COGNITO_OWNED_KEYS = Object.keys(COGNITO_OWNED) as CognitoOwnedKey[];

const cognitoSub = field(nonBlank(), nonBlank('cognitoSub must be a non-empty string'));
const lastModified = field(v.string(), dateTime('cognitoLastModified'));
const BOUND_TO_SUB = 'createdBy and updatedBy must equal cognitoSub';

/** The fields of a new user, in the order they are sent: what the sign-up path sends, and queues. */
export const USER_RECORD_FIELDS = {
  cognitoSub,
  ...COGNITO_OWNED,
  role: field(v.string(), token('role')),
  createdBy: field(v.string(), nonEmpty(BOUND_TO_SUB)),
  updatedBy: field(v.string(), nonEmpty(BOUND_TO_SUB)),
} satisfies Fields;

/**
 * `POST {USER_SERVICE_URL}`: a new user, exactly these keys, made for the user it names (createdBy
 * and updatedBy are its sub), and `cognitoLastModified` when the caller read the user from Cognito
 * (the lifecycle path and reconcile do; the sign-up trigger does not).
 */
export const UserRecordSchema = v.pipe(
  v.strictObject({
    ...entriesOf(USER_RECORD_FIELDS, 'rule'),
    cognitoLastModified: v.optional(lastModified.rule),
  }),
  v.check((user) => user.createdBy === user.cognitoSub && user.updatedBy === user.cognitoSub, BOUND_TO_SUB),
);
export type UserRecord = v.InferOutput<typeof UserRecordSchema>;

/** The keys every new user has, in their order (cognitoLastModified, when known, comes last). */
export const USER_RECORD_KEYS = Object.keys(USER_RECORD_FIELDS) as (keyof typeof USER_RECORD_FIELDS)[];

/**
 * `PATCH {USER_SERVICE_URL}/{cognitoSub}`, as cognito-user-sync sends it: every field Cognito owns,
 * as Cognito holds it now, who changed it, and the time that makes a stale write lose (the service
 * refuses, 412, a patch older than the state it holds). Never `role`, nor anything the service owns.
 */
export const UserPatchSchema = v.strictObject({
  ...entriesOf(COGNITO_OWNED, 'rule'),
  updatedBy: nonEmpty('updatedBy must be a non-empty string'),
  cognitoLastModified: lastModified.rule,
});
export type UserPatch = v.InferOutput<typeof UserPatchSchema>;

/** What the service accepts on PATCH: a JSON merge patch of any of UserPatch's fields. */
export const MergePatchSchema = v.partial(UserPatchSchema);

const LISTED_FIELDS = {
  cognitoSub,
  ...COGNITO_OWNED,
  cognitoLastModified: field(v.nullable(v.string()), v.nullable(lastModified.rule)),
} satisfies Fields;

/** `GET {USER_SERVICE_URL}`'s user: what Cognito owns, and the last cognitoLastModified (null: none yet). */
export const ListedUserSchema = v.strictObject(entriesOf(LISTED_FIELDS, 'rule'));
export type ListedUser = v.InferOutput<typeof ListedUserSchema>;

export const MAX_PAGE_SIZE = 1000;

/** `GET {USER_SERVICE_URL}?limit&cursor&prefix`: a page of users in cognitoSub order; the cursor of the next. */
export const UserPageSchema = v.strictObject({
  users: v.pipe(v.array(ListedUserSchema), v.maxLength(MAX_PAGE_SIZE)),
  nextCursor: v.nullable(nonEmpty()),
});
export type UserPage = v.InferOutput<typeof UserPageSchema>;

/** A nullable entry left out reads as null. */
type AbsentAsNull<E extends Record<string, v.GenericSchema>> = {
  [K in keyof E]: E[K] extends v.NullableSchema<v.GenericSchema, undefined>
    ? v.OptionalSchema<E[K], null>
    : E[K];
};

/**
 * A reader's view of a listed user, for the client and the dev service alike: each listed field of
 * its JSON type, a nullable one left out read as null (a service may leave nulls out), and any
 * other key dropped.
 */
export const ListedUserView = v.object(
  ((entries) => {
    const view: Record<string, v.GenericSchema> = {};
    for (const [name, schema] of Object.entries(entries)) {
      view[name] = schema.type === 'nullable' ? v.optional(schema, null) : schema;
    }
    return view as AbsentAsNull<typeof entries>;
  })(entriesOf(LISTED_FIELDS, 'type')),
);

/** The reader's view of a page: its users as ListedUserView; no nextCursor is the last page. */
export const UserPageView = v.object({
  users: v.array(ListedUserView),
  nextCursor: v.optional(v.nullable(v.string()), null),
});

// The answers: a created or updated user, and the error bodies the contract gives a meaning to.
// A service may add keys to any of them.

/** A created or updated user, in any shape the service likes; its cognitoSub, if given, names the user. */
export const UserAnswerSchema = v.looseObject({ cognitoSub: v.optional(cognitoSub.rule) });

/** `POST`'s 409 for a cognitoSub the service holds: as good as created. */
export const AlreadyExistsSchema = v.looseObject({
  error: v.literal('already_exists'),
  cognitoSub: cognitoSub.rule,
  reason: v.optional(v.string()),
});
export type AlreadyExists = v.InferOutput<typeof AlreadyExistsSchema>;

/** A 409 for a value another user holds (the email): a refusal, not "exists". */
export const FieldConflictSchema = v.looseObject({
  error: v.literal('conflict'),
  field: v.string(),
  reason: v.string(),
});
export type FieldConflict = v.InferOutput<typeof FieldConflictSchema>;

/** A 404 from the service itself: no user with this cognitoSub. */
export const NotFoundSchema = v.looseObject({
  error: v.literal('not_found'),
  reason: v.optional(v.string()),
});
export type NotFound = v.InferOutput<typeof NotFoundSchema>;

/** `PATCH`'s 412: the service holds a newer state, whose cognitoLastModified it gives. */
export const StaleWriteSchema = v.looseObject({
  error: v.literal('stale_write'),
  cognitoLastModified: lastModified.rule,
  reason: v.optional(v.string()),
});
export type StaleWrite = v.InferOutput<typeof StaleWriteSchema>;

/** Any other answer than success: `error` a code, `reason` a sentence for people. */
export const ErrorSchema = v.looseObject({ error: v.string(), reason: v.string() });
export type ErrorBody = v.InferOutput<typeof ErrorSchema>;
