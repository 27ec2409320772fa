// Going on from the report of an earlier run: the pool it was for, and the limits it was run
// with, which hold unless a flag is given again; the run says which hold, and why.

import type { Parser } from '../config.js';
import type { UserPolicy } from '../domain/user-policy.js';
import { parseUserPoolId } from '../domain/user-pool-id.js';
import { UsageError } from '../errors.js';
import { parsed } from './flags.js';
import type { RunReport } from './report.js';
import type { Io } from './usage.js';

/** The pool a run is for: --user-pool-id, else the earlier report's (the two must agree), and its region. */
export const poolOf = (
  given: string | undefined,
  earlier: RunReport | undefined,
): { userPoolId: string; region: string } => {
  const userPoolId = given ?? earlier?.userPoolId;
  if (!userPoolId) throw new UsageError('--user-pool-id is required');
  if (earlier && userPoolId !== earlier.userPoolId) {
    throw new UsageError(
      `--user-pool-id ${userPoolId} is not the pool of the report (${earlier.userPoolId})`,
    );
  }
  const region = parseUserPoolId(userPoolId)?.region;
  if (region === undefined) throw new UsageError(`the report's pool ${userPoolId} is not a user pool id`);
  return { userPoolId, region };
};

/** A report's value as a flag's text: a JSON number as written, a list as words with commas. */
const asFlagText = (value: unknown): string =>
  typeof value === 'number'
    ? String(value)
    : Array.isArray(value) && value.every((item) => typeof item === 'string')
      ? value.join(',')
      : // Anything else (a quoted number, null, true) is refused by every parser, and shown as written.
        JSON.stringify(value);

/**
 * A value an earlier report holds, checked by the parser of the flag that sets it: a report is
 * input like any other (edited by hand, cut short, of another version), so a limit read from it
 * holds no more than the flag allows. A bad one is a usage error naming `source` and the field;
 * undefined when the report leaves it out.
 */
export const reported = <T>(
  source: string,
  field: string,
  value: unknown,
  parse: Parser<T>,
): T | undefined =>
  value === undefined ? undefined : parsed(parse, asFlagText(value), `${source}: the report's ${field}`);

/** A switch an earlier report holds (--apply, --dry-run): true or false; undefined when left out. */
export const reportedSwitch = (source: string, field: string, value: unknown): boolean | undefined => {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new UsageError(
    `${source}: the report's ${field} must be true or false, got ${JSON.stringify(value)}`,
  );
};

/** A run's limit, and for a run that goes on from a report, a line saying which holds. */
export interface Limit<T> {
  value: T;
  note?: string;
}

/** A run's limit: the flag when given, else the earlier report's, else the default. */
export const limitOf = <T>(
  flag: string,
  given: T | undefined,
  reported: T | undefined,
  fallback: T,
  shown: (value: T) => string = String,
): Limit<T> => {
  if (given !== undefined) {
    const overrides = reported !== undefined && shown(reported) !== shown(given);
    return {
      value: given,
      ...(overrides && {
        note: `${flag} ${shown(given)} (given: overrides the report's ${shown(reported)})`,
      }),
    };
  }
  if (reported !== undefined)
    return { value: reported, note: `${flag} ${shown(reported)} (from the report)` };
  return { value: fallback };
};

/** A switch (--apply, --dry-run): on when given, else the report's, else off. */
export const switchLimit = (flag: string, given: boolean | undefined, reported: boolean | undefined) =>
  limitOf(flag, given, reported, false, (on) => (on ? 'on' : 'off'));

/** The statuses a run takes up: --status, else the report's, else the user policy's. */
export const statusesLimit = (
  given: ReadonlySet<string> | undefined,
  reported: string[] | undefined,
  policy: UserPolicy,
): Limit<string[]> =>
  limitOf('--status', given && [...given], reported, [...policy.statuses], (list) => list.join(','));

/** Says which of the limits of a run that goes on from a report hold, and why. */
export const printLimits = (io: Io, heading: string, limits: Limit<unknown>[], more: string[] = []): void => {
  io.out(heading);
  for (const limit of limits) if (limit.note) io.out(`  ${limit.note}`);
  for (const line of more) io.out(`  ${line}`);
};
