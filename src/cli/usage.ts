// What every command shares: where it writes, and the error that means "you called me wrong"
// (exit code 2, with the usage).

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

// TODO(restructure): src/cli/user-service.ts still imports it from here.
export { UsageError } from '../errors.js';

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
