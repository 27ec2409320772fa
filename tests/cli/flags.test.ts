// A command's flags, declared once with their parsers, defaults and usage: what they read to, the
// help written from them, and a bad value refused in the words the variable of its kind gets.

import { describe, expect, it } from 'vitest';
import { command, option, repeated, text, toggle } from '../../src/cli/flags.js';
import type { Io } from '../../src/cli/usage.js';
import { LIST_USERS_RPS, numberIn, parsePoolId, readVariable } from '../../src/config.js';
import { ConfigError, UsageError } from '../../src/errors.js';

const recordingIo = () => {
  const out: string[] = [];
  const io: Io = { out: (line) => out.push(line), err: () => undefined };
  return { io, out };
};

const example = command({
  synopsis: 'Usage: cognito-user-sync example [options] [file]',
  about: 'Does an example.',
  flags: {
    'max-rps': option('N', numberIn(LIST_USERS_RPS), 'ListUsers requests a second\n(default 5)', 5),
    'user-pool-id': option('ID', parsePoolId, 'the pool'),
    apply: toggle('repair'),
    report: text('FILE', 'the report'),
    key: repeated('KEY', 'a key; repeat for several'),
  },
  footer: 'Exit status: 0.',
  positionals: true,
});

describe('command', () => {
  it('writes the usage from the flags: one column, continued lines under it, and --help', () => {
    expect(example.usage.split('\n')).toEqual([
      'Usage: cognito-user-sync example [options] [file]',
      '',
      'Does an example.',
      '',
      'Options:',
      '  --max-rps N        ListUsers requests a second',
      '                     (default 5)',
      '  --user-pool-id ID  the pool',
      '  --apply            repair',
      '  --report FILE      the report',
      '  --key KEY          a key; repeat for several',
      '  -h, --help         show this help',
      '',
      'Exit status: 0.',
    ]);
  });

  it('reads each flag with its parser; a flag not given is its default, or undefined', () => {
    const { io } = recordingIo();

    const read = example.read(['--max-rps', '0.5', '--key', 'a', '--key', 'b', '--apply', 'event.json'], io);

    expect(read).toEqual({
      values: {
        'max-rps': 0.5,
        'user-pool-id': undefined,
        apply: true,
        report: undefined,
        key: ['a', 'b'],
      },
      positionals: ['event.json'],
    });
    expect(example.read([], io)?.values).toMatchObject({ 'max-rps': 5, apply: undefined });
  });

  it('prints the usage for --help or -h, and reads nothing else', () => {
    for (const flag of ['--help', '-h']) {
      const { io, out } = recordingIo();

      expect(example.read([flag, '--max-rps', 'lots'], io)).toBeUndefined();
      expect(out).toEqual([example.usage]);
    }
  });

  it('refuses a bad value as a usage error in the words the variable of its kind gets', () => {
    const { io } = recordingIo();
    const variable = (() => {
      try {
        readVariable({ RECONCILE_MAX_RPS: '30' }, 'RECONCILE_MAX_RPS', numberIn(LIST_USERS_RPS));
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();

    const flag = (() => {
      try {
        example.read(['--max-rps', '30'], io);
      } catch (error) {
        return error as UsageError;
      }
      throw new Error('expected a UsageError');
    })();

    expect(variable).toBeInstanceOf(ConfigError);
    expect(flag).toBeInstanceOf(UsageError);
    expect(flag.message.replace('--max-rps', '')).toBe(variable.message.replace('RECONCILE_MAX_RPS', ''));
  });

  it('leaves an unknown flag to parseArgs, whose code main() reports as a usage error', () => {
    const { io } = recordingIo();

    expect(() => example.read(['--verbose'], io)).toThrow(
      expect.objectContaining({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }),
    );
  });
});
