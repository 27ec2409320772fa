// A command's flags, declared once: each with the parser of its kind (src/config.ts's, so a flag
// and a variable of one kind are checked by the same code, in the same words), its default, and
// its lines of usage, from which the command's help is written.

import { parseArgs } from 'node:util';
import type { Parser } from '../config.js';
import { ConfigError, UsageError } from '../errors.js';
import type { Io } from './usage.js';

export interface Flag<T> {
  type: 'string' | 'boolean';
  /** How its value is shown in the usage (ID, N, LIST); none for a switch. */
  value?: string;
  short?: string;
  multiple?: boolean;
  /** Its usage: a line, or several (the later ones indented under the first). */
  help: string;
  /** Makes the value from what parseArgs read (undefined when the flag is not given). */
  read: (raw: string | boolean | (string | boolean)[] | undefined, flag: string) => T;
}

/** What a command's flags read to, by flag. */
export type FlagValues<F extends Record<string, Flag<unknown>>> = {
  [K in keyof F]: F[K] extends Flag<infer T> ? T : never;
};

/**
 * A flag's value, checked by the parser of its kind; a bad one is a usage error in the parser's
 * words. A report's value read back to go on from it (./resume.ts) is checked the same way.
 */
export const parsed = <T>(parse: Parser<T>, raw: string, flag: string): T => {
  try {
    return parse(flag, raw);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
};

/** A flag with a value of a kind; `fallback` when not given. */
export function option<T>(value: string, parse: Parser<T>, help: string): Flag<T | undefined>;
export function option<T>(value: string, parse: Parser<T>, help: string, fallback: T): Flag<T>;
export function option<T>(value: string, parse: Parser<T>, help: string, fallback?: T): Flag<T | undefined> {
  return {
    type: 'string',
    value,
    help,
    read: (raw, flag) => (typeof raw === 'string' ? parsed(parse, raw.trim(), flag) : fallback),
  };
}

/** A flag with free text (a path, a token): taken as given. */
export const text = (value: string, help: string): Flag<string | undefined> => ({
  type: 'string',
  value,
  help,
  read: (raw) => (typeof raw === 'string' ? raw : undefined),
});

/** A flag given as often as needed. */
export const repeated = (value: string, help: string): Flag<string[] | undefined> => ({
  type: 'string',
  value,
  multiple: true,
  help,
  read: (raw) => (Array.isArray(raw) ? raw.map(String) : undefined),
});

/** A switch: true when given, undefined when not (a resumed run tells the two apart). */
export const toggle = (help: string): Flag<boolean | undefined> => ({
  type: 'boolean',
  help,
  read: (raw) => (raw === true ? true : undefined),
});

const HELP = {
  type: 'boolean',
  short: 'h',
  help: 'show this help',
  read: (raw) => raw === true,
} satisfies Flag<boolean>;

export interface CommandSpec<F extends Record<string, Flag<unknown>>> {
  /** The first line: `Usage: cognito-user-sync <name> …`. */
  synopsis: string;
  /** What the command does, and any section before the options (paragraphs, lists). */
  about: string;
  flags: F;
  /** What follows the options: the environment, the exit status. */
  footer: string;
  /** Whether it takes operands (an event file, an example's name). */
  positionals?: boolean;
}

export interface Command<F extends Record<string, Flag<unknown>>> {
  usage: string;
  /**
   * Reads the arguments: every flag's value, and the operands; or undefined when --help asked
   * for the usage, which it has printed. A bad flag is a UsageError.
   */
  read(args: string[], io: Io): { values: FlagValues<F>; positionals: string[] } | undefined;
}

/** The options' lines: each flag, its value, its help in a column; continued lines under it. */
const optionLines = (flags: Record<string, Flag<unknown>>): string[] => {
  const rows = Object.entries(flags).map(([name, flag]) => ({
    left: `${flag.short ? `-${flag.short}, ` : ''}--${name}${flag.value ? ` ${flag.value}` : ''}`,
    help: flag.help.split('\n'),
  }));
  const column = Math.max(...rows.map((row) => row.left.length)) + 2;
  return rows.flatMap(({ left, help: [first = '', ...rest] }) => [
    `  ${left.padEnd(column)}${first}`.trimEnd(),
    ...rest.map((line) => `  ${' '.repeat(column)}${line}`),
  ]);
};

export const command = <F extends Record<string, Flag<unknown>>>(spec: CommandSpec<F>): Command<F> => {
  const flags: Record<string, Flag<unknown>> = { ...spec.flags, help: HELP };
  const usage = [
    spec.synopsis,
    '',
    spec.about,
    '',
    'Options:',
    ...optionLines(flags),
    ...(spec.footer ? ['', spec.footer] : []),
  ].join('\n');
  return {
    usage,
    read(args, io) {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: spec.positionals ?? false,
        options: Object.fromEntries(
          Object.entries(flags).map(([name, { type, short, multiple }]) => [
            name,
            { type, ...(short && { short }), ...(multiple && { multiple }) },
          ]),
        ),
      });
      if (values.help === true) {
        io.out(usage);
        return undefined;
      }
      const read = Object.fromEntries(
        Object.entries(spec.flags).map(([name, flag]) => [name, flag.read(values[name], `--${name}`)]),
      );
      return { values: read as FlagValues<F>, positionals };
    },
  };
};
