// The report file of a long command (backfill, reconcile): out of the working tree by default,
// written first before the run starts (a path that cannot be written is a usage error then, not a
// crash at the end) and after every step, atomically; read back, and checked, to go on from it.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isRecord } from '../guards.js';
import { VERSION } from '../version.js';

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
