// `backfill`: creates in the User Service every user of a pool that the user policy says belongs
// there, mapped exactly as the other paths map them and sent with the same idempotent client, so
// a re-run creates nothing. Survives real operations: stops cleanly on a signal, writes its
// report after every page, resumes from it, paces ListUsers under the shared quota.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import {
  estimatedUserCount,
  findUserBySub,
  listUserPages,
  regionOfUserPool,
  type UserPage,
} from '../clients/cognito-users.js';
import { credentialSources, loadCredentials, secretsManagerGetter } from '../clients/credentials.js';
import { createPacer } from '../clients/pacer.js';
import { createUserServiceClient } from '../clients/user-service.js';
import { parsers, readUserPolicy, readUserServiceConfig } from '../config.js';
import { type BackfillCounts, type BackfillResult, emptyCounts, runBackfill } from '../core/backfill.js';
import { startDeadline } from '../core/deadline.js';
import type { PoolUser } from '../domain/pool-user.js';
import { UsageError } from '../errors.js';
import { isRecord } from '../guards.js';
import { VERSION } from '../version.js';
import { describeOperatorError } from './operator-errors.js';
import { controlRun, createProgress, defaultReportPath, openReport } from './run.js';
import type { Io } from './usage.js';

export const BACKFILL_USAGE = `Usage: cognito-user-sync backfill --user-pool-id ID [options]

Creates in the User Service every user of the pool whose status the user policy syncs
(SYNC_USER_STATUSES), mapped as the other paths map them and sent with the same idempotency key:
users that exist already answer 409 and count as "already existed", so a second run creates
nothing.

Options:
  --user-pool-id ID      the pool, e.g. eu-west-1_Qx7Lm2Rt9 (required, unless a report gives it)
  --status LIST          statuses to send this run, comma-separated
                         (default: SYNC_USER_STATUSES, else CONFIRMED,EXTERNAL_PROVIDER,
                         FORCE_CHANGE_PASSWORD,RESET_REQUIRED)
  --concurrency N        users sent at once, 1 to 64 (default 8)
  --max-rps N            ListUsers requests a second, 0.2 to 25 (default 5; the quota is 30 a
                         second per account and region, shared with everything else)
  --max-failures N       stop (resumable) once N users failed; 0 for no limit (default 500)
  --dry-run              list and map the users, send nothing
  --report FILE          where to write the JSON report, after every page
                         (default: ~/.local/state/cognito-user-sync/reports/, or
                         $COGNITO_USER_SYNC_REPORTS_DIR)
  --resume-from FILE     continue the run of this report, from the page it stopped at
  --from-report FILE     send again only the users this report lists as failed
  --resume-token TOKEN   start from this pagination token
  -h, --help             show this help

Environment: USER_SERVICE_URL, USER_SERVICE_API_KEY_SECRET_ID or USER_SERVICE_API_KEY,
USER_SERVICE_SIGNING_SECRET_ID or USER_SERVICE_SIGNING_SECRET, USER_SERVICE_TIMEOUT_MS,
SYNC_USER_STATUSES, DEFAULT_USER_STATUS, DEFAULT_USER_ROLE, DISABLED_USER_STATUS, and the AWS
SDK's own (credentials; AWS_ENDPOINT_URL; AWS_MAX_ATTEMPTS). The region is the pool's.

Ctrl-C, SIGTERM or SIGHUP finish the page in hand, write the report and stop; resume with
--resume-from.

Exit status: 0 when every selected user is in the User Service; 1 when a user or a page failed
(the report lists them: run again, --resume-from or --from-report); 2 for a usage error; 129,
130 or 143 when stopped by SIGHUP, SIGINT or SIGTERM.`;

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_MAX_RPS = 5;
const DEFAULT_MAX_FAILURES = 500;
/** One user's time with the User Service, retries included. */
const USER_BUDGET_MS = 30_000;

/** What a backfill report holds: enough to resume the run, or to send its failures again. */
interface BackfillReport {
  command: 'backfill';
  userPoolId: string;
  statuses: string[];
  dryRun: boolean;
  resumeToken: string | null;
  complete: boolean;
  counts: BackfillCounts;
  failures: { cognitoSub: string | null }[];
}

const readReport = async (path: string, flag: string): Promise<BackfillReport> => {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${flag} ${path}: ${(error as { code?: string }).code ?? 'not a JSON report'}`);
  }
  if (
    !isRecord(value) ||
    value.command !== 'backfill' ||
    typeof value.userPoolId !== 'string' ||
    !Array.isArray(value.statuses) ||
    !Array.isArray(value.failures) ||
    !isRecord(value.counts)
  ) {
    throw new UsageError(`${flag} ${path} is not a backfill report`);
  }
  return value as unknown as BackfillReport;
};

const summaryLine = ({ counts, pages }: BackfillResult, dryRun: boolean): string =>
  dryRun
    ? `page ${pages}: ${counts.seen} users seen, ${counts.wouldSend} to send, ${counts.skipped} skipped`
    : `page ${pages}: ${counts.seen} users seen, ${counts.created} created, ${counts.exists} already existed, ` +
      `${counts.skipped} skipped, ${counts.failed} failed`;

const number = (value: string, flag: string, min: number, max: number, integer = true): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(`${flag} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return parsed;
};

const statusesOfFlag = (value: string): Set<string> => {
  try {
    return parsers.statuses('--status', value);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
};

/** The failed users of a report, looked up again one by one: those gone from the pool are skipped. */
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

export const backfill = async (args: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
      'user-pool-id': { type: 'string' },
      status: { type: 'string' },
      concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
      'max-rps': { type: 'string', default: String(DEFAULT_MAX_RPS) },
      'max-failures': { type: 'string', default: String(DEFAULT_MAX_FAILURES) },
      'dry-run': { type: 'boolean', default: false },
      report: { type: 'string' },
      'resume-from': { type: 'string' },
      'from-report': { type: 'string' },
      'resume-token': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(BACKFILL_USAGE);
    return 0;
  }
  if (values['resume-from'] && values['from-report']) {
    throw new UsageError('--resume-from continues a run, --from-report sends its failures again: pass one');
  }
  const earlier = values['resume-from']
    ? await readReport(values['resume-from'], '--resume-from')
    : values['from-report']
      ? await readReport(values['from-report'], '--from-report')
      : undefined;
  const userPoolId = values['user-pool-id'] ?? earlier?.userPoolId;
  if (!userPoolId) throw new UsageError('--user-pool-id is required');
  if (earlier && userPoolId !== earlier.userPoolId) {
    throw new UsageError(
      `--user-pool-id ${userPoolId} is not the pool of the report (${earlier.userPoolId})`,
    );
  }
  const region = regionOfUserPool(userPoolId);
  if (!region) throw new UsageError(`--user-pool-id ${userPoolId} is not a user pool id (region_id)`);
  const concurrency = number(values.concurrency, '--concurrency', 1, 64);
  const maxRps = number(values['max-rps'], '--max-rps', 0.2, 25, false);
  const maxFailures = number(values['max-failures'], '--max-failures', 0, Number.MAX_SAFE_INTEGER);
  const policy = readUserPolicy();
  const statuses = values.status
    ? statusesOfFlag(values.status)
    : earlier
      ? new Set(earlier.statuses)
      : new Set(policy.statuses);
  const dryRun = values['dry-run'];
  const resuming = values['resume-from'] !== undefined;
  const startToken = values['resume-token'] ?? (resuming ? (earlier?.resumeToken ?? undefined) : undefined);
  if (resuming && earlier?.complete) {
    io.out(`The run of ${values['resume-from']} is complete: nothing to resume.`);
    return 0;
  }
  const failedSubs = values['from-report']
    ? (earlier?.failures ?? []).flatMap(({ cognitoSub }) =>
        typeof cognitoSub === 'string' ? [cognitoSub] : [],
      )
    : undefined;

  const startedAt = new Date();
  const reportOf = (result: BackfillResult | undefined, finished?: Date) => ({
    command: 'backfill',
    version: VERSION,
    userPoolId,
    dryRun,
    statuses: [...statuses],
    ...(values['resume-from'] && { resumedFrom: values['resume-from'] }),
    ...(values['from-report'] && { failuresOf: values['from-report'] }),
    startedAt: startedAt.toISOString(),
    updatedAt: new Date().toISOString(),
    ...(finished && {
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - startedAt.getTime(),
    }),
    complete: finished !== undefined && result?.stoppedBy === undefined,
    ...(result?.stoppedBy && { stoppedBy: result.stoppedBy }),
    pages: result?.pages ?? 0,
    resumeToken: failedSubs ? null : (result?.resumeToken ?? startToken ?? null),
    counts: result?.counts ?? (resuming && earlier ? earlier.counts : emptyCounts()),
    failures: [...(resuming ? (earlier?.failures ?? []) : []), ...(result?.failures ?? [])],
  });
  const report = await openReport(
    values.report ?? defaultReportPath('backfill', userPoolId, startedAt),
    reportOf(undefined),
  );

  let send: Parameters<typeof runBackfill>[0]['send'] = () => Promise.reject(new Error('dry run'));
  if (!dryRun) {
    const config = readUserServiceConfig();
    const credentials = await loadCredentials(
      credentialSources(process.env),
      secretsManagerGetter(() => new SecretsManagerClient(AWS_CLIENT_PROFILES.cli)),
    );
    const client = createUserServiceClient({ ...config, baseBackoffMs: 200, maxBackoffMs: 5000 });
    send = (body, idempotencyKey) =>
      client.createUser(body, {
        idempotencyKey,
        credentials,
        deadline: startDeadline(USER_BUDGET_MS),
        retryLimit: 4,
      });
  }

  const cognito = new CognitoIdentityProviderClient({ ...AWS_CLIENT_PROFILES.cli, region });
  const control = controlRun(io);
  const total = failedSubs?.length ?? (await estimatedUserCount(cognito, userPoolId, control.signal));
  const progress = createProgress(process.stderr, total);
  io.out(
    `${dryRun ? 'Dry run: listing' : 'Backfilling'} ${userPoolId} (statuses ${[...statuses].join(', ')}, ` +
      `concurrency ${concurrency}, at most ${maxRps} ListUsers/s)` +
      `${startToken ? ', resuming' : ''}${failedSubs ? `, the ${failedSubs.length} failed users of the report` : ''}`,
  );
  const pages = failedSubs
    ? failedUsersOf(cognito, userPoolId, failedSubs, control.signal)
    : listUserPages(cognito, userPoolId, {
        startToken,
        pacer: createPacer({ maxRps }),
        signal: control.signal,
      });
  const result = await runBackfill({
    userPoolId,
    pages,
    startToken: failedSubs ? undefined : startToken,
    policy,
    statuses,
    dryRun,
    concurrency,
    send,
    ...(maxFailures > 0 && { maxFailures }),
    ...(resuming && earlier && { counts: earlier.counts }),
    onPage: async (current) => {
      progress.update(current.counts.seen, summaryLine(current, dryRun));
      await report.write(reportOf(current));
    },
    shouldStop: () => control.stoppedBy() !== undefined,
  }).finally(() => {
    control.dispose();
    progress.finish();
  });
  const finishedAt = new Date();
  await report.write(reportOf(result, finishedAt));

  const { counts } = result;
  const complete = result.stoppedBy === undefined;
  const rows: [string, number][] = dryRun
    ? [
        ['to send', counts.wouldSend],
        ['skipped', counts.skipped],
        ['failed', counts.failed],
      ]
    : [
        ['created', counts.created],
        ['already existed', counts.exists],
        ['skipped', counts.skipped],
        ['failed', counts.failed],
      ];
  const seconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;
  io.out(
    `${complete ? 'Done' : 'Stopped'}: ${counts.seen} users in ${result.pages} pages, ${seconds.toFixed(1)} s`,
  );
  for (const [label, count] of rows) io.out(`  ${label.padEnd(16)}${String(count).padStart(8)}`);
  if (!complete) {
    io.err(
      result.stoppedBy === 'interrupted'
        ? `The run was stopped (${control.stoppedBy() ?? 'interrupted'}).`
        : result.stoppedBy === 'too-many-failures'
          ? `Stopped after ${counts.failed} failures (--max-failures): fix the cause, then --resume-from the report.`
          : `A page of users could not be listed: ${describeOperatorError(result.pageError) ?? result.stoppedBy}`,
    );
  }
  if (!complete && !failedSubs && result.resumeToken !== undefined) {
    io.out(`Resume with: cognito-user-sync backfill --resume-from ${report.path}`);
  }
  if (counts.failed > 0) io.out(`Send the failed users again with: --from-report ${report.path}`);
  io.out(`Report: ${report.path}`);
  return control.exitCode() ?? (complete && counts.failed === 0 ? 0 : 1);
};
