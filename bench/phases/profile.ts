// Profile (--profile): where the time goes, package by package. Separate runs under --cpu-prof,
// so the profiler's overhead touches none of the timed figures.

import { readFile, rm } from 'node:fs/promises';
import type { SourceMapPayload } from 'node:module';
import { join, relative } from 'node:path';
import { build as esbuild } from 'esbuild';
import { FUNCTIONS, LAMBDA_ONLY, lambdaBuildOptions } from '../../scripts/package.mjs';
import { ROOT } from '../lib/processes.js';
import { meanOfSummaries, type ProfileSummary, summarizeProfile } from '../lib/profile.js';
import { progress } from '../lib/progress.js';
import { BUILD, HANDLER_ZIP, type Handler, invoke, type Setup, taskRoot } from '../lib/setup.js';
import type { ColdFigures } from './cold.js';
import type { WarmFigures } from './warm.js';

const PROFILE_COLD_RUNS = 5;
const PROFILE_WARM_RUNS = 2000;

export interface ProfileResult
  extends Record<Handler, { cold: ProfileSummary; warmPerInvocationUs: Record<string, number> }> {
  coldRuns: number;
  warmRuns: number;
  /** Relative to the package's root: results are committed, and a machine's paths have no place there. */
  profiles: string;
}

/**
 * The shipped map keeps only the project's sources; a build with the same options gives the full
 * one. Used only when that build's code is byte for byte the shipped index.mjs.
 */
export const fullSourceMap = async (): Promise<SourceMapPayload | undefined> => {
  const entry = FUNCTIONS.find((fn) => fn.name === HANDLER_ZIP.shipped)?.entry;
  if (!entry) return undefined;
  const outfile = join(BUILD, 'profile-bundle/index.mjs');
  await esbuild({ ...lambdaBuildOptions(entry, outfile), ...LAMBDA_ONLY });
  const [built, shipped] = await Promise.all([
    readFile(outfile),
    readFile(join(taskRoot(HANDLER_ZIP.shipped), 'index.mjs')),
  ]);
  if (!built.equals(shipped)) {
    progress('profile: lambdaBuildOptions no longer gives the shipped index.mjs; packages left unmapped');
    return undefined;
  }
  return JSON.parse(await readFile(`${outfile}.map`, 'utf8')) as SourceMapPayload;
};

export const profile = async (
  setup: Setup,
  { shippedMap, warmup }: { shippedMap: SourceMapPayload | undefined; warmup: number },
): Promise<ProfileResult> => {
  const maps: Record<Handler, SourceMapPayload | undefined> = {
    shipped: shippedMap,
    baseline: JSON.parse(
      await readFile(join(taskRoot(HANDLER_ZIP.baseline), 'index.mjs.map'), 'utf8'),
    ) as SourceMapPayload,
  };
  const result: Partial<Record<Handler, ProfileResult[Handler]>> = {};
  for (const handler of ['shipped', 'baseline'] as const) {
    const dir = join(BUILD, 'profiles', handler);
    await rm(dir, { recursive: true, force: true });
    const flags = (name: string) => [
      '--cpu-prof',
      '--cpu-prof-interval=100',
      `--cpu-prof-dir=${dir}`,
      `--cpu-prof-name=${name}`,
    ];
    const summarizeRun = (name: string, marksUs: { from: number; to: number }) =>
      summarizeProfile(join(dir, name), {
        bundle: '/index.mjs',
        map: maps[handler],
        fromUs: marksUs.from,
        toUs: marksUs.to,
      });
    const colds: ProfileSummary[] = [];
    for (let run = 0; run < PROFILE_COLD_RUNS; run++) {
      const name = `cold-${run}.cpuprofile`;
      const { result: figures } = await invoke<ColdFigures>(
        setup,
        handler,
        { BENCH_MODE: 'cold' },
        flags(name),
      );
      colds.push(await summarizeRun(name, figures.marksUs));
    }
    const { result: figures } = await invoke<WarmFigures>(
      setup,
      handler,
      { BENCH_MODE: 'warm', BENCH_WARMUP: String(warmup), BENCH_ITERATIONS: String(PROFILE_WARM_RUNS) },
      flags('warm.cpuprofile'),
    );
    const warmSummary = await summarizeRun('warm.cpuprofile', figures.marksUs);
    result[handler] = {
      cold: meanOfSummaries(colds),
      warmPerInvocationUs: Object.fromEntries(
        Object.entries(warmSummary.groups).map(([group, ms]) => [group, (ms * 1000) / PROFILE_WARM_RUNS]),
      ),
    };
  }
  const { shipped, baseline } = result;
  if (!shipped || !baseline) throw new Error('a handler was not profiled');
  return {
    coldRuns: PROFILE_COLD_RUNS,
    warmRuns: PROFILE_WARM_RUNS,
    profiles: relative(ROOT, join(BUILD, 'profiles')),
    shipped,
    baseline,
  };
};
