// What the long commands (backfill, reconcile) share: stopping cleanly on Ctrl-C, SIGTERM or
// SIGHUP (the work in hand is finished, the position stays in the report), a report file written
// after every step, out of the working tree by default, and progress with a rate and an ETA.

import { mkdir, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Io } from './usage.js';

/** The signals that stop a run, and the exit status each gives (128 + its number). */
const STOP_SIGNALS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

export interface RunControl {
  /** Aborts what is in flight (a page being listed) when the run is stopped. */
  signal: AbortSignal;
  /** The signal that stopped the run, if one did. */
  stoppedBy(): StopSignal | undefined;
  /** The exit status of a run stopped by a signal. */
  exitCode(): number | undefined;
  dispose(): void;
}

/**
 * Stops the run at the first SIGINT, SIGTERM or SIGHUP: says so, aborts what is in flight, and
 * lets the run finish the work in hand and write its report. A second signal ends the process
 * at once, as it would without us.
 */
export const controlRun = (io: Io): RunControl => {
  const controller = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const handlers = new Map<StopSignal, () => void>();
  const dispose = () => {
    for (const [name, handler] of handlers) process.removeListener(name, handler);
    handlers.clear();
  };
  for (const name of Object.keys(STOP_SIGNALS) as StopSignal[]) {
    const handler = () => {
      stoppedBy = name;
      dispose();
      io.err(
        `\n${name}: finishing the work in hand, then stopping; the report keeps the position to resume from.`,
      );
      controller.abort(Object.assign(new Error(`stopped by ${name}`), { name: 'AbortError' }));
    };
    handlers.set(name, handler);
    process.once(name, handler);
  }
  return {
    signal: controller.signal,
    stoppedBy: () => stoppedBy,
    exitCode: () => (stoppedBy ? STOP_SIGNALS[stoppedBy] : undefined),
    dispose,
  };
};

/** Where reports go by default: the state directory, never the working tree. */
export const reportsDirectory = (env: Readonly<Record<string, string | undefined>> = process.env): string =>
  env.COGNITO_USER_SYNC_REPORTS_DIR ||
  join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'cognito-user-sync', 'reports');

export const defaultReportPath = (command: string, userPoolId: string, at: Date): string =>
  join(reportsDirectory(), `${command}-${userPoolId}-${at.toISOString().replace(/[-:]|\.\d+/g, '')}.json`);

export interface ReportFile {
  path: string;
  /** Replaces the report, atomically: a run killed mid-write leaves the previous one whole. */
  write(report: unknown): Promise<void>;
}

/**
 * Opens the report and writes a first version of it at once: a path that cannot be written is a
 * usage error before the run, not a crash after it.
 */
export const openReport = async (path: string, first: unknown): Promise<ReportFile> => {
  const absolute = resolve(path);
  const write = async (report: unknown) => {
    const temporary = `${absolute}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(report, null, 2)}\n`);
    await rename(temporary, absolute);
  };
  try {
    await mkdir(dirname(absolute), { recursive: true });
    await write(first);
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    throw new UsageError(
      `cannot write the report to ${absolute} (${code}): pass --report with a writable path`,
    );
  }
  return { path: absolute, write };
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
