// `reconcile`: compares a pool with the User Service, slice by slice of the sub space, and reports
// the drift by kind; read-only unless --apply, deletions capped per run. Resumable from its
// report; paced under ListUsers' shared quota. The scheduled run in AWS does the same work
// across Lambda invocations (src/handlers/reconcile.ts).

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { estimatedUserCount, regionOfUserPool } from '../clients/cognito-users.js';
import { credentialSources, loadCredentials, secretsManagerGetter } from '../clients/credentials.js';
import { createPacer } from '../clients/pacer.js';
import { createUserServiceClient, type WriteResult } from '../clients/user-service.js';
import { readUserPolicy, readUserServiceConfig } from '../config.js';
import { startDeadline } from '../core/deadline.js';
import { idempotencyKey, writeKey } from '../core/idempotency.js';
import {
  countSlice,
  emptyReconcileCounts,
  type ReconcileCounts,
  reconcileSlice,
  sliceDigitsFor,
  slicePrefixes,
} from '../core/reconcile.js';
import { reconcileSources } from '../core/reconcile-sources.js';
import { patchOf, recordOf } from '../core/user-policy.js';
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
Read-only by default. With --apply it repairs: creates the missing, patches the different, and
deletes the orphaned, at most --max-deletes of them a run.

Options:
  --user-pool-id ID    the pool, e.g. eu-west-1_Qx7Lm2Rt9 (required, unless --resume-from gives it)
  --apply              repair the drift (default: report only)
  --max-deletes N      deletions a run may make, 0 to 1000 (default 10)
  --max-rps N          ListUsers requests a second, 0.2 to 25 (default 5; the quota is 30 a second
                       per account and region, shared with everything else)
  --slices N           1, 16, 256 or 4096 slices of the sub space (default: from the pool's
                       estimated size, about 10 000 users a slice)
  --report FILE        the JSON report, written after every slice (default:
                       ~/.local/state/cognito-user-sync/reports/, or $COGNITO_USER_SYNC_REPORTS_DIR)
  --resume-from FILE   continue the run of this report at the slice it stopped at
  -h, --help           show this help

Environment: USER_SERVICE_URL, the credentials (USER_SERVICE_API_KEY_SECRET_ID…), the user policy
(SYNC_USER_STATUSES, DEFAULT_USER_STATUS, DEFAULT_USER_ROLE, DISABLED_USER_STATUS), and the AWS
SDK's own. The region is the pool's.

Exit status: 0 when the pool and the User Service are in step (with --apply: once repaired);
3 when drift is found (with --apply: drift left, such as orphans over --max-deletes); 1 for an
error (a listing or a repair failed); 2 for a usage error; 129, 130 or 143 when stopped by
SIGHUP, SIGINT or SIGTERM (resume with --resume-from).`;

const SLICE_CHOICES = new Map([
  [1, 0],
  [16, 1],
  [256, 2],
  [4096, 3],
]);
/** One repair's time with the User Service, retries included. */
const REPAIR_BUDGET_MS = 30_000;

interface Drifted {
  missing: string[];
  different: { cognitoSub: string; fields: string[] }[];
  orphaned: string[];
}

interface ReconcileReport {
  command: 'reconcile';
  userPoolId: string;
  apply: boolean;
  maxDeletes: number;
  sliceDigits: number;
  nextSlice: number;
  complete: boolean;
  counts: ReconcileCounts;
  drift: Drifted;
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
  if (!isRecord(value) || value.command !== 'reconcile' || typeof value.nextSlice !== 'number') {
    throw new UsageError(`--resume-from ${path} is not a reconcile report`);
  }
  return value as unknown as ReconcileReport;
};

const number = (value: string, flag: string, min: number, max: number, integer = true): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(`${flag} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return parsed;
};

export const reconcile = async (args: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
      'user-pool-id': { type: 'string' },
      apply: { type: 'boolean', default: false },
      'max-deletes': { type: 'string', default: '10' },
      'max-rps': { type: 'string', default: '5' },
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
  const userPoolId = values['user-pool-id'] ?? earlier?.userPoolId;
  if (!userPoolId) throw new UsageError('--user-pool-id is required');
  if (earlier && earlier.userPoolId !== userPoolId) {
    throw new UsageError(
      `--user-pool-id ${userPoolId} is not the pool of the report (${earlier.userPoolId})`,
    );
  }
  const region = regionOfUserPool(userPoolId);
  if (!region) throw new UsageError(`--user-pool-id ${userPoolId} is not a user pool id (region_id)`);
  const apply = values.apply || (earlier?.apply ?? false);
  const maxDeletes = number(values['max-deletes'], '--max-deletes', 0, 1000);
  const maxRps = number(values['max-rps'], '--max-rps', 0.2, 25, false);
  const slicesFlag = values.slices === undefined ? undefined : Number(values.slices);
  if (slicesFlag !== undefined && !SLICE_CHOICES.has(slicesFlag))
    throw new UsageError('--slices must be 1, 16, 256 or 4096');
  if (earlier?.complete) {
    io.out(`The run of ${values['resume-from']} is complete: nothing to resume.`);
    return 0;
  }
  const policy = readUserPolicy();
  const cognito = new CognitoIdentityProviderClient({ ...AWS_CLIENT_PROFILES.cli, region });
  const estimate = await estimatedUserCount(cognito, userPoolId);
  const sliceDigits =
    earlier?.sliceDigits ??
    (slicesFlag !== undefined ? (SLICE_CHOICES.get(slicesFlag) ?? 0) : sliceDigitsFor(estimate));
  const prefixes = slicePrefixes(sliceDigits);

  const config = readUserServiceConfig();
  const credentials = await loadCredentials(
    credentialSources(process.env),
    secretsManagerGetter(() => new SecretsManagerClient(AWS_CLIENT_PROFILES.cli)),
  );
  const userService = createUserServiceClient({ ...config, baseBackoffMs: 200, maxBackoffMs: 5000 });

  const startedAt = new Date();
  const counts = earlier ? { ...earlier.counts } : emptyReconcileCounts(prefixes.length);
  const drift: Drifted = earlier
    ? structuredClone(earlier.drift)
    : { missing: [], different: [], orphaned: [] };
  const failures: ReconcileReport['failures'] = earlier ? [...earlier.failures] : [];
  let nextSlice = earlier?.nextSlice ?? 0;
  let deletesLeft = Math.max(0, maxDeletes - (earlier ? counts.deleted : 0));
  let stoppedBy: string | undefined;
  const reportOf = (finished?: Date) => ({
    command: 'reconcile',
    version: VERSION,
    userPoolId,
    apply,
    maxDeletes,
    sliceDigits,
    nextSlice,
    ...(values['resume-from'] && { resumedFrom: values['resume-from'] }),
    startedAt: startedAt.toISOString(),
    updatedAt: new Date().toISOString(),
    ...(finished && { finishedAt: finished.toISOString() }),
    complete: nextSlice >= prefixes.length,
    ...(stoppedBy && { stoppedBy }),
    counts,
    drift,
    failures,
  });
  const report = await openReport(
    values.report ?? defaultReportPath('reconcile', userPoolId, startedAt),
    reportOf(),
  );

  const control = controlRun(io);
  const progress = createProgress(process.stderr, estimate);
  let seen = 0;
  const listPacer = createPacer({ maxRps });
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
      progress.update(seen, `slice ${nextSlice + 1} of ${prefixes.length}`);
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
    `${apply ? 'Reconciling' : 'Dry run: comparing'} ${userPoolId} with the User Service, in ${prefixes.length} ` +
      `slice(s), at most ${maxRps} ListUsers/s${apply ? `, at most ${maxDeletes} deletion(s)` : ''}` +
      `${earlier ? `, resuming at slice ${nextSlice + 1}` : ''}`,
  );
  try {
    while (nextSlice < prefixes.length && control.stoppedBy() === undefined) {
      const result = await reconcileSlice(prefixes[nextSlice] ?? '', sources);
      countSlice(counts, result);
      drift.missing.push(...result.drift.missing.map((user) => user.sub));
      drift.different.push(
        ...result.drift.different.map(({ user, fields }) => ({ cognitoSub: user.sub, fields })),
      );
      drift.orphaned.push(...result.orphaned);
      if (apply) {
        for (const user of result.drift.missing) {
          const created = await userService.createUser(recordOf(policy, user), {
            ...write,
            idempotencyKey: idempotencyKey(userPoolId, user.sub),
            deadline: startDeadline(REPAIR_BUDGET_MS),
          });
          if (repaired(created, user.sub, 'create')) counts.created++;
        }
        for (const { user } of result.drift.different) {
          const patch = patchOf(policy, user);
          const patched = await userService.patchUser(user.sub, patch, {
            ...write,
            idempotencyKey: writeKey(userPoolId, user.sub, { method: 'PATCH', body: JSON.stringify(patch) }),
            deadline: startDeadline(REPAIR_BUDGET_MS),
          });
          if (repaired(patched, user.sub, 'patch')) counts.updated++;
        }
        for (const sub of result.orphaned) {
          if (deletesLeft === 0) {
            counts.deletesCapped++;
            continue;
          }
          deletesLeft--;
          const deleted = await userService.deleteUser(sub, {
            ...write,
            idempotencyKey: writeKey(userPoolId, sub, { method: 'DELETE' }),
            deadline: startDeadline(REPAIR_BUDGET_MS),
          });
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

  const complete = nextSlice >= prefixes.length;
  io.out(
    `${complete ? 'Done' : 'Stopped'}: ${counts.checked} users checked in ${counts.slicesDone} of ${prefixes.length} slice(s), ` +
      `${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1)} s, ${listPacer.throttles} throttle(s)`,
  );
  const rows: [string, number][] = [
    ['in step', counts.inStep],
    ['missing', counts.missing],
    ['different', counts.different],
    ['orphaned', counts.orphaned],
    ...(apply
      ? ([
          ['created', counts.created],
          ['updated', counts.updated],
          ['deleted', counts.deleted],
          ['not deleted (cap)', counts.deletesCapped],
          ['failed', counts.failed],
        ] as [string, number][])
      : []),
  ];
  for (const [label, count] of rows) io.out(`  ${label.padEnd(18)}${String(count).padStart(8)}`);
  if (counts.deletesCapped > 0) io.out(`--max-deletes ${maxDeletes} reached: run again to delete the rest.`);
  if (!complete) io.out(`Resume with: cognito-user-sync reconcile --resume-from ${report.path}`);
  io.out(`Report: ${report.path}`);

  const signalled = control.exitCode();
  if (signalled !== undefined) return signalled;
  if (!complete || counts.failed > 0) return 1;
  const drifted = counts.missing + counts.different + counts.orphaned;
  if (!apply) return drifted > 0 ? 3 : 0;
  return counts.deletesCapped > 0 ? 3 : 0;
};
