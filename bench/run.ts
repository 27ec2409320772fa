// `npm run bench`: builds the real zips and measures, in one run and side by side, the shipped
// post-confirmation handler and the bare-fetch floor (bench/baseline-handler.mjs, bundled the
// same way), both under Node 22 loaded as the nodejs22.x runtime loads them; then the retry
// worker's and the backfill's throughput; then the burst phase (issue 22): both zips scaled as Lambda
// scales them against a User Service with a capacity. This file reads the options and runs the phases
// (bench/phases/), bench/lib/report.ts prints the table against the budgets and writes the
// results. bench/README.md says what each figure means.

import os from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, resolveNode22 } from './lib/processes.js';
import { progress, time } from './lib/progress.js';
import { type BenchConfig, type PhaseResults, report } from './lib/report.js';
import { NODE_FLAGS, setUp, tearDown } from './lib/setup.js';
import { backfill } from './phases/backfill.js';
import { burst, SCENARIOS } from './phases/burst.js';
import { cold } from './phases/cold.js';
import { deadline } from './phases/deadline.js';
import { fullSourceMap, profile } from './phases/profile.js';
import { build, unpack } from './phases/size.js';
import { warm } from './phases/warm.js';
import { worker } from './phases/worker.js';

// The fixtures' own SDK clients run in this process, which may be Node 20: no nagging about it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// scripts/package.mjs builds from paths relative to the package's root.
process.chdir(ROOT);

const ALL_PHASES = ['size', 'cold', 'warm', 'deadline', 'worker', 'backfill', 'burst'];
const ALL_SCENARIOS = SCENARIOS.map(({ id }) => id);

const { values: options } = parseArgs({
  options: {
    cold: { type: 'string', default: '30' },
    warm: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '200' },
    'deadline-invocations': { type: 'string', default: '20' },
    deadlines: { type: 'string', default: '1000,3500' },
    messages: { type: 'string', default: '1000' },
    users: { type: 'string', default: '10000' },
    'burst-scale': { type: 'string', default: '5' },
    scenarios: { type: 'string', default: ALL_SCENARIOS.join(',') },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results.json' },
    raw: { type: 'string', default: 'bench/.build/results-raw.json' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (options.help) {
  console.log(`Usage: npm run bench -- [options]

  --cold N                    fresh processes per handler for the cold start (default 30, at least 20)
  --warm N                    timed warm invocations per handler (default 5000, at least 2000)
  --warmup N                  warm-up invocations before them (default 200)
  --deadlines LIST            SYNC_DEADLINE_MS values to check adherence for (default 1000,3500)
  --deadline-invocations N    invocations per deadline (default 20)
  --messages N                retry-queue messages for the worker's throughput (default 1000)
  --users N                   pool size for the backfill's throughput (default 10000)
  --burst-scale N             the burst phase divides every duration by N (default 5; 1 runs the issue's
                              scenarios at full length, S4 alone then takes over 5 minutes)
  --scenarios LIST            the burst phase's scenarios: ${ALL_SCENARIOS.join(',')} (default all)
  --only LIST                 phases to run: ${ALL_PHASES.join(',')} (default all)
  --profile                   also profile the handlers (--cpu-prof, apart from the timed runs) and
                              say where their cold start and warm CPU time go, package by package
  --skip-build                measure the zips already in dist/ and bench/.build/
  --strict                    exit 1 when a budget is not met
  --out FILE                  the summary, to commit (default bench/results.json)
  --raw FILE                  every figure, raw samples included (default bench/.build/results-raw.json)

  FILEs are relative to the package's root, or absolute.`);
  process.exit(0);
}

const count = (name: keyof typeof options, min = 1): number => {
  const value = Number(options[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
  return value;
};
const deadlines = String(options.deadlines)
  .split(',')
  .map((value) => Number(value.trim()));
if (deadlines.some((value) => !Number.isInteger(value) || value < 200 || value > 4800)) {
  throw new Error('--deadlines takes SYNC_DEADLINE_MS values, whole numbers from 200 to 4800');
}
const scenarios = String(options.scenarios)
  .split(',')
  .map((id) => id.trim().toUpperCase());
const unknownScenarios = scenarios.filter((id) => !ALL_SCENARIOS.includes(id));
if (unknownScenarios.length > 0) {
  throw new Error(`--scenarios: no scenario ${unknownScenarios.join(', ')} (${ALL_SCENARIOS.join(', ')})`);
}
const phases = new Set((options.only ?? ALL_PHASES.join(',')).split(',').map((phase) => phase.trim()));
const unknown = [...phases].filter((phase) => !ALL_PHASES.includes(phase));
if (unknown.length > 0) throw new Error(`--only: no phase ${unknown.join(', ')} (${ALL_PHASES.join(', ')})`);
if (options.profile) phases.add('profile');

const config: BenchConfig = {
  coldRuns: count('cold'),
  warmup: count('warmup', 0),
  warmRuns: count('warm'),
  deadlines,
  deadlineInvocations: count('deadline-invocations'),
  messages: count('messages'),
  users: count('users'),
  burstScale: count('burst-scale'),
  burstScenarios: scenarios,
  phases: [...phases],
};

const main = async () => {
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  const node22 = resolveNode22();
  progress(`measured processes run under Node ${node22.version} (${node22.path})`);

  if (!options['skip-build']) await time('building the zips (scripts/package.mjs)', build);
  const sizes = await unpack();
  // Built now, from the same sources as the zips: the profile maps the shipped code with it.
  const shippedMap = phases.has('profile') ? await fullSourceMap() : undefined;

  const results: PhaseResults = {};
  const errors: Record<string, string> = {};
  const setup = await time('starting moto, the X-Ray sink and the User Service', () => setUp(node22));
  const phase = async <K extends keyof PhaseResults>(
    name: K,
    work: () => Promise<NonNullable<PhaseResults[K]>>,
  ) => {
    if (!phases.has(name)) return;
    try {
      results[name] = await time(name, work);
    } catch (error) {
      errors[name] = error instanceof Error ? error.message : String(error);
      progress(`${name} failed: ${errors[name]}`);
    }
  };
  try {
    await phase('cold', () => cold(setup, config.coldRuns));
    await phase('warm', () => warm(setup, { warmup: config.warmup, runs: config.warmRuns }));
    await phase('deadline', () =>
      deadline(setup, { deadlines: config.deadlines, invocations: config.deadlineInvocations }),
    );
    await phase('worker', () => worker(setup, config.messages));
    await phase('backfill', () => backfill(setup, config.users));
    await phase('burst', () => burst(setup, { timeScale: config.burstScale, only: config.burstScenarios }));
    await phase('profile', () => profile(setup, { shippedMap, warmup: config.warmup }));
  } finally {
    await tearDown(setup);
  }

  const summaryPath = resolve(ROOT, String(options.out));
  const rawPath = resolve(ROOT, String(options.raw));
  const { met, budgets } = await report(
    {
      startedAt,
      finishedAt: new Date(),
      loadAverageAtStart,
      node: {
        measured: node22.version,
        measuredFlags: NODE_FLAGS,
        orchestrator: process.version,
        userService: setup.userService.node,
      },
      config,
      sizes,
      results,
      errors,
    },
    { summaryPath, rawPath },
  );
  progress(`summary written to ${options.out}, every figure to ${options.raw}`);
  if (Object.keys(errors).length > 0 || (options.strict && met < budgets)) process.exitCode = 1;
};

await main();
