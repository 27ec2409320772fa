// A user of the pool, as our code sees one: what ListUsers and AdminGetUser give, read once
// (src/clients/cognito-users.ts) into the shape the policy, the sync and reconcile work on.

/** A Cognito user as ListUsers and AdminGetUser give one: ids, status, flags and attributes. */
export interface PoolUser {
  username: string;
  sub: string;
  /** Cognito's UserStatus; undefined when Cognito gave none. */
  status: string | undefined;
  enabled: boolean;
  attributes: Readonly<Record<string, string>>;
  /** Cognito's UserLastModifiedDate, ISO 8601; undefined when Cognito gave none. */
  lastModified: string | undefined;
}
