// The command line: `cognito-user-sync <command> [options]`; `bin.ts` runs it.

import { UsageError } from '../errors.js';
import { VERSION } from '../version.js';
import { backfill } from './backfill.js';
import { checkService } from './check-service.js';
import { doctor } from './doctor.js';
import { invoke } from './invoke.js';
import { describeOperatorError } from './operator-errors.js';
import { reconcile } from './reconcile.js';
import { replay } from './replay.js';
import { smoke } from './smoke.js';
import { status } from './status.js';
import { terraformExample } from './terraform-example.js';
import { type Io, processIo } from './usage.js';
import { userService } from './user-service.js';

const USAGE = `Usage: cognito-user-sync <command> [options]

Commands:
  status                every queue at a glance: depths, oldest message, dead letters by reason
  replay                move dead-lettered messages back to the queue they came from
  backfill              create every user of a pool the policy syncs in the User Service
  reconcile             find (and with --apply, repair) drift between a pool and the User Service
  doctor                check every precondition of a deployment (read-only): a checklist
  smoke --yes           one throwaway user's whole life through the deployment, each hop watched
  check-service --url URL
                        play the User Service contract against a service, rule by rule
  invoke [event.json]   run the post-confirmation handler locally on a Cognito event
  user-service          run the dev User Service
  terraform-example <name>
                        write a Terraform example into a folder of yours, reading this package

Run "cognito-user-sync <command> --help" for a command's options; --version for the version.

Exit status: 0 done; 1 an error (one line says what to fix); 2 a usage error; 3 drift found
(reconcile); 129, 130, 143 stopped by SIGHUP, SIGINT, SIGTERM (backfill and reconcile resume from
their report).`;

const commands: Record<string, (args: string[], io: Io) => Promise<number>> = {
  status,
  backfill,
  reconcile,
  replay,
  doctor,
  smoke,
  'check-service': checkService,
  invoke,
  'user-service': userService,
  'terraform-example': terraformExample,
};

export const main = async (argv: string[], io: Io = processIo): Promise<number> => {
  const [name, ...args] = argv;
  if (argv.includes('--version') || name === '-v') {
    io.out(`cognito-user-sync ${VERSION}`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    return await command(args, io);
  } catch (error) {
    // parseArgs reports unknown or malformed flags with ERR_PARSE_ARGS_* codes.
    const code = (error as { code?: unknown }).code;
    if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.err(`cognito-user-sync: ${(error as Error).message}`);
      io.err(`Run "cognito-user-sync ${command ? `${name} ` : ''}--help" for usage.`);
      return 2;
    }
    // Problems the operator can fix: say which, without a stack trace.
    const problem = describeOperatorError(error);
    if (problem === undefined) throw error;
    io.err(`cognito-user-sync: ${problem}`);
    return 1;
  }
};
