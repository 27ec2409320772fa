// `backfill`: creates in the User Service every user of a pool that the user policy says belongs
// there, mapped exactly as the other paths map them and sent with the same idempotent client, so
// a re-run creates nothing. Survives real operations: stops cleanly on a signal, writes its
// report after every page, resumes from it, paces ListUsers under the shared quota.

import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { estimatedUserCount, findUserBySub, listUserPages, type UserPage } from '../clients/cognito-users.js';
import { createPacer } from '../clients/pacer.js';
import { defaults, LIST_USERS_RPS, numberIn, parseStatuses, readUserPolicy } from '../config.js';
import { type BackfillCounts, type BackfillResult, emptyCounts, runBackfill } from '../core/backfill.js';
import type { PoolUser } from '../domain/pool-user.js';
import { UsageError } from '../errors.js';
import { command, option, text, toggle } from './flags.js';
import { describeOperatorError } from './operator-errors.js';
import { holdingReports, openReport, type RunReport, readReport, reportHeading } from './report.js';
import {
  limitOf,
  poolOf,
  printLimits,
  reported,
  reportedSwitch,
  statusesLimit,
  switchLimit,
} from './resume.js';
import { createProgress, printSummary, RUN_FLAGS, underControl } from './run.js';
import type { Io } from './usage.js';
import { openWrites } from './writes.js';

const DEFAULT_CONCURRENCY = 8;
const CONCURRENCY = { min: 1, max: 64 };
const DEFAULT_MAX_FAILURES = 500;

const BACKFILL = command({
  synopsis: 'Usage: cognito-user-sync backfill --user-pool-id ID [options]',
  about: `Creates in the User Service every user of the pool whose status the user policy syncs
(SYNC_USER_STATUSES), mapped as the other paths map them and sent with the same idempotency key:
users that exist already answer 409 and count as "already existed", so a second run creates
nothing.`,
  flags: {
    ...RUN_FLAGS,
    concurrency: option(
      'N',
      numberIn(CONCURRENCY),
      `users sent at once, ${CONCURRENCY.min} to ${CONCURRENCY.max} (default ${DEFAULT_CONCURRENCY})`,
    ),
    'max-failures': option(
      'N',
      numberIn({ min: 0 }),
      `stop (resumable) once N users failed; 0 for no limit (default ${DEFAULT_MAX_FAILURES})`,
    ),
    'dry-run': toggle('list and map the users, send nothing'),
    'resume-from': text(
      'FILE',
      `continue the run of this report, from the page it stopped at, with its
--status, --dry-run, --concurrency, --max-rps and --max-failures; a flag
given again overrides the report's value`,
    ),
    'from-report': text(
      'FILE',
      `send again only the users this report lists as failed, with its
limits likewise`,
    ),
    'resume-token': text('TOKEN', 'start from this pagination token'),
  },
  footer: `Environment: USER_SERVICE_URL, USER_SERVICE_API_KEY_SECRET_ID or USER_SERVICE_API_KEY,
USER_SERVICE_SIGNING_SECRET_ID or USER_SERVICE_SIGNING_SECRET, USER_SERVICE_TIMEOUT_MS,
SYNC_USER_STATUSES, DEFAULT_USER_STATUS, DEFAULT_USER_ROLE, DISABLED_USER_STATUS, and the AWS
SDK's own (credentials; AWS_ENDPOINT_URL; AWS_MAX_ATTEMPTS). The region is the pool's.

Ctrl-C, SIGTERM or SIGHUP finish the page in hand, write the report and stop; resume with
--resume-from.

Exit status: 0 when every selected user is in the User Service; 1 when a user or a page failed
(the report lists them: run again, --resume-from or --from-report); 2 for a usage error; 129,
130 or 143 when stopped by SIGHUP, SIGINT or SIGTERM.`,
});

export const BACKFILL_USAGE = BACKFILL.usage;

/** What a backfill report holds: enough to resume the run, with its limits, or to send its failures again. */
interface BackfillReport extends RunReport {
  command: 'backfill';
  statuses: string[];
  dryRun: boolean;
  /** Absent from reports of 0.2.0, like the two below: the defaults then hold. */
  concurrency?: number;
  maxRps?: number;
  maxFailures?: number;
  resumeToken: string | null;
  counts: BackfillCounts;
  failures: { cognitoSub: string | null }[];
}

const isBackfillReport = (report: Record<string, unknown>) => Array.isArray(report.statuses);

/**
 * The report of an earlier run, each limit checked by the parser of the flag that sets it: a
 * report edited by hand or cut short is refused, naming the field, and lifts no limit (a
 * concurrency of 5000 would send 5000 users at once).
 */
const checkedReport = (source: string, report: BackfillReport): BackfillReport => {
  const dryRun = reportedSwitch(source, 'dryRun', report.dryRun) ?? false;
  const statuses = reported(source, 'statuses', report.statuses, parseStatuses) ?? new Set<string>();
  const concurrency = reported(source, 'concurrency', report.concurrency, numberIn(CONCURRENCY));
  const maxRps = reported(source, 'maxRps', report.maxRps, numberIn(LIST_USERS_RPS));
  const maxFailures = reported(source, 'maxFailures', report.maxFailures, numberIn({ min: 0 }));
  const reportedCounts = report.counts as unknown as Record<string, unknown>;
  const counts: BackfillCounts = emptyCounts();
  for (const key of [...Object.keys(counts), 'gone'] as (keyof BackfillCounts)[]) {
    const count = reported(source, `counts.${key}`, reportedCounts[key], numberIn({ min: 0 }));
    if (count !== undefined) counts[key] = count;
  }
  return {
    ...report,
    dryRun,
    statuses: [...statuses],
    ...(concurrency !== undefined && { concurrency }),
    ...(maxRps !== undefined && { maxRps }),
    ...(maxFailures !== undefined && { maxFailures }),
    counts,
  };
};

const progressLine = ({ counts, pages }: BackfillResult, dryRun: boolean): string =>
  dryRun
    ? `page ${pages}: ${counts.seen} users seen, ${counts.wouldSend} to send, ${counts.skipped} skipped`
    : `page ${pages}: ${counts.seen} users seen, ${counts.created} created, ${counts.exists} already existed, ` +
      `${counts.skipped} skipped, ${counts.failed} failed`;

/** The failed users of a report, looked up again one by one: those gone from the pool are not sent. */
async function* failedUsersOf(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  subs: string[],
  signal: AbortSignal,
): AsyncGenerator<UserPage> {
  const pacer = createPacer({ maxRps: 10 });
  for (let start = 0; start < subs.length; start += 60) {
    const users: PoolUser[] = [];
    let gone = 0;
    for (const sub of subs.slice(start, start + 60)) {
      const user = await findUserBySub(cognito, userPoolId, sub, { pacer, signal });
      if (user) users.push(user);
      else gone++;
    }
    yield {
      users,
      withoutSub: 0,
      gone,
      nextToken: start + 60 < subs.length ? String(start + 60) : undefined,
    };
  }
}

type BackfillFlags = NonNullable<ReturnType<typeof BACKFILL.read>>['values'];

export const backfill = async (args: string[], io: Io): Promise<number> => {
  const flags = BACKFILL.read(args, io);
  if (flags === undefined) return 0;
  const { values } = flags;
  // One run at a time per report (./report.ts).
  return holdingReports(io, 'backfill', values, (startedAt) => backfillHolding(values, io, startedAt));
};

const backfillHolding = async (values: BackfillFlags, io: Io, startedAt: Date): Promise<number> => {
  const resumeFrom = values['resume-from'];
  const fromReport = values['from-report'];
  if (resumeFrom && fromReport) {
    throw new UsageError('--resume-from continues a run, --from-report sends its failures again: pass one');
  }
  const earlierPath = resumeFrom ?? fromReport;
  const flag = resumeFrom ? '--resume-from' : '--from-report';
  const earlier = earlierPath
    ? checkedReport(
        `${flag} ${earlierPath}`,
        await readReport<BackfillReport>(earlierPath, flag, 'backfill', isBackfillReport),
      )
    : undefined;
  const { userPoolId, region } = poolOf(values['user-pool-id'], earlier);

  // The run's limits: one that goes on from a report keeps the report's unless a flag is given again.
  const policy = readUserPolicy();
  const statuses = statusesLimit(values.status, earlier?.statuses, policy);
  const dryRun = switchLimit('--dry-run', values['dry-run'], earlier?.dryRun);
  const concurrency = limitOf('--concurrency', values.concurrency, earlier?.concurrency, DEFAULT_CONCURRENCY);
  const maxRps = limitOf('--max-rps', values['max-rps'], earlier?.maxRps, defaults.listUsersRps);
  const maxFailures = limitOf(
    '--max-failures',
    values['max-failures'],
    earlier?.maxFailures,
    DEFAULT_MAX_FAILURES,
  );
  const resuming = resumeFrom !== undefined;
  const startToken = values['resume-token'] ?? (resuming ? (earlier?.resumeToken ?? undefined) : undefined);
  if (resuming && earlier?.complete) {
    io.out(`The run of ${resumeFrom} is complete: nothing to resume.`);
    return 0;
  }
  const failedSubs = fromReport
    ? (earlier?.failures ?? []).flatMap(({ cognitoSub }) =>
        typeof cognitoSub === 'string' ? [cognitoSub] : [],
      )
    : undefined;

  const reportOf = (result: BackfillResult | undefined, finished?: Date) => ({
    ...reportHeading('backfill', userPoolId, startedAt, finished),
    dryRun: dryRun.value,
    statuses: statuses.value,
    concurrency: concurrency.value,
    maxRps: maxRps.value,
    maxFailures: maxFailures.value,
    ...(resumeFrom && { resumedFrom: resumeFrom }),
    ...(fromReport && { failuresOf: fromReport }),
    complete: finished !== undefined && result?.stoppedBy === undefined,
    ...(result?.stoppedBy && { stoppedBy: result.stoppedBy }),
    pages: result?.pages ?? 0,
    resumeToken: failedSubs ? null : (result?.resumeToken ?? startToken ?? null),
    counts: result?.counts ?? (resuming && earlier ? earlier.counts : emptyCounts()),
    failures: [...(resuming ? (earlier?.failures ?? []) : []), ...(result?.failures ?? [])],
  });
  const report = await openReport(
    values.report,
    { command: 'backfill', userPoolId, startedAt, resumes: resumeFrom },
    reportOf(undefined),
  );

  let send: Parameters<typeof runBackfill>[0]['send'] = () => Promise.reject(new Error('dry run'));
  if (!dryRun.value) send = (await openWrites()).create;

  const cognito = new CognitoIdentityProviderClient({ ...AWS_CLIENT_PROFILES.cli, region });
  return underControl(io, async (control) => {
    const total = failedSubs?.length ?? (await estimatedUserCount(cognito, userPoolId, control.signal));
    const progress = createProgress(process.stderr, total);
    io.out(
      `${dryRun.value ? 'Dry run: listing' : 'Backfilling'} ${userPoolId} (statuses ${statuses.value.join(', ')}, ` +
        `concurrency ${concurrency.value}, at most ${maxRps.value} ListUsers/s)` +
        `${startToken ? ', resuming' : ''}${failedSubs ? `, the ${failedSubs.length} failed users of the report` : ''}`,
    );
    if (earlierPath) {
      printLimits(
        io,
        `${resuming ? 'Resuming' : 'Sending again the failed users of'} ${earlierPath}; the run's limits:`,
        [statuses, dryRun, concurrency, maxRps, maxFailures],
      );
    }
    const pages = failedSubs
      ? failedUsersOf(cognito, userPoolId, failedSubs, control.signal)
      : listUserPages(cognito, userPoolId, {
          startToken,
          pacer: createPacer({ maxRps: maxRps.value }),
          signal: control.signal,
        });
    const result = await runBackfill({
      userPoolId,
      pages,
      startToken: failedSubs ? undefined : startToken,
      policy,
      statuses: new Set(statuses.value),
      dryRun: dryRun.value,
      concurrency: concurrency.value,
      send,
      ...(maxFailures.value > 0 && { maxFailures: maxFailures.value }),
      ...(resuming && earlier && { counts: earlier.counts }),
      onPage: async (current) => {
        progress.update(current.counts.seen, progressLine(current, dryRun.value));
        await report.write(reportOf(current));
      },
      shouldStop: () => control.stoppedBy() !== undefined,
    }).finally(() => progress.finish());
    const finishedAt = new Date();
    await report.write(reportOf(result, finishedAt));

    const { counts } = result;
    const complete = result.stoppedBy === undefined;
    if (!complete) {
      io.err(
        result.stoppedBy === 'interrupted'
          ? `The run was stopped (${control.stoppedBy() ?? 'interrupted'}).`
          : result.stoppedBy === 'too-many-failures'
            ? `Stopped after ${counts.failed} failures (--max-failures): fix the cause, then --resume-from the report.`
            : `A page of users could not be listed: ${describeOperatorError(result.pageError) ?? result.stoppedBy}`,
      );
    }
    printSummary(io, {
      complete,
      what: `${counts.seen} users in ${result.pages} pages`,
      startedAt,
      finishedAt,
      rows: dryRun.value
        ? [
            ['to send', counts.wouldSend],
            ['skipped', counts.skipped],
            ['failed', counts.failed],
          ]
        : [
            ['created', counts.created],
            ['already existed', counts.exists],
            ['skipped', counts.skipped],
            ...(counts.gone ? ([['gone, not created', counts.gone]] as const) : []),
            ['failed', counts.failed],
          ],
      next: counts.failed > 0 ? [`Send the failed users again with: --from-report ${report.path}`] : [],
      command: 'backfill',
      reportPath: report.path,
      resumable: !complete && !failedSubs && result.resumeToken !== undefined,
    });
    return control.exitCode() ?? (complete && counts.failed === 0 ? 0 : 1);
  });
};
