// IAM policy documents in one shape, whichever flavour wrote them: Action, Resource, principals and
// condition values always lists, statements in a stable order, so two flavours' policies compare
// with toEqual.

export type Principal = '*' | Record<string, string[]>;
export type Conditions = Record<string, Record<string, string[]>>;

export interface Statement {
  Sid?: string;
  Effect: string;
  /** Resource policies only (queue and bucket policies). */
  Principal?: Principal;
  Action: string[];
  Resource: string[];
  Condition?: Conditions;
  /** Anything else the statement carries (NotAction, NotResource, …); none is expected. */
  other: string[];
}

const list = (value: unknown): string[] => {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String).sort();
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const normalizePrincipal = (principal: unknown): Principal => {
  if (principal === '*') return '*';
  if (!isRecord(principal)) throw new Error(`unexpected principal ${JSON.stringify(principal)}`);
  // {"AWS": "*"} means anyone, as "*" does.
  if (Object.keys(principal).length === 1 && principal.AWS === '*') return '*';
  return Object.fromEntries(Object.entries(principal).map(([kind, ids]) => [kind, list(ids)]));
};

const normalizeConditions = (condition: unknown): Conditions => {
  if (!isRecord(condition)) throw new Error(`unexpected condition ${JSON.stringify(condition)}`);
  return Object.fromEntries(
    Object.entries(condition).map(([operator, keys]) => {
      if (!isRecord(keys)) throw new Error(`unexpected condition ${operator}: ${JSON.stringify(keys)}`);
      return [operator, Object.fromEntries(Object.entries(keys).map(([key, values]) => [key, list(values)]))];
    }),
  );
};

export const normalizePolicy = (document: unknown): Statement[] => {
  const parsed = typeof document === 'string' ? (JSON.parse(document) as unknown) : document;
  const statements = (parsed as { Statement?: unknown }).Statement;
  return (Array.isArray(statements) ? statements : [statements])
    .map((raw): Statement => {
      const { Sid, Effect, Principal, Action, Resource, Condition, ...rest } = raw as Record<string, unknown>;
      return {
        ...(Sid !== undefined && Sid !== '' && { Sid: String(Sid) }),
        Effect: String(Effect),
        ...(Principal !== undefined && { Principal: normalizePrincipal(Principal) }),
        Action: list(Action),
        Resource: list(Resource),
        ...(Condition !== undefined && { Condition: normalizeConditions(Condition) }),
        other: Object.keys(rest).sort(),
      };
    })
    .sort((a, b) => (a.Sid ?? '').localeCompare(b.Sid ?? ''));
};

/** Actions that take no resource but "*": X-Ray's, and the EC2 ones Lambda needs in a VPC. */
const starOnly = (action: string) => action.startsWith('xray:') || action.startsWith('ec2:');

/**
 * The findings of a least-privilege review of a role's policy: no Deny, no principal, no wildcard
 * action, "*" only for the actions that take no other resource, and no other wildcard in an ARN (a
 * log group's ":*" covers its streams).
 */
export const wildcardViolations = (statements: readonly Statement[]): string[] => {
  const problems: string[] = [];
  for (const statement of statements) {
    const label = statement.Sid ?? JSON.stringify(statement.Action);
    if (statement.Effect !== 'Allow') problems.push(`${label}: Effect ${statement.Effect}`);
    if (statement.Principal !== undefined) problems.push(`${label}: a principal in a role's policy`);
    if (statement.other.length > 0) problems.push(`${label}: unexpected ${statement.other.join(', ')}`);
    for (const action of statement.Action) {
      if (action.includes('*')) problems.push(`${label}: wildcard action ${action}`);
    }
    const logsOnly = statement.Action.every((action) => action.startsWith('logs:'));
    for (const resource of statement.Resource) {
      if (resource === '*' && !statement.Action.every(starOnly))
        problems.push(`${label}: resource "*" for ${statement.Action.join(', ')}`);
      const inner = logsOnly ? resource.replace(/:\*$/, '') : resource;
      if (resource !== '*' && inner.includes('*'))
        problems.push(`${label}: wildcard in resource ${resource}`);
    }
  }
  return problems;
};
