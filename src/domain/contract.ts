// The User Service contract's bodies (openapi.yaml): what POST and PATCH send. The client sends
// them; src/core maps Cognito users onto them.

/** Exactly the keys of the User Service contract, in its order. */
export interface UserRecord {
  cognitoSub: string;
  email: string | null;
  fullName: string | null;
  status: string;
  role: string;
  createdBy: string;
  updatedBy: string;
  /** Cognito's UserLastModifiedDate, when the path knows it (not the sign-up trigger): see UserPatch. */
  cognitoLastModified?: string;
}

/**
 * `PATCH {USER_SERVICE_URL}/{cognitoSub}`: the fields Cognito owns, as a JSON merge patch (never
 * `role`, nor anything else the service owns). `cognitoLastModified` is what makes a stale write
 * lose: the service refuses (412) a patch older than the state it holds.
 */
export interface UserPatch {
  email: string | null;
  fullName: string | null;
  status: string;
  updatedBy: string;
  cognitoLastModified: string;
}

export const USER_RECORD_KEYS = [
  'cognitoSub',
  'email',
  'fullName',
  'status',
  'role',
  'createdBy',
  'updatedBy',
] as const satisfies readonly (keyof UserRecord)[];
