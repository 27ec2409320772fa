// `reconcile`: compares a pool with the User Service, slice by slice of the sub space, and reports
// the drift by kind; read-only unless --apply, deletions capped per run (each one recorded in the
// report before it is sent, so a run killed and resumed never passes its cap). Resumable from its
// report, with the limits it was started with; paced under ListUsers' shared quota. The plan of
// each slice is the one the scheduled run carries out (src/core/reconcile.ts). The scheduled run in AWS does the same work
// across Lambda invocations (src/handlers/reconcile.ts).

import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { createPacer } from '../clients/pacer.js';
import type { WriteResult } from '../clients/user-service.js';
import {
  defaults,
  LIST_USERS_RPS,
  MAX_DELETES,
  numberIn,
  type Parser,
  parseSlices,
  parseStatuses,
  readUserPolicy,
} from '../config.js';
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
import { belongs, patchOf, recordOf, type UserPolicy } from '../domain/user-policy.js';
import { failureCode, UsageError } from '../errors.js';
import { isRecord } from '../guards.js';
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
import { createProgress, printSummary, RUN_FLAGS, type SummaryRows, underControl } from './run.js';
import type { Io } from './usage.js';
import { openWrites } from './writes.js';

const RECONCILE = command({
  synopsis: 'Usage: cognito-user-sync reconcile --user-pool-id ID [options]',
  about: `Compares the pool with the User Service (GET ?limit&cursor&prefix) by cognitoSub, mapped as the
other paths map users, and reports the drift by kind:
  missing     in the pool (and the user policy syncs them), not in the User Service
  different   email, fullName or status differ
  orphaned    in the User Service, gone from the pool (each one confirmed with AdminGetUser)
  excluded    in the User Service, in the pool with a status the policy leaves out (an
              unconfirmed sign-up, a status not in SYNC_USER_STATUSES; confirmed with AdminGetUser)
Read-only by default. With --apply it repairs: creates the missing, patches the different, and
deletes the orphaned and the excluded, at most --max-deletes of them a run. Deletion candidates
over the cap are reported, not confirmed: run again to take them up.`,
  flags: {
    ...RUN_FLAGS,
    apply: toggle('repair the drift (default: report only)'),
    'max-deletes': option(
      'N',
      numberIn(MAX_DELETES),
      `deletions a run may make, ${MAX_DELETES.min} to ${MAX_DELETES.max} (default ${defaults.maxDeletes}); a resumed run counts the
deletions it made before`,
    ),
    slices: option(
      'N',
      parseSlices,
      `1, 16, 256 or 4096 slices of the sub space (default: from the pool's
estimated size, about 10 000 users a slice; 4096 when it cannot be read)`,
    ),
    'resume-from': text(
      'FILE',
      `continue the run of this report at the slice it stopped at, with its
--apply, --max-deletes, --max-rps, --status and slices; a flag given again
overrides the report's value (a dry run given --apply starts again at
slice 1: what it compared was reported, not repaired)`,
    ),
  },
  footer: `Environment: USER_SERVICE_URL, the credentials (USER_SERVICE_API_KEY_SECRET_ID…), the user policy
(SYNC_USER_STATUSES, DEFAULT_USER_STATUS, DEFAULT_USER_ROLE, DISABLED_USER_STATUS), and the AWS
SDK's own. The region is the pool's.

Exit status: 0 when the pool and the User Service are in step (with --apply: once repaired);
3 when drift is found (with --apply: drift left, such as deletion candidates over --max-deletes,
or a user the service dropped before its update);
1 for an error (a listing or a repair failed, a list that never ends); 2 for a usage error; 129,
130 or 143 when stopped by SIGHUP, SIGINT or SIGTERM (resume with --resume-from).`,
});

export const RECONCILE_USAGE = RECONCILE.usage;

interface Drifted {
  missing: string[];
  different: { cognitoSub: string; fields: string[] }[];
  orphaned: string[];
  excluded: string[];
  /** Deletion candidates over the cap: not confirmed. */
  capped: string[];
}

interface ReconcileReport extends RunReport {
  command: 'reconcile';
  apply: boolean;
  maxDeletes: number;
  maxRps?: number;
  statuses?: string[];
  sliceDigits: number;
  nextSlice: number;
  /** Deletions asked for, each counted before it was sent (absent from reports of 0.2.0). */
  deletesAsked?: number;
  /** A dry run: the deletions --apply would have asked for. */
  wouldDelete?: number;
  /** The completed slices' drift and failed repairs, and every repair made. */
  counts: RunCounts;
  drift: Partial<Drifted>;
  failures: Failure[];
  /**
   * The slice in hand when the report was written (a run killed, or failed, partway through it):
   * what it had found and its failed repairs, apart from the totals, for a resume does it again.
   */
  sliceInProgress?: SliceInProgress;
}

interface Failure {
  cognitoSub: string;
  repair: string;
  reason: string;
}

interface SliceInProgress {
  index: number;
  counts: RunCounts;
  drift: Drifted;
  failures: Failure[];
}

/**
 * The run's counts: the plan's (src/core/reconcile.ts), and the users the service no longer held
 * when patched (404): missing from it now, drift left for the next run, not repaired.
 */
interface RunCounts extends ReconcileCounts {
  droppedByService: number;
}

const emptyRunCounts = (slices: number): RunCounts => ({
  ...emptyReconcileCounts(slices),
  droppedByService: 0,
});

const noDrift = (): Drifted => ({ missing: [], different: [], orphaned: [], excluded: [], capped: [] });

/** Adds a slice done to the run's totals: its drift, its failed repairs (its repairs are in already). */
const addSlice = (
  totals: { counts: RunCounts; drift: Drifted; failures: Failure[] },
  slice: SliceInProgress,
): void => {
  for (const key of Object.keys(totals.counts) as (keyof RunCounts)[]) {
    if (key !== 'slices') totals.counts[key] += slice.counts[key];
  }
  totals.drift.missing.push(...slice.drift.missing);
  totals.drift.different.push(...slice.drift.different);
  totals.drift.orphaned.push(...slice.drift.orphaned);
  totals.drift.excluded.push(...slice.drift.excluded);
  totals.drift.capped.push(...slice.drift.capped);
  totals.failures.push(...slice.failures);
};

const isReconcileReport = (report: Record<string, unknown>) => isRecord(report.drift);

const isSubList = (value: unknown) => Array.isArray(value) && value.every((sub) => typeof sub === 'string');
const isFieldsList = (value: unknown) =>
  Array.isArray(value) &&
  value.every((item) => isRecord(item) && typeof item.cognitoSub === 'string' && isSubList(item.fields));

/**
 * The report of an earlier run, each value checked by the parser of the flag that sets it, and
 * against the others (deletesAsked within maxDeletes, nextSlice within the slices): a report
 * edited by hand or cut short is refused, naming the field, and lifts no limit (deletesAsked -3
 * would add three deletions to the cap; sliceDigits -1 would compare one slice in sixteen).
 */
const checkedReport = (path: string, report: ReconcileReport): ReconcileReport => {
  const source = `--resume-from ${path}`;
  const refuse = (field: string, problem: string) =>
    new UsageError(`${source}: the report's ${field} ${problem}`);
  const required = <T>(field: string, value: unknown, parse: Parser<T>): T => {
    const checked = reported(source, field, value, parse);
    if (checked === undefined) throw refuse(field, 'is missing');
    return checked;
  };
  const apply = reportedSwitch(source, 'apply', report.apply);
  if (apply === undefined) throw refuse('apply', 'is missing');
  const maxDeletes = required('maxDeletes', report.maxDeletes, numberIn(MAX_DELETES));
  const asked = numberIn({ min: 0, max: maxDeletes, unit: 'deletions' });
  const digits = report.sliceDigits;
  // The report counts slices by the hex digits of their prefix; --slices by their number.
  const sliceDigits = required(
    `sliceDigits ${JSON.stringify(digits)} (16^${JSON.stringify(digits)} slices)`,
    typeof digits === 'number' ? sliceCount(digits) : digits,
    parseSlices,
  );
  const drift = report.drift as Record<string, unknown>;
  for (const kind of ['missing', 'orphaned', 'excluded', 'capped'] as const) {
    if (drift[kind] !== undefined && !isSubList(drift[kind]))
      throw refuse(`drift.${kind}`, 'must be a list of subs');
  }
  if (drift.different !== undefined && !isFieldsList(drift.different)) {
    throw refuse('drift.different', 'must be a list of subs and their fields');
  }
  const failures: unknown[] = report.failures;
  if (!failures.every((failure) => isRecord(failure) && typeof failure.repair === 'string')) {
    throw refuse('failures', 'must be a list of failed repairs');
  }
  const reportedCounts = report.counts as unknown as Record<string, unknown>;
  const counts = emptyRunCounts(sliceCount(sliceDigits));
  for (const key of Object.keys(counts) as (keyof RunCounts)[]) {
    if (key === 'slices') continue;
    counts[key] = reported(source, `counts.${key}`, reportedCounts[key], numberIn({ min: 0 })) ?? 0;
  }
  const maxRps = reported(source, 'maxRps', report.maxRps, numberIn(LIST_USERS_RPS));
  const statuses = reported(source, 'statuses', report.statuses, parseStatuses);
  const deletesAsked = reported(source, 'deletesAsked', report.deletesAsked, asked);
  const wouldDelete = reported(source, 'wouldDelete', report.wouldDelete, asked);
  return {
    ...report,
    apply,
    maxDeletes,
    sliceDigits,
    nextSlice: required(
      'nextSlice',
      report.nextSlice,
      numberIn({ min: 0, max: sliceCount(sliceDigits), unit: 'slices' }),
    ),
    ...(maxRps !== undefined && { maxRps }),
    ...(statuses !== undefined && { statuses: [...statuses] }),
    ...(deletesAsked !== undefined && { deletesAsked }),
    ...(wouldDelete !== undefined && { wouldDelete }),
    counts,
  };
};

/**
 * Deletions a report says were asked for: a 0.2.0 report counted only those done, and those that
 * failed (never more than its cap).
 */
const askedIn = (report: ReconcileReport): number =>
  report.deletesAsked ??
  Math.min(
    report.maxDeletes,
    report.counts.deleted + report.failures.filter((failure) => failure.repair === 'delete').length,
  );

const rowsOf = (counts: RunCounts, apply: boolean): SummaryRows => [
  ['in step', counts.inStep],
  ['missing', counts.missing],
  ['different', counts.different],
  ['orphaned', counts.orphaned],
  ['excluded', counts.excluded],
  ['over the cap', counts.deletesCapped],
  ...(apply
    ? ([
        ['created', counts.created],
        ['updated', counts.updated],
        ['dropped, not updated', counts.droppedByService],
        ['deleted', counts.deleted],
        ['gone, not created', counts.gone],
        ['failed', counts.failed],
      ] as const)
    : []),
];

type ReconcileFlags = NonNullable<ReturnType<typeof RECONCILE.read>>['values'];

export const reconcile = async (args: string[], io: Io): Promise<number> => {
  const flags = RECONCILE.read(args, io);
  if (flags === undefined) return 0;
  const { values } = flags;
  // One run at a time per report (./report.ts).
  return holdingReports(io, 'reconcile', values, (startedAt) => reconcileHolding(values, io, startedAt));
};

const reconcileHolding = async (values: ReconcileFlags, io: Io, startedAt: Date): Promise<number> => {
  const resumeFrom = values['resume-from'];
  const earlier = resumeFrom
    ? checkedReport(
        resumeFrom,
        await readReport<ReconcileReport>(resumeFrom, '--resume-from', 'reconcile', isReconcileReport),
      )
    : undefined;
  const { userPoolId, region } = poolOf(values['user-pool-id'], earlier);
  if (earlier && values.slices !== undefined && values.slices !== earlier.sliceDigits) {
    throw new UsageError(
      `--slices cannot change a run being resumed (it has ${sliceCount(earlier.sliceDigits)})`,
    );
  }

  // The run's limits: a resumed run keeps its own unless a flag is given again.
  const apply = switchLimit('--apply', values.apply, earlier?.apply);
  const maxDeletes = limitOf(
    '--max-deletes',
    values['max-deletes'],
    earlier?.maxDeletes,
    defaults.maxDeletes,
  );
  const maxRps = limitOf('--max-rps', values['max-rps'], earlier?.maxRps, defaults.listUsersRps);
  const configured = readUserPolicy();
  const statuses = statusesLimit(values.status, earlier?.statuses, configured);
  const policy: UserPolicy = { ...configured, statuses: new Set(statuses.value) };
  // A dry run resumed with --apply: the slices it compared were reported, not repaired, so the
  // apply run starts again at slice 1, with the dry run's limits and none of its counts.
  const again = earlier !== undefined && !earlier.apply && apply.value;
  const carried = again ? undefined : earlier;
  if (carried?.complete) {
    io.out(`The run of ${resumeFrom} is complete: nothing to resume.`);
    return 0;
  }

  const cognito = new CognitoIdentityProviderClient({ ...AWS_CLIENT_PROFILES.cli, region });
  return underControl(io, async (control) => {
    let sliceDigits = earlier?.sliceDigits ?? values.slices;
    let estimate: number | undefined;
    if (sliceDigits === undefined) {
      const slicing = await sliceThePool(cognito, userPoolId, { signal: control.signal });
      ({ sliceDigits, estimate } = slicing);
      if (slicing.unknownBecause !== undefined) {
        io.err(
          `The pool's size could not be read (DescribeUserPool: ${slicing.unknownBecause}): comparing it in ` +
            `${sliceCount(sliceDigits)} slices. For a small pool, pass --slices 1.`,
        );
      }
    }
    const slices = sliceCount(sliceDigits);
    const writes = await openWrites();

    const counts: RunCounts = { ...emptyRunCounts(slices), ...carried?.counts };
    const drift: Drifted = {
      missing: [...(carried?.drift.missing ?? [])],
      different: [...(carried?.drift.different ?? [])],
      orphaned: [...(carried?.drift.orphaned ?? [])],
      excluded: [...(carried?.drift.excluded ?? [])],
      capped: [...(carried?.drift.capped ?? [])],
    };
    const failures: Failure[] = [...(carried?.failures ?? [])];
    // What the slice in hand finds, and its failed repairs, go to the totals once it is done: a
    // slice stopped partway is done again when resumed, and would be counted twice. The repairs
    // made count at once: the slice done again does not make them again (and the deletions asked
    // for count against the cap, whatever becomes of the slice).
    let inProgress: SliceInProgress | undefined;
    // A dry run asks for no deletion: it counts those --apply would ask for, apart (wouldDelete),
    // and an apply run that starts again from it has the whole budget.
    const asked = carried === undefined ? 0 : carried.apply ? askedIn(carried) : (carried.wouldDelete ?? 0);
    const budget: DeletionBudget = { max: maxDeletes.value, asked };
    let nextSlice = carried?.nextSlice ?? 0;
    let deleting: string | undefined;
    let stoppedBy: string | undefined;
    const reportOf = (finished?: Date) => ({
      ...reportHeading('reconcile', userPoolId, startedAt, finished),
      apply: apply.value,
      maxDeletes: budget.max,
      maxRps: maxRps.value,
      statuses: statuses.value,
      sliceDigits,
      nextSlice,
      ...(apply.value ? { deletesAsked: budget.asked } : { deletesAsked: 0, wouldDelete: budget.asked }),
      ...(deleting && { deleting }),
      ...(resumeFrom && { resumedFrom: resumeFrom }),
      complete: nextSlice >= slices,
      ...(stoppedBy && { stoppedBy }),
      counts,
      drift,
      failures,
      ...(inProgress && { sliceInProgress: inProgress }),
    });
    const report = await openReport(
      values.report,
      { command: 'reconcile', userPoolId, startedAt, resumes: resumeFrom },
      reportOf(),
    );
    io.out(`Report: ${report.path} (written after every slice and before every deletion)`);

    const progress = createProgress(process.stderr, estimate);
    let seen = 0;
    const listPacer = createPacer({ maxRps: maxRps.value });
    const sources = reconcileSources({
      cognito,
      userPoolId,
      userService: writes.client,
      credentials: writes.credentials,
      policy,
      listPacer,
      getPacer: createPacer({ maxRps: 20 }),
      signal: control.signal,
      onPoolPage: (users) => {
        seen += users;
        progress.update(seen, `slice ${nextSlice + 1} of ${slices}`);
      },
    });
    const repaired = (slice: SliceInProgress, result: WriteResult, sub: string, repair: string): boolean => {
      if (result.outcome !== undefined) return true;
      slice.counts.failed++;
      slice.failures.push({ cognitoSub: sub, repair, reason: result.reason });
      return false;
    };

    io.out(
      `${apply.value ? 'Reconciling' : 'Dry run: comparing'} ${userPoolId} with the User Service, in ${slices} ` +
        `slice(s), at most ${maxRps.value} ListUsers/s, at most ${budget.max} deletion(s)` +
        `${apply.value ? '' : ' (what --apply would make)'}${carried ? `, resuming at slice ${nextSlice + 1}` : ''}`,
    );
    if (again) {
      io.out(
        `The report is of a dry run: --apply starts again at slice 1, with its limits, since the slices it ` +
          'compared were reported, not repaired; none of its counts are carried over.',
      );
    }
    if (earlier) {
      printLimits(
        io,
        `Resuming ${resumeFrom}; the run's limits:`,
        [apply, maxDeletes, maxRps, statuses],
        [
          `${budget.asked} deletion(s) ${apply.value ? 'asked for' : 'counted'} already; ${deletesLeft(budget)} left under --max-deletes ${budget.max}`,
        ],
      );
    }
    try {
      while (nextSlice < slices && control.stoppedBy() === undefined) {
        // A dry run counts the deletions --apply would make, so it confirms no more candidates than --apply would.
        const plan = await planSlice(slicePrefix(sliceDigits, nextSlice), sources, deletesLeft(budget));
        const slice: SliceInProgress = {
          index: nextSlice,
          counts: emptyRunCounts(slices),
          drift: noDrift(),
          failures: [],
        };
        inProgress = slice;
        countSlice(slice.counts, plan);
        slice.drift.missing.push(...plan.drift.missing.map((user) => user.sub));
        slice.drift.different.push(
          ...plan.drift.different.map(({ user, fields }) => ({ cognitoSub: user.sub, fields })),
        );
        for (const { sub, kind } of plan.removals) slice.drift[kind].push(sub);
        slice.drift.capped.push(...plan.capped);
        if (!apply.value) budget.asked += plan.removals.length;
        else {
          for (const listed of plan.drift.missing) {
            // ListUsers is eventually consistent: a user deleted a moment ago may still be listed.
            // Cognito is asked again (AdminGetUser) before a user is created, with what it holds
            // now: a deleted user is never brought back.
            const user = await sources.lookup(listed.sub);
            if (user === undefined || !belongs(policy, user.status)) {
              slice.counts.gone++;
              continue;
            }
            const created = await writes.create(recordOf(policy, user), idempotencyKey(userPoolId, user.sub));
            if (repaired(slice, created, user.sub, 'create')) counts.created++;
          }
          for (const { user } of plan.drift.different) {
            const patch = patchOf(policy, user);
            const key = writeKey(userPoolId, user.sub, { method: 'PATCH', body: JSON.stringify(patch) });
            const patched = await writes.patch(user.sub, patch, key);
            // A 404: the service dropped the user meanwhile; missing now, not repaired.
            if (patched.outcome === 'missing') slice.counts.droppedByService++;
            else if (repaired(slice, patched, user.sub, 'patch')) counts.updated++;
          }
          for (const { sub } of plan.removals) {
            // Counted, and written down, before it is sent: a run killed now and resumed counts it.
            budget.asked++;
            deleting = sub;
            await report.write(reportOf());
            const deleted = await writes.remove(sub, writeKey(userPoolId, sub, { method: 'DELETE' }));
            deleting = undefined;
            if (repaired(slice, deleted, sub, 'delete')) counts.deleted++;
          }
        }
        addSlice({ counts, drift, failures }, slice);
        inProgress = undefined;
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
      progress.finish();
    }
    if (control.stoppedBy()) stoppedBy = 'interrupted';
    const finishedAt = new Date();
    await report.write(reportOf(finishedAt));

    const complete = nextSlice >= slices;
    printSummary(io, {
      complete,
      what:
        `${counts.checked} users checked in ${counts.slicesDone} of ${slices} slice(s), ` +
        `${listPacer.throttles} throttle(s)`,
      startedAt,
      finishedAt,
      rows: rowsOf(counts, apply.value),
      next: [
        ...(inProgress
          ? [
              `Slice ${inProgress.index + 1} stopped partway: what it found is left out of these counts (a resume compares it again); the repairs it made are in.`,
            ]
          : []),
        ...(counts.droppedByService > 0
          ? [
              `${counts.droppedByService} user(s) the User Service no longer held when patched (404): missing from it now; run again to create them.`,
            ]
          : []),
        ...(counts.deletesCapped > 0
          ? [
              `--max-deletes ${budget.max} reached: ${counts.deletesCapped} deletion candidate(s) not confirmed; run again to take them up.`,
            ]
          : []),
      ],
      command: 'reconcile',
      reportPath: report.path,
    });

    const signalled = control.exitCode();
    if (signalled !== undefined) return signalled;
    if (!complete || counts.failed > 0) return 1;
    if (!apply.value) return driftOf(counts) > 0 ? 3 : 0;
    return counts.deletesCapped + counts.droppedByService > 0 ? 3 : 0;
  });
};
