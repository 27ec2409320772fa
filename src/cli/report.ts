// The report file of a long command (backfill, reconcile): out of the working tree by default,
// written first before the run starts (a path that cannot be written is a usage error then, not a
// crash at the end) and after every step, atomically; read back, and checked, to go on from it;
// held by one run at a time (REPORT.lock).

import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isRecord } from '../guards.js';
import { VERSION } from '../version.js';
import type { Io } from './usage.js';

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
 * usage error before the run, not a crash after it. The report is `path`; else, for a run that
 * goes on from a report (`resumes`), that same report, which the run keeps writing; else one named
 * by the command, the pool and the time in the reports' directory. A resumed run that writes
 * elsewhere marks the report it resumed as superseded, pointing at its own: resuming the old one
 * again (the only path an operator may know of after a kill) would start over from old counts,
 * and a deletion cap would count its deletions twice over.
 */
export const openReport = async (
  path: string | undefined,
  run: { command: string; userPoolId: string; startedAt: Date; resumes?: string | undefined },
  first: unknown,
): Promise<ReportFile> => {
  const absolute = resolve(
    path ?? run.resumes ?? defaultReportPath(run.command, run.userPoolId, run.startedAt),
  );
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
  if (run.resumes !== undefined && resolve(run.resumes) !== absolute) {
    await supersede(resolve(run.resumes), absolute);
  }
  return { path: absolute, write };
};

/** Marks a report as resumed into another: it can no longer be resumed itself. */
const supersede = async (path: string, by: string): Promise<void> => {
  const earlier = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...earlier, supersededBy: by }, null, 2)}\n`);
  await rename(temporary, path);
};

/** What every report of a long command holds. */
export interface RunReport {
  command: string;
  userPoolId: string;
  complete: boolean;
  counts: object;
  failures: unknown[];
}

/**
 * Reads the report of an earlier run given to `flag` (--resume-from, --from-report): JSON, a
 * report of `command`, with the fields `has` checks besides those every report holds. Anything
 * else is a usage error.
 */
export const readReport = async <T extends RunReport>(
  path: string,
  flag: string,
  command: string,
  has: (report: Record<string, unknown>) => boolean,
): Promise<T> => {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${flag} ${path}: ${(error as { code?: string }).code ?? 'not a JSON report'}`);
  }
  if (
    !isRecord(value) ||
    value.command !== command ||
    typeof value.userPoolId !== 'string' ||
    !isRecord(value.counts) ||
    !Array.isArray(value.failures) ||
    !has(value)
  ) {
    throw new UsageError(`${flag} ${path} is not a ${command} report`);
  }
  if (flag === '--resume-from' && typeof value.supersededBy === 'string') {
    throw new UsageError(
      `${flag} ${path}: this run was resumed into ${value.supersededBy}; resume from that report`,
    );
  }
  return value as unknown as T;
};

/** The fields a report starts with: what wrote it, for which pool, and when. */
export const reportHeading = (
  command: string,
  userPoolId: string,
  startedAt: Date,
  finished: Date | undefined,
) => ({
  command,
  version: VERSION,
  userPoolId,
  startedAt: startedAt.toISOString(),
  updatedAt: new Date().toISOString(),
  ...(finished && {
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - startedAt.getTime(),
  }),
});

// ---------------------------------------------------------------------------------------------
// One run at a time per report: two runs resuming one report would each start from its counts
// (reconcile: each with all of the deletion budget left). The lock is REPORT.lock, made whole or
// not at all (linked from a file written first), holding the run's pid, host and start; it goes
// when the run ends, a stop by a signal included. One left by a process killed outright (SIGKILL,
// a second Ctrl-C) is taken over once that process is gone, and the run says so.

interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

const isLockHolder = (value: unknown): value is LockHolder =>
  isRecord(value) &&
  Number.isSafeInteger(value.pid) &&
  (value.pid as number) > 0 &&
  typeof value.host === 'string' &&
  typeof value.startedAt === 'string';

/** Makes `path` with `content` unless it exists: whole, or not at all. */
const createWhole = async (path: string, content: string): Promise<boolean> => {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
};

/** Who holds a lock: undefined when there is none, 'unreadable' when it is not one of ours. */
const holderOf = async (path: string): Promise<LockHolder | 'unreadable' | undefined> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const holder: unknown = JSON.parse(text);
    return isLockHolder(holder) ? holder : 'unreadable';
  } catch {
    return 'unreadable';
  }
};

/** Whether a process of this host runs under `pid` (one of another user's counts: EPERM). */
const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
};

const sameHolder = (one: LockHolder, other: LockHolder) =>
  one.pid === other.pid && one.host === other.host && one.startedAt === other.startedAt;

interface ReportLock {
  release(): Promise<void>;
}

/**
 * Takes the lock of the report at `path`, or says why not: another run holds it. A lock whose
 * process no longer runs on this host is taken over, under REPORT.lock.takeover, so that two
 * runs finding it at once do not both take it.
 */
const lockReport = async (
  path: string,
  io: Io,
  /** Whether the report is to be made (its folder too), or only read: then it must exist. */
  making: boolean,
): Promise<ReportLock | { refused: string }> => {
  const lockPath = `${path}.lock`;
  const mine: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const content = `${JSON.stringify(mine)}\n`;
  const release = async () => {
    const holder = await holderOf(lockPath).catch(() => undefined);
    if (holder !== undefined && holder !== 'unreadable' && sameHolder(holder, mine)) {
      await rm(lockPath, { force: true });
    }
  };
  const created = async () => {
    try {
      if (making) await mkdir(dirname(lockPath), { recursive: true });
      return await createWhole(lockPath, content);
    } catch (error) {
      const code = (error as { code?: string }).code;
      // A report to read in a folder that does not exist: nothing to hold, and reading it says so.
      if (!making && code === 'ENOENT') return 'nothing';
      // A report to read where nothing can be written (a read-only mount, another user's folder):
      // it cannot be held, and no run can write it either; the run writes its own (--report).
      if (!making && (code === 'EACCES' || code === 'EROFS' || code === 'EPERM')) {
        io.err(
          `${path} cannot be locked (${code}): nothing stops another run resuming it at the same time; the run writes its report where --report says.`,
        );
        return 'nothing';
      }
      throw new UsageError(
        `cannot write the report to ${path} (${(error as { code?: string }).code ?? (error as Error).name}): pass --report with a writable path`,
      );
    }
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const made = await created();
    if (made === 'nothing') return { release: async () => undefined };
    if (made) return { release };
    const holder = await holderOf(lockPath);
    if (holder === undefined) continue;
    if (holder === 'unreadable') {
      return {
        refused: `${lockPath} is not a lock of cognito-user-sync: if no run of ${path} is going, remove it.`,
      };
    }
    if (holder.host !== mine.host || isRunning(holder.pid)) {
      return {
        refused:
          `${path} is in use: ${lockPath} is held by pid ${holder.pid}` +
          `${holder.host === mine.host ? '' : ` on ${holder.host}`}, running since ${holder.startedAt}. ` +
          `Wait for that run to end, or stop it; if that process is no run of cognito-user-sync, remove ${lockPath}.`,
      };
    }
    const takeover = `${lockPath}.takeover`;
    if (!(await createWhole(takeover, content))) {
      return { refused: `another run is taking over ${lockPath}; if none is, remove ${takeover}.` };
    }
    try {
      const still = await holderOf(lockPath);
      if (still !== undefined && still !== 'unreadable' && sameHolder(still, holder)) {
        io.err(
          `${lockPath} was left by pid ${holder.pid} (its run started ${holder.startedAt}), which is no longer running: taking it over.`,
        );
        await rm(lockPath, { force: true });
      }
    } finally {
      await rm(takeover, { force: true });
    }
  }
  return { refused: `${lockPath} could not be taken: another run keeps taking it.` };
};

/**
 * Runs a long command's `work` holding the report it resumes (before it is read) and the report it
 * writes (before it is written: --report, else the one it resumes, else the default one for the
 * pool, named by the time `work` is given), each once, for the whole of it. When another run
 * holds one, says so and returns 1, the work not started.
 */
export const holdingReports = async (
  io: Io,
  command: string,
  /** The command's flags: --report, --resume-from, --user-pool-id. */
  flags: {
    report?: string | undefined;
    'resume-from'?: string | undefined;
    'user-pool-id'?: string | undefined;
  },
  work: (startedAt: Date) => Promise<number>,
): Promise<number> => {
  const run = {
    command,
    report: flags.report,
    resumes: flags['resume-from'],
    userPoolId: flags['user-pool-id'],
  };
  const startedAt = new Date();
  const named = run.report ?? run.resumes;
  const resumed = run.resumes === undefined ? undefined : resolve(run.resumes);
  const written =
    named !== undefined
      ? resolve(named)
      : run.userPoolId === undefined
        ? undefined // no pool, no run: the command says so
        : defaultReportPath(run.command, run.userPoolId, startedAt);
  const locks: ReportLock[] = [];
  try {
    for (const [path, making] of [
      [resumed, false],
      [written === resumed ? undefined : written, true],
    ] as const) {
      if (path === undefined) continue;
      const lock = await lockReport(path, io, making);
      if ('refused' in lock) {
        io.err(`cognito-user-sync: ${lock.refused}`);
        return 1;
      }
      locks.push(lock);
    }
    return await work(startedAt);
  } finally {
    for (const lock of locks.reverse()) await lock.release();
  }
};
