// `reconcile`: compares a pool with the User Service, slice by slice of the sub space, and reports
// the drift by kind; read-only unless --apply, deletions capped per run (each one recorded in the
// report before it is sent, so a run killed and resumed never passes its cap). Resumable from its
// report, with the limits it was started with; paced under ListUsers' shared quota. The plan of
// each slice is the one the scheduled run carries out (src/core/reconcile.ts). The scheduled run in AWS does the same work
// across Lambda invocations (src/handlers/reconcile.ts).

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { regionOfUserPool } from '../clients/cognito-users.js';
import { credentialSources, loadCredentials, secretsManagerGetter } from '../clients/credentials.js';
import { createPacer } from '../clients/pacer.js';
import { createUserServiceClient, type WriteResult } from '../clients/user-service.js';
import { parsers, readUserPolicy, readUserServiceConfig } from '../config.js';
import { startDeadline } from '../core/deadline.js';
import {
  countSlice,
  type DeletionBudget,
  deletesLeft,
  driftOf,
  emptyReconcileCounts,
  planSlice,
  type ReconcileCounts,
  sliceCount,
  slicePrefix,
} from '../core/reconcile.js';
import { reconcileSources, sliceThePool } from '../core/reconcile-sources.js';
import { idempotencyKey, writeKey } from '../domain/idempotency.js';
import { patchOf, recordOf, type UserPolicy } from '../domain/user-policy.js';
import { failureCode, UsageError } from '../errors.js';
import { isRecord } from '../guards.js';
import { VERSION } from '../version.js';
import { describeOperatorError } from './operator-errors.js';
import { controlRun, createProgress, defaultReportPath, openReport } from './run.js';
import type { Io } from './usage.js';

export const RECONCILE_USAGE = `Usage: cognito-user-sync reconcile --user-pool-id ID [options]

Compares the pool with the User Service (GET ?limit&cursor&prefix) by cognitoSub, mapped as the
other paths map users, and reports the drift by kind:
  missing     in the pool (and the user policy syncs them), not in the User Service
  different   email, fullName or status differ
  orphaned    in the User Service, gone from the pool (each one confirmed with AdminGetUser)
  excluded    in the User Service, in the pool with a status the policy leaves out (an
              unconfirmed sign-up, a status not in SYNC_USER_STATUSES; confirmed with AdminGetUser)
Read-only by default. With --apply it repairs: creates the missing, patches the different, and
deletes the orphaned and the excluded, at most --max-deletes of them a run. Deletion candidates
over the cap are reported, not confirmed: run again to take them up.

Options:
  --user-pool-id ID    the pool, e.g. eu-west-1_Qx7Lm2Rt9 (required, unless --resume-from gives it)
  --apply              repair the drift (default: report only)
  --max-deletes N      deletions a run may make, 0 to 1000 (default 10); a resumed run counts the
                       deletions it made before
  --max-rps N          ListUsers requests a second, 0.2 to 25 (default 5; the quota is 30 a second
                       per account and region, shared with everything else)
  --status LIST        the Cognito statuses whose users belong in the User Service, comma-separated
                       (default: SYNC_USER_STATUSES, else CONFIRMED,EXTERNAL_PROVIDER,
                       FORCE_CHANGE_PASSWORD,RESET_REQUIRED)
  --slices N           1, 16, 256 or 4096 slices of the sub space (default: from the pool's
                       estimated size, about 10 000 users a slice; 4096 when it cannot be read)
  --report FILE        the JSON report, written after every slice and before every deletion
                       (default: ~/.local/state/cognito-user-sync/reports/, or
                       $COGNITO_USER_SYNC_REPORTS_DIR)
  --resume-from FILE   continue the run of this report at the slice it stopped at, with its
                       --apply, --max-deletes, --max-rps, --status and slices; a flag given again
                       overrides the report's value
  -h, --help           show this help

Environment: USER_SERVICE_URL, the credentials (USER_SERVICE_API_KEY_SECRET_ID…), the user policy
(SYNC_USER_STATUSES, DEFAULT_USER_STATUS, DEFAULT_USER_ROLE, DISABLED_USER_STATUS), and the AWS
SDK's own. The region is the pool's.

Exit status: 0 when the pool and the User Service are in step (with --apply: once repaired);
3 when drift is found (with --apply: drift left, such as deletion candidates over --max-deletes);
1 for an error (a listing or a repair failed, a list that never ends); 2 for a usage error; 129,
130 or 143 when stopped by SIGHUP, SIGINT or SIGTERM (resume with --resume-from).`;

const SLICE_CHOICES = new Map([
  [1, 0],
  [16, 1],
  [256, 2],
  [4096, 3],
]);
/** One repair's time with the User Service, retries included. */
const REPAIR_BUDGET_MS = 30_000;
const DEFAULT_MAX_DELETES = 10;
const DEFAULT_MAX_RPS = 5;

interface Drifted {
  missing: string[];
  different: { cognitoSub: string; fields: string[] }[];
  orphaned: string[];
  excluded: string[];
  /** Deletion candidates over the cap: not confirmed. */
  capped: string[];
}

interface ReconcileReport {
  command: 'reconcile';
  userPoolId: string;
  apply: boolean;
  maxDeletes: number;
  maxRps?: number;
  statuses?: string[];
  sliceDigits: number;
  nextSlice: number;
  /** Deletions asked for, each counted before it was sent (absent from reports of 0.2.0). */
  deletesAsked?: number;
  complete: boolean;
  counts: ReconcileCounts;
  drift: Partial<Drifted>;
  failures: { cognitoSub: string; repair: string; reason: string }[];
}

const readReport = async (path: string): Promise<ReconcileReport> => {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `--resume-from ${path}: ${(error as { code?: string }).code ?? 'not a JSON report'}`,
    );
  }
  if (
    !isRecord(value) ||
    value.command !== 'reconcile' ||
    typeof value.userPoolId !== 'string' ||
    !Number.isSafeInteger(value.nextSlice) ||
    !Number.isSafeInteger(value.sliceDigits) ||
    !Number.isSafeInteger(value.maxDeletes) ||
    !isRecord(value.counts) ||
    !isRecord(value.drift) ||
    !Array.isArray(value.failures)
  ) {
    throw new UsageError(`--resume-from ${path} is not a reconcile report`);
  }
  return value as unknown as ReconcileReport;
};

/** Deletions a report says were asked for: a 0.2.0 report counted only those done, and those that failed. */
const askedIn = (report: ReconcileReport): number =>
  report.deletesAsked ??
  report.counts.deleted + report.failures.filter((failure) => failure.repair === 'delete').length;

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

/**
 * A run's limit: the flag when given, else the resumed report's, else the default; and, for a
 * resumed run, a line saying which holds.
 */
const limitOf = <T>(
  flag: string,
  given: T | undefined,
  reported: T | undefined,
  fallback: T,
  shown: (value: T) => string,
  resuming: boolean,
): { value: T; note?: string } => {
  if (given !== undefined) {
    const overrides = resuming && reported !== undefined && shown(reported) !== shown(given);
    return {
      value: given,
      ...(overrides && {
        note: `${flag} ${shown(given)} (given: overrides the report's ${shown(reported)})`,
      }),
    };
  }
  if (reported !== undefined)
    return { value: reported, note: `${flag} ${shown(reported)} (from the report)` };
  return { value: fallback };
};

export const reconcile = async (args: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
      'user-pool-id': { type: 'string' },
      apply: { type: 'boolean' },
      'max-deletes': { type: 'string' },
      'max-rps': { type: 'string' },
      status: { type: 'string' },
      slices: { type: 'string' },
      report: { type: 'string' },
      'resume-from': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(RECONCILE_USAGE);
    return 0;
  }
  const earlier = values['resume-from'] ? await readReport(values['resume-from']) : undefined;
  const resuming = earlier !== undefined;
  const userPoolId = values['user-pool-id'] ?? earlier?.userPoolId;
  if (!userPoolId) throw new UsageError('--user-pool-id is required');
  if (earlier && earlier.userPoolId !== userPoolId) {
    throw new UsageError(
      `--user-pool-id ${userPoolId} is not the pool of the report (${earlier.userPoolId})`,
    );
  }
  const region = regionOfUserPool(userPoolId);
  if (!region) throw new UsageError(`--user-pool-id ${userPoolId} is not a user pool id (region_id)`);
  const slicesFlag = values.slices === undefined ? undefined : Number(values.slices);
  if (slicesFlag !== undefined && !SLICE_CHOICES.has(slicesFlag))
    throw new UsageError('--slices must be 1, 16, 256 or 4096');
  if (earlier && slicesFlag !== undefined && SLICE_CHOICES.get(slicesFlag) !== earlier.sliceDigits) {
    throw new UsageError(
      `--slices cannot change a run being resumed (it has ${sliceCount(earlier.sliceDigits)})`,
    );
  }

  // The run's limits: a resumed run keeps its own unless a flag is given again.
  const apply = limitOf(
    '--apply',
    values.apply,
    earlier?.apply,
    false,
    (on) => (on ? 'on' : 'off'),
    resuming,
  );
  const maxDeletes = limitOf(
    '--max-deletes',
    values['max-deletes'] === undefined ? undefined : number(values['max-deletes'], '--max-deletes', 0, 1000),
    earlier?.maxDeletes,
    DEFAULT_MAX_DELETES,
    String,
    resuming,
  );
  const maxRps = limitOf(
    '--max-rps',
    values['max-rps'] === undefined ? undefined : number(values['max-rps'], '--max-rps', 0.2, 25, false),
    earlier?.maxRps,
    DEFAULT_MAX_RPS,
    String,
    resuming,
  );
  const configured = readUserPolicy();
  const statuses = limitOf(
    '--status',
    values.status === undefined ? undefined : [...statusesOfFlag(values.status)],
    earlier?.statuses,
    [...configured.statuses],
    (list) => list.join(','),
    resuming,
  );
  const policy: UserPolicy = { ...configured, statuses: new Set(statuses.value) };
  if (earlier?.complete) {
    io.out(`The run of ${values['resume-from']} is complete: nothing to resume.`);
    return 0;
  }

  const cognito = new CognitoIdentityProviderClient({ ...AWS_CLIENT_PROFILES.cli, region });
  const control = controlRun(io);
  let sliceDigits: number;
  let estimate: number | undefined;
  if (earlier) sliceDigits = earlier.sliceDigits;
  else if (slicesFlag !== undefined) sliceDigits = SLICE_CHOICES.get(slicesFlag) ?? 0;
  else {
    const slicing = await sliceThePool(cognito, userPoolId, { signal: control.signal }).catch((error) => {
      control.dispose();
      throw error;
    });
    ({ sliceDigits, estimate } = slicing);
    if (slicing.unknownBecause !== undefined) {
      io.err(
        `The pool's size could not be read (DescribeUserPool: ${slicing.unknownBecause}): comparing it in ` +
          `${sliceCount(sliceDigits)} slices. For a small pool, pass --slices 1.`,
      );
    }
  }
  const slices = sliceCount(sliceDigits);

  const config = readUserServiceConfig();
  const credentials = await loadCredentials(
    credentialSources(process.env),
    secretsManagerGetter(() => new SecretsManagerClient(AWS_CLIENT_PROFILES.cli)),
  ).catch((error) => {
    control.dispose();
    throw error;
  });
  const userService = createUserServiceClient({ ...config, baseBackoffMs: 200, maxBackoffMs: 5000 });

  const startedAt = new Date();
  const counts: ReconcileCounts = earlier
    ? { ...emptyReconcileCounts(slices), ...earlier.counts }
    : emptyReconcileCounts(slices);
  const drift: Drifted = {
    missing: [...(earlier?.drift.missing ?? [])],
    different: [...(earlier?.drift.different ?? [])],
    orphaned: [...(earlier?.drift.orphaned ?? [])],
    excluded: [...(earlier?.drift.excluded ?? [])],
    capped: [...(earlier?.drift.capped ?? [])],
  };
  const failures: ReconcileReport['failures'] = earlier ? [...earlier.failures] : [];
  const budget: DeletionBudget = { max: maxDeletes.value, asked: earlier ? askedIn(earlier) : 0 };
  let nextSlice = earlier?.nextSlice ?? 0;
  let deleting: string | undefined;
  let stoppedBy: string | undefined;
  const reportOf = (finished?: Date) => ({
    command: 'reconcile',
    version: VERSION,
    userPoolId,
    apply: apply.value,
    maxDeletes: budget.max,
    maxRps: maxRps.value,
    statuses: statuses.value,
    sliceDigits,
    nextSlice,
    deletesAsked: budget.asked,
    ...(deleting && { deleting }),
    ...(values['resume-from'] && { resumedFrom: values['resume-from'] }),
    startedAt: startedAt.toISOString(),
    updatedAt: new Date().toISOString(),
    ...(finished && { finishedAt: finished.toISOString() }),
    complete: nextSlice >= slices,
    ...(stoppedBy && { stoppedBy }),
    counts,
    drift,
    failures,
  });
  const report = await openReport(
    values.report ?? defaultReportPath('reconcile', userPoolId, startedAt),
    reportOf(),
  ).catch((error) => {
    control.dispose();
    throw error;
  });

  const progress = createProgress(process.stderr, estimate);
  let seen = 0;
  const listPacer = createPacer({ maxRps: maxRps.value });
  const sources = reconcileSources({
    cognito,
    userPoolId,
    userService,
    credentials,
    policy,
    listPacer,
    getPacer: createPacer({ maxRps: 20 }),
    signal: control.signal,
    onPoolPage: (users) => {
      seen += users;
      progress.update(seen, `slice ${nextSlice + 1} of ${slices}`);
    },
  });
  const write = { credentials, retryLimit: 4 };
  const repaired = (result: WriteResult, sub: string, repair: string): boolean => {
    if (result.outcome !== undefined) return true;
    counts.failed++;
    failures.push({ cognitoSub: sub, repair, reason: result.reason });
    return false;
  };

  io.out(
    `${apply.value ? 'Reconciling' : 'Dry run: comparing'} ${userPoolId} with the User Service, in ${slices} ` +
      `slice(s), at most ${maxRps.value} ListUsers/s, at most ${budget.max} deletion(s)` +
      `${apply.value ? '' : ' (what --apply would make)'}${earlier ? `, resuming at slice ${nextSlice + 1}` : ''}`,
  );
  if (earlier) {
    io.out(`Resuming ${values['resume-from']}; the run's limits:`);
    for (const limit of [apply, maxDeletes, maxRps, statuses]) if (limit.note) io.out(`  ${limit.note}`);
    io.out(
      `  ${budget.asked} deletion(s) asked for already; ${deletesLeft(budget)} left under --max-deletes ${budget.max}`,
    );
  }
  try {
    while (nextSlice < slices && control.stoppedBy() === undefined) {
      // A dry run counts the deletions --apply would make, so it confirms no more candidates than --apply would.
      const plan = await planSlice(slicePrefix(sliceDigits, nextSlice), sources, deletesLeft(budget));
      countSlice(counts, plan);
      drift.missing.push(...plan.drift.missing.map((user) => user.sub));
      drift.different.push(
        ...plan.drift.different.map(({ user, fields }) => ({ cognitoSub: user.sub, fields })),
      );
      for (const { sub, kind } of plan.removals) drift[kind].push(sub);
      drift.capped.push(...plan.capped);
      if (!apply.value) budget.asked += plan.removals.length;
      else {
        for (const user of plan.drift.missing) {
          const created = await userService.createUser(recordOf(policy, user), {
            ...write,
            idempotencyKey: idempotencyKey(userPoolId, user.sub),
            deadline: startDeadline(REPAIR_BUDGET_MS),
          });
          if (repaired(created, user.sub, 'create')) counts.created++;
        }
        for (const { user } of plan.drift.different) {
          const patch = patchOf(policy, user);
          const patched = await userService.patchUser(user.sub, patch, {
            ...write,
            idempotencyKey: writeKey(userPoolId, user.sub, { method: 'PATCH', body: JSON.stringify(patch) }),
            deadline: startDeadline(REPAIR_BUDGET_MS),
          });
          if (repaired(patched, user.sub, 'patch')) counts.updated++;
        }
        for (const { sub } of plan.removals) {
          // Counted, and written down, before it is sent: a run killed now and resumed counts it.
          budget.asked++;
          deleting = sub;
          await report.write(reportOf());
          const deleted = await userService.deleteUser(sub, {
            ...write,
            idempotencyKey: writeKey(userPoolId, sub, { method: 'DELETE' }),
            deadline: startDeadline(REPAIR_BUDGET_MS),
          });
          deleting = undefined;
          if (repaired(deleted, sub, 'delete')) counts.deleted++;
        }
      }
      nextSlice++;
      await report.write(reportOf());
    }
  } catch (error) {
    if (control.stoppedBy() === undefined) {
      stoppedBy = `failed: ${failureCode(error).replace(/^error-/, '')}`;
      io.err(
        `Slice ${nextSlice + 1} could not be compared: ${describeOperatorError(error) ?? (error as Error).message}`,
      );
    }
  } finally {
    control.dispose();
    progress.finish();
  }
  if (control.stoppedBy()) stoppedBy = 'interrupted';
  const finishedAt = new Date();
  await report.write(reportOf(finishedAt));

  const complete = nextSlice >= slices;
  io.out(
    `${complete ? 'Done' : 'Stopped'}: ${counts.checked} users checked in ${counts.slicesDone} of ${slices} slice(s), ` +
      `${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1)} s, ${listPacer.throttles} throttle(s)`,
  );
  const rows: [string, number][] = [
    ['in step', counts.inStep],
    ['missing', counts.missing],
    ['different', counts.different],
    ['orphaned', counts.orphaned],
    ['excluded', counts.excluded],
    ['over the cap', counts.deletesCapped],
    ...(apply.value
      ? ([
          ['created', counts.created],
          ['updated', counts.updated],
          ['deleted', counts.deleted],
          ['failed', counts.failed],
        ] as [string, number][])
      : []),
  ];
  for (const [label, count] of rows) io.out(`  ${label.padEnd(18)}${String(count).padStart(8)}`);
  if (counts.deletesCapped > 0) {
    io.out(
      `--max-deletes ${budget.max} reached: ${counts.deletesCapped} deletion candidate(s) not confirmed; run again to take them up.`,
    );
  }
  if (!complete) io.out(`Resume with: cognito-user-sync reconcile --resume-from ${report.path}`);
  io.out(`Report: ${report.path}`);

  const signalled = control.exitCode();
  if (signalled !== undefined) return signalled;
  if (!complete || counts.failed > 0) return 1;
  if (!apply.value) return driftOf(counts) > 0 ? 3 : 0;
  return counts.deletesCapped > 0 ? 3 : 0;
};
