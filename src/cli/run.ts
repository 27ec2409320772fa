// What the long commands (backfill, reconcile) share as they run: the flags both take, stopping
// cleanly on Ctrl-C, SIGTERM or SIGHUP (the work in hand is finished, the position stays in the
// report: ./report.ts), progress with a rate and an ETA, and the summary at the end.

import { defaults, LIST_USERS_RPS, numberIn, parsePoolId, parseStatuses } from '../config.js';
import { DEFAULT_SYNCED_STATUSES } from '../domain/user-policy.js';
import { option, text } from './flags.js';
import type { Io } from './usage.js';

/** The flags both long commands take. */
export const RUN_FLAGS = {
  'user-pool-id': option(
    'ID',
    parsePoolId,
    'the pool, e.g. eu-west-1_Qx7Lm2Rt9 (required, unless a report gives it)',
  ),
  status: option(
    'LIST',
    parseStatuses,
    `the Cognito statuses whose users belong in the User Service, comma-separated
(default: SYNC_USER_STATUSES, else
${DEFAULT_SYNCED_STATUSES.join(',')})`,
  ),
  'max-rps': option(
    'N',
    numberIn(LIST_USERS_RPS),
    `ListUsers requests a second, ${LIST_USERS_RPS.min} to ${LIST_USERS_RPS.max} (default ${defaults.listUsersRps}; the quota is 30 a
second per account and region, shared with everything else)`,
  ),
  report: text(
    'FILE',
    `the JSON report, written as the run goes, and read by --resume-from
(default: ~/.local/state/cognito-user-sync/reports/, or
$COGNITO_USER_SYNC_REPORTS_DIR)`,
  ),
};

/** The signals that stop a run, and the exit status each gives (128 + its number). */
const STOP_SIGNALS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

export interface RunControl {
  /** Aborts what is in flight (a page being listed) when the run is stopped. */
  signal: AbortSignal;
  /** Aborted by a second signal, for a run given words for it (`again`): its clean-up is cut short. */
  again: AbortSignal;
  /** The signal that stopped the run, if one did. */
  stoppedBy(): StopSignal | undefined;
  /** The exit status of a run stopped by a signal. */
  exitCode(): number | undefined;
  dispose(): void;
}

const abortError = (message: string) => Object.assign(new Error(message), { name: 'AbortError' });

/**
 * Stops the run at the first SIGINT, SIGTERM or SIGHUP: says so, aborts what is in flight, and
 * lets the run finish the work in hand and write its report. A second signal ends the process
 * at once, as it would without us — unless the run has a clean-up that must not be lost silently
 * (smoke's user, given `again`): then the second says `again`, aborts `again` (the run cuts its
 * clean-up short and says what is left), and only a third ends the process.
 */
export const controlRun = (
  io: Io,
  /** What the run does when stopped, as the line printed says it. */
  stopping = 'finishing the work in hand, then stopping; the report keeps the position to resume from.',
  /** What a second signal does, as the line printed says it. */
  again?: string,
): RunControl => {
  const controller = new AbortController();
  const cutShort = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const handlers = new Map<StopSignal, () => void>();
  const dispose = () => {
    for (const [name, handler] of handlers) process.removeListener(name, handler);
    handlers.clear();
  };
  for (const name of Object.keys(STOP_SIGNALS) as StopSignal[]) {
    const handler = () => {
      if (stoppedBy !== undefined) {
        dispose();
        io.err(`\n${name} again: ${again}`);
        cutShort.abort(abortError(`cut short by ${name}`));
        return;
      }
      stoppedBy = name;
      if (again === undefined) dispose();
      io.err(`\n${name}: ${stopping}`);
      controller.abort(abortError(`stopped by ${name}`));
    };
    handlers.set(name, handler);
    process.on(name, handler);
  }
  return {
    signal: controller.signal,
    again: cutShort.signal,
    stoppedBy: () => stoppedBy,
    exitCode: () => (stoppedBy ? STOP_SIGNALS[stoppedBy] : undefined),
    dispose,
  };
};

/** Runs `work` under a RunControl, whose signal handlers go when it settles, whatever happens. */
export const underControl = async <T>(
  io: Io,
  work: (control: RunControl) => Promise<T>,
  stopping?: string,
  again?: string,
): Promise<T> => {
  const control = controlRun(io, stopping, again);
  try {
    return await work(control);
  } finally {
    control.dispose();
  }
};

/** Counts by label, as the summary shows them. */
export type SummaryRows = readonly (readonly [label: string, count: number])[];

/**
 * The end of a run: what it did and how long it took, the counts in a column, what to run next
 * (the command that goes on from the report, when it stopped), and where the report is.
 */
export const printSummary = (
  io: Io,
  {
    complete,
    what,
    startedAt,
    finishedAt,
    rows,
    next = [],
    command,
    reportPath,
    resumable = !complete,
  }: {
    /** Whether the run did all it was to do (else it stopped, resumable). */
    complete: boolean;
    /** What it did, in a few words. */
    what: string;
    startedAt: Date;
    finishedAt: Date;
    rows: SummaryRows;
    /** Lines on what to do next, before the one that resumes. */
    next?: string[];
    command: string;
    reportPath: string;
    /** Whether --resume-from goes on from the report (by default: when the run stopped). */
    resumable?: boolean;
  },
): void => {
  const seconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;
  io.out(`${complete ? 'Done' : 'Stopped'}: ${what}, ${seconds.toFixed(1)} s`);
  for (const [label, count] of rows) io.out(`  ${label.padEnd(18)}${String(count).padStart(8)}`);
  for (const line of next) io.out(line);
  if (resumable) io.out(`Resume with: cognito-user-sync ${command} --resume-from ${reportPath}`);
  io.out(`Report: ${reportPath}`);
};

export interface Progress {
  /** `done` of about `total` (when known), with the step's own line. */
  update(done: number, line: string): void;
  finish(): void;
}

const duration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
};

/**
 * Progress: a bar redrawn in place on a terminal, a plain line per step otherwise (a CI log, a
 * file); both with the rate and, when the total is known, "x of about N" and an ETA.
 */
export const createProgress = (
  stream: NodeJS.WriteStream,
  total: number | undefined,
  { unit = 'users', now = () => performance.now() }: { unit?: string; now?: () => number } = {},
): Progress => {
  const started = now();
  const width = 24;
  const status = (done: number) => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const of = total && total > 0 ? ` of about ${total}` : '';
    const eta = total && total > done && rate > 0 ? `, ETA ${duration((total - done) / rate)}` : '';
    return `${done}${of} ${unit}, ${rate.toFixed(0)}/s${eta}`;
  };
  if (!stream.isTTY) {
    return { update: (done, line) => stream.write(`${line} (${status(done)})\n`), finish: () => undefined };
  }
  return {
    update(done, line) {
      const bar =
        total && total > 0
          ? `[${'#'.repeat(Math.min(width, Math.round((done / total) * width))).padEnd(width, '.')}] `
          : '';
      stream.write(`\r\x1b[2K${bar}${line} (${status(done)})`);
    },
    finish: () => stream.write('\n'),
  };
};
