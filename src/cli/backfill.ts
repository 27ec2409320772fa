// `backfill`: creates in the User Service every user of a pool it should have, mapped exactly as
// the trigger maps them and sent with the same idempotent client, so a re-run creates nothing.

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { estimatedUserCount, listUserPages, regionOfUserPool } from '../clients/cognito-users.js';
import { credentialSources, loadCredentials, secretsManagerGetter } from '../clients/credentials.js';
import { createUserServiceClient } from '../clients/user-service.js';
import { readUserDefaults, readUserServiceConfig } from '../config.js';
import { type BackfillResult, DEFAULT_STATUSES, runBackfill, USER_STATUSES } from '../core/backfill.js';
import { startDeadline } from '../core/deadline.js';
import { UsageError } from '../errors.js';
import { createProgress } from './progress.js';
import type { Io } from './usage.js';

export const BACKFILL_USAGE = `Usage: cognito-user-sync backfill --user-pool-id ID [options]

Creates in the User Service every user of the pool whose status is selected, mapped as the
post-confirmation trigger maps them and sent with the same idempotency key: users that exist
already answer 409 and count as "already existed", so a second run creates nothing.

Options:
  --user-pool-id ID      the pool, e.g. eu-west-1_Qx7Lm2Rt9 (required)
  --status LIST          statuses to sync, comma-separated (default CONFIRMED,EXTERNAL_PROVIDER)
  --concurrency N        users sent at once, 1 to 64 (default 8)
  --dry-run              list and map the users, send nothing
  --report FILE          where to write the JSON report (default backfill-<pool>-<time>.json)
  --resume-token TOKEN   start from this pagination token (printed by an earlier run)
  -h, --help             show this help

Environment: USER_SERVICE_URL, USER_SERVICE_API_KEY_SECRET_ID or USER_SERVICE_API_KEY,
USER_SERVICE_SIGNING_SECRET_ID or USER_SERVICE_SIGNING_SECRET, USER_SERVICE_TIMEOUT_MS,
DEFAULT_USER_STATUS, DEFAULT_USER_ROLE, and the AWS SDK's own
(credentials; AWS_ENDPOINT_URL). The region is the pool's.

Exit status: 0 when every selected user is in the User Service, 1 when a user or a page failed
(the report lists them; run again, or resume), 2 for a usage error.`;

const DEFAULT_CONCURRENCY = 8;
/** One user's time with the User Service, retries included. */
const USER_BUDGET_MS = 30_000;

const parseStatuses = (value: string): Set<string> => {
  const statuses = value.split(',').map((status) => status.trim().toUpperCase());
  const unknown = statuses.filter((status) => !(USER_STATUSES as readonly string[]).includes(status));
  if (unknown.length > 0 || statuses.length === 0) {
    throw new UsageError(`--status takes ${USER_STATUSES.join(', ')}; got ${value}`);
  }
  return new Set(statuses);
};

const summaryLine = ({ counts, pages }: BackfillResult, dryRun: boolean): string =>
  dryRun
    ? `page ${pages}: ${counts.seen} users seen, ${counts.wouldSend} to send, ${counts.skipped} skipped`
    : `page ${pages}: ${counts.seen} users seen, ${counts.created} created, ${counts.exists} already existed, ` +
      `${counts.skipped} skipped, ${counts.failed} failed`;

export const backfill = async (args: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
      'user-pool-id': { type: 'string' },
      status: { type: 'string', default: DEFAULT_STATUSES.join(',') },
      concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
      'dry-run': { type: 'boolean', default: false },
      report: { type: 'string' },
      'resume-token': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(BACKFILL_USAGE);
    return 0;
  }
  const userPoolId = values['user-pool-id'];
  if (!userPoolId) throw new UsageError('--user-pool-id is required');
  const region = regionOfUserPool(userPoolId);
  if (!region) throw new UsageError(`--user-pool-id ${userPoolId} is not a user pool id (region_id)`);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new UsageError('--concurrency must be a whole number from 1 to 64');
  }
  const statuses = parseStatuses(values.status);
  const dryRun = values['dry-run'];
  const startedAt = new Date();
  const reportPath =
    values.report ?? `backfill-${userPoolId}-${startedAt.toISOString().replace(/[-:]|\.\d+/g, '')}.json`;

  const userDefaults = readUserDefaults();
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
  const total = await estimatedUserCount(cognito, userPoolId);
  const progress = createProgress(process.stderr, total);
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    io.err('\nInterrupted: finishing the current page, then stopping.');
  };
  process.once('SIGINT', onInterrupt);

  io.out(
    `${dryRun ? 'Dry run: listing' : 'Backfilling'} ${userPoolId} (statuses ${[...statuses].join(', ')}, ` +
      `concurrency ${concurrency})${values['resume-token'] ? ', resuming' : ''}`,
  );
  const result = await runBackfill({
    userPoolId,
    pages: listUserPages(cognito, userPoolId, values['resume-token']),
    ...(values['resume-token'] !== undefined && { startToken: values['resume-token'] }),
    statuses,
    userDefaults,
    dryRun,
    concurrency,
    send,
    onPage: (current) => progress.update(current.counts.seen, summaryLine(current, dryRun)),
    shouldStop: () => interrupted,
  }).finally(() => {
    process.removeListener('SIGINT', onInterrupt);
    progress.finish();
  });
  const finishedAt = new Date();

  const { counts } = result;
  const complete = result.stoppedBy === undefined;
  await writeFile(
    reportPath,
    `${JSON.stringify(
      {
        userPoolId,
        dryRun,
        statuses: [...statuses],
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        complete,
        ...(result.stoppedBy && { stoppedBy: result.stoppedBy }),
        pages: result.pages,
        resumeToken: result.resumeToken ?? null,
        counts,
        failures: result.failures,
      },
      null,
      2,
    )}\n`,
  );

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
        ? 'The run was interrupted.'
        : `A page of users could not be listed (${result.stoppedBy}).`,
    );
  }
  if (result.resumeToken !== undefined) {
    io.out(`Last pagination token (resume with --resume-token): ${result.resumeToken}`);
  }
  io.out(`Report: ${reportPath}`);
  if (interrupted) return 130;
  return complete && counts.failed === 0 ? 0 : 1;
};
