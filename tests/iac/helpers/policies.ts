// IAM policy documents in one shape, whichever flavour wrote them: Action and Resource always
// lists, statements in a stable order, so two flavours' policies compare with toEqual.

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  /** Anything else the statement carries (NotAction, Condition, …); none is expected. */
  other: string[];
}

const list = (value: unknown): string[] => {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String).sort();
};

export const normalizePolicy = (document: unknown): Statement[] => {
  const parsed = typeof document === 'string' ? (JSON.parse(document) as unknown) : document;
  const statements = (parsed as { Statement?: unknown }).Statement;
  return (Array.isArray(statements) ? statements : [statements])
    .map((raw): Statement => {
      const { Sid, Effect, Action, Resource, ...rest } = raw as Record<string, unknown>;
      return {
        ...(Sid !== undefined && Sid !== '' && { Sid: String(Sid) }),
        Effect: String(Effect),
        Action: list(Action),
        Resource: list(Resource),
        other: Object.keys(rest).sort(),
      };
    })
    .sort((a, b) => (a.Sid ?? '').localeCompare(b.Sid ?? ''));
};

/** The log and X-Ray permissions are the only ones that may name "*" (X-Ray takes no other resource). */
export const wildcardViolations = (statements: readonly Statement[]): string[] => {
  const problems: string[] = [];
  for (const statement of statements) {
    const label = statement.Sid ?? JSON.stringify(statement.Action);
    if (statement.Effect !== 'Allow') problems.push(`${label}: Effect ${statement.Effect}`);
    if (statement.other.length > 0) problems.push(`${label}: unexpected ${statement.other.join(', ')}`);
    for (const action of statement.Action) {
      if (action.includes('*')) problems.push(`${label}: wildcard action ${action}`);
    }
    const xrayOnly = statement.Action.every((action) => action.startsWith('xray:'));
    const logsOnly = statement.Action.every((action) => action.startsWith('logs:'));
    for (const resource of statement.Resource) {
      if (resource === '*' && !xrayOnly)
        problems.push(`${label}: resource "*" for ${statement.Action.join(', ')}`);
      // A log group's ARN ends in ":*" to cover its streams; any other "*" inside an ARN widens it.
      const inner = logsOnly ? resource.replace(/:\*$/, '') : resource;
      if (resource !== '*' && inner.includes('*'))
        problems.push(`${label}: wildcard in resource ${resource}`);
    }
  }
  return problems;
};
