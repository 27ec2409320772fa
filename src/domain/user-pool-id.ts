// A user pool's id, `<region>_<id>`, read one way wherever one is read: the configuration, the
// queues' messages, the region the Cognito client is made for.

/**
 * Cognito's pattern for a pool id is `[\w-]+_[0-9a-zA-Z]+`, at most 55 characters (Amazon Cognito
 * API Reference, CreateUserPool → UserPoolType `Id`; every action's `UserPoolId` parameter says the
 * same). Within it the region part must be one the SDK takes as its region: a hostname label
 * (@smithy/config-resolver refuses any other), and every AWS partition's regions have the shape
 * `<letters>(-<word>)*-<number>` (the SDK's partitions.json `regionRegex`: `^(us|eu|…)-\w+-\d+$`,
 * `^cn-…`, `^us-gov-…`, `^us-iso-…`, `^us-isob-…`, `^eu-isoe-…`, `^us-isof-…`, `^eusc-(de)-\w+-\d+$`).
 * So the region is lowercase words joined by hyphens, ending in a number; anything else is no id
 * Cognito made, and no region a client could be made for.
 */
const USER_POOL_ID = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*-[0-9]+)_([0-9a-zA-Z]+)$/;

/** The longest id Cognito makes (API Reference: "Maximum length of 55"). */
export const USER_POOL_ID_MAX_LENGTH = 55;

export interface UserPoolId {
  /** The region the pool lives in, as the SDK's `region`: `eu-west-1`, `eusc-de-east-1`. */
  region: string;
  /** The part after the underscore. */
  id: string;
}

/** A user pool id's region and id, or undefined when the value is not a user pool id. */
export const parseUserPoolId = (value: string): UserPoolId | undefined => {
  if (value.length > USER_POOL_ID_MAX_LENGTH) return undefined;
  const match = USER_POOL_ID.exec(value);
  const [, region, id] = match ?? [];
  return region === undefined || id === undefined ? undefined : { region, id };
};

/** Whether a value read from JSON or the environment is a user pool id. */
export const isUserPoolId = (value: unknown): value is string =>
  typeof value === 'string' && parseUserPoolId(value) !== undefined;
