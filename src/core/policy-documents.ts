// Reading resource policies (a queue's, a KMS key's, a function's) the way IAM evaluates the parts
// doctor relies on: principals, actions with wildcards, and the condition keys our templates use
// (aws:PrincipalArn, aws:SourceArn, aws:PrincipalServiceName). IAM's rules followed here: action
// and condition key names are case-insensitive, `*` and `?` are wildcards in actions and in the
// ARN operators' *Like forms, a list of values matches when any does, and a negated operator whose
// key is absent from a request is true (IAM User Guide, "IAM JSON policy elements: Action" and
// "Condition operators":
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
// Plain functions: no AWS call.

import type { PolicyStatement } from '../clients/deployment-reads.js';
import { isRecord } from '../guards.js';

/** A statement of a policy as read (src/clients/deployment-reads.ts): every element unknown until looked at. */
export type Statement = PolicyStatement;

export const listOf = (value: unknown): string[] =>
  value === undefined || value === null ? [] : (Array.isArray(value) ? value : [value]).map(String);

const wildcard = (pattern: string, flags = ''): RegExp =>
  new RegExp(
    `^${pattern
      .split('')
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    flags,
  );

/** Whether a statement's Action covers an action (`sqs:*`, `kms:GenerateDataKey*`, `*`). */
export const coversAction = (statement: Statement, action: string): boolean =>
  listOf(statement.Action).some((pattern) => wildcard(pattern, 'i').test(action));

/** Whether the statement applies to every principal (`"*"` or `{"AWS": "*"}`). */
export const isEveryone = (statement: Statement): boolean =>
  statement.Principal === '*' ||
  (isRecord(statement.Principal) && listOf(statement.Principal.AWS).includes('*'));

/** The service principals a statement names (`{"Service": …}`). */
export const servicePrincipals = (statement: Statement): string[] =>
  isRecord(statement.Principal) ? listOf(statement.Principal.Service) : [];

/** The AWS principals a statement names (`{"AWS": …}`): ARNs or account ids. */
export const awsPrincipals = (statement: Statement): string[] =>
  isRecord(statement.Principal) ? listOf(statement.Principal.AWS) : [];

/**
 * The values a statement's condition gives a key under any of the operators, case-insensitively
 * for the key (operators are matched as written, with their IfExists form).
 */
export const conditionValues = (
  statement: Statement,
  operators: readonly string[],
  key: string,
): string[] => {
  if (!isRecord(statement.Condition)) return [];
  const values: string[] = [];
  for (const [operator, keys] of Object.entries(statement.Condition)) {
    if (!operators.includes(operator.replace(/IfExists$/, '')) || !isRecord(keys)) continue;
    for (const [name, value] of Object.entries(keys)) {
      if (name.toLowerCase() === key.toLowerCase()) values.push(...listOf(value));
    }
  }
  return values;
};

/** Whether the statement has any condition on this key. */
export const hasConditionKey = (statement: Statement, key: string): boolean =>
  isRecord(statement.Condition) &&
  Object.values(statement.Condition).some(
    (keys) => isRecord(keys) && Object.keys(keys).some((name) => name.toLowerCase() === key.toLowerCase()),
  );

/** Whether an ARN matches one of the patterns of an ARN operator (ArnLike's wildcards; ArnEquals' too). */
export const arnMatchesAny = (arn: string, patterns: readonly string[]): boolean =>
  patterns.some((pattern) => wildcard(pattern).test(arn));

const ARN_OPERATORS = ['ArnEquals', 'ArnLike', 'StringEquals', 'StringLike'];
const NEGATED_ARN_OPERATORS = ['ArnNotEquals', 'ArnNotLike', 'StringNotEquals', 'StringNotLike'];

/** The ARNs a Deny's `ArnNotLike aws:PrincipalArn` exempts (who may still send). */
export const exemptPrincipalArns = (statement: Statement): string[] =>
  conditionValues(statement, NEGATED_ARN_OPERATORS, 'aws:PrincipalArn');

/** The source ARNs an Allow is scoped to (`ArnEquals aws:SourceArn`), [] when unscoped. */
export const sourceArnsOf = (statement: Statement): string[] =>
  conditionValues(statement, ARN_OPERATORS, 'aws:SourceArn');

/** Whether a Deny exempts the service principal (`StringNotEquals aws:PrincipalServiceName`). */
export const exemptsService = (statement: Statement, service: string): boolean =>
  conditionValues(statement, ['StringNotEquals', 'StringNotLike'], 'aws:PrincipalServiceName').some((value) =>
    wildcard(value, 'i').test(service),
  );

/** The statements that allow a service principal an action, in any form. */
export const allowsService = (
  statements: readonly Statement[],
  service: string,
  action: string,
): Statement[] =>
  statements.filter(
    (statement) =>
      statement.Effect === 'Allow' &&
      (servicePrincipals(statement).includes(service) || isEveryone(statement)) &&
      coversAction(statement, action),
  );

/** The account id of an ARN (`arn:partition:service:region:account:…`). */
export const accountOfArn = (arn: string): string | undefined => arn.split(':')[4] || undefined;

/**
 * Whether a KMS key policy lets IAM policies of the account grant the key: a statement allowing
 * the account's root principal (or the bare account id) the actions. Without it, a role's own
 * policy cannot give it the key (AWS KMS Developer Guide, "Default key policy: Allows access to
 * the AWS account and enables IAM policies":
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
 */
export const delegatesToIam = (
  statements: readonly Statement[],
  account: string,
  actions: readonly string[],
) =>
  actions.every((action) =>
    statements.some(
      (statement) =>
        statement.Effect === 'Allow' &&
        awsPrincipals(statement).some(
          (principal) =>
            principal === account || new RegExp(`^arn:aws[\\w-]*:iam::${account}:root$`).test(principal),
        ) &&
        coversAction(statement, action),
    ),
  );

/** A policy-like document's canonical form: keys sorted, lists of plain values sorted. */
export const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    return items.every((item) => typeof item !== 'object' || item === null)
      ? [...items].sort((a, b) => String(a).localeCompare(String(b)))
      : items;
  }
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical(value[key])]),
    );
  }
  return value;
};
