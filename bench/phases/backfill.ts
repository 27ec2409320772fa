// Backfill: the real CLI (bin/cognito-user-sync.mjs backfill, default concurrency, under Node 22),
// from a moto pool of confirmed users into the dev User Service, at --max-rps 25: the tool's own
// throughput. At the default 5 ListUsers a second, it is paced to 300 users a second by design
// (the quota is 30 a second per account and region, shared with everything else).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { motoEnv } from '../../scripts/moto.mjs';
import { createConfirmedPool } from '../lib/aws-fixtures.js';
import { ROOT } from '../lib/processes.js';
import { time } from '../lib/progress.js';
import { BUILD, type Setup } from '../lib/setup.js';

/** The part of the CLI's --report the benchmark reads. */
interface BackfillReport {
  durationMs: number;
  complete: boolean;
  pages: number;
  counts: { seen: number; created: number; exists: number; skipped: number; failed: number };
}

export interface BackfillResult {
  users: number;
  userPoolId: string;
  populateMs: number;
  cliProcessMs: number;
  report: BackfillReport;
  usersPerSecond: number;
  usersCreatedInService: number;
  /** The CLI's last lines. */
  output: string[];
}

export const backfill = async (setup: Setup, users: number): Promise<BackfillResult> => {
  await setup.userService.reset();
  const populateStarted = performance.now();
  const { userPoolId } = await time(`creating a moto pool of ${users} confirmed users`, () =>
    createConfirmedPool(setup.moto, users, 16),
  );
  const populateMs = performance.now() - populateStarted;
  const reportPath = join(BUILD, 'backfill-report.json');
  await rm(reportPath, { force: true });
  const cli = spawn(
    setup.node22.path,
    [
      'bin/cognito-user-sync.mjs',
      'backfill',
      '--user-pool-id',
      userPoolId,
      '--max-rps',
      '25',
      '--report',
      reportPath,
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...motoEnv(setup.moto.endpoint),
        USER_SERVICE_URL: setup.userService.url,
        USER_SERVICE_API_KEY_SECRET_ID: setup.secretArn,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  cli.stdout.on('data', (chunk) => {
    output += chunk;
  });
  cli.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const started = performance.now();
  const [code] = (await time('backfill (the CLI, default concurrency)', () => once(cli, 'exit'))) as [number];
  const processMs = performance.now() - started;
  if (code !== 0) throw new Error(`backfill exited with ${code}:\n${output.slice(-4000)}`);
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as BackfillReport;
  const stats = await setup.userService.stats();
  if (report.counts.created !== users || stats.users !== users) {
    throw new Error(`backfill created ${report.counts.created} of ${users} users:\n${output.slice(-4000)}`);
  }
  return {
    users,
    userPoolId,
    populateMs,
    cliProcessMs: processMs,
    report: {
      durationMs: report.durationMs,
      complete: report.complete,
      pages: report.pages,
      counts: report.counts,
    },
    usersPerSecond: (report.counts.seen / report.durationMs) * 1000,
    usersCreatedInService: stats.users,
    output: output.trim().split('\n').slice(-8),
  };
};
