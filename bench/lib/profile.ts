// Where a measured window's CPU time goes: self time from a V8 CPU profile (`--cpu-prof`), cut to
// the window, each bundle function mapped back to its package through an unminified-names source
// map of the same bundle (the shipped map keeps only the project's own sources).

import { readFile } from 'node:fs/promises';
import { SourceMap, type SourceMapPayload } from 'node:module';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** `…/node_modules/@scope/name/…` → `@scope/name`; the project's own files → one group. */
const packageOf = (source: string): string => {
  const index = source.lastIndexOf('node_modules/');
  if (index === -1) return 'own code (src, middlewares; the baseline)';
  const [first = '', second = ''] = source.slice(index + 'node_modules/'.length).split('/');
  return first.startsWith('@') ? `${first}/${second}` : first;
};

export const IDLE = '(idle: waiting on I/O)';
const ORPHAN = 'node: event loop, streams, other internals';

export interface ProfileSummary {
  windowMs: number;
  sampledMs: number;
  /** Self time per group, in ms, largest first. */
  groups: Record<string, number>;
}

/**
 * CPU time per group within [fromUs, toUs] (process.hrtime in µs, the clock V8 stamps profiles
 * with). A bundle function counts for its package (mapped with `map`; `bundle` ends its URL);
 * Node internals and native code count for the package that called them (the nearest bundle
 * frame up the stack), except fetch (undici), the module loader, built-in loading, source maps,
 * UDP sends and async hooks, which are groups of their own; V8's own work (GC, compile) too.
 */
export const summarizeProfile = async (
  profilePath: string,
  { bundle, map, fromUs, toUs }: { bundle: string; map?: SourceMapPayload; fromUs: number; toUs: number },
): Promise<ProfileSummary> => {
  const profile = JSON.parse(await readFile(profilePath, 'utf8')) as CpuProfile;
  const sourceMap = map ? new SourceMap(map) : undefined;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

  /** The node's own group, or undefined when it inherits its caller's. */
  const ownGroup = ({ callFrame }: ProfileNode): string | undefined => {
    const { functionName, url, lineNumber, columnNumber } = callFrame;
    if (functionName === '(garbage collector)') return 'V8: garbage collector';
    if (functionName === '(program)') return 'V8: (program) compile, native';
    if (functionName === '(idle)') return IDLE;
    if (functionName === '(root)') return ORPHAN;
    if (url.endsWith(bundle)) {
      const entry = sourceMap?.findEntry(lineNumber, columnNumber) as { originalSource?: string } | undefined;
      return entry?.originalSource ? packageOf(entry.originalSource) : 'bundle (unmapped)';
    }
    if (url.includes('/bench/')) return 'bench runner (not in the timed calls)';
    if (url.includes('internal/deps/undici')) return 'node: undici (fetch)';
    if (url.includes('internal/source_map')) return 'node: source maps';
    if (url.includes('internal/modules/esm') || functionName === 'compileSourceTextModule') {
      return 'node: ESM loader (compile the bundle)';
    }
    if (functionName === 'compileForInternalLoader') return 'node: loading built-in modules';
    // Only the X-Ray segments go over UDP here (to the daemon); async hooks are
    // AsyncLocalStorage's (the X-Ray context, middy's and Powertools' invocation stores).
    if (url === 'node:dgram' || url.includes('internal/dgram'))
      return 'node: dgram (segments to the X-Ray daemon)';
    if (url.includes('internal/async_hooks') || functionName === 'registerDestroyHook') {
      return 'node: async_hooks (AsyncLocalStorage)';
    }
    return undefined;
  };
  const groupOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = groupOf.get(id);
    if (known !== undefined) return known;
    const node = nodes.get(id);
    const parent = parents.get(id);
    const group = (node && ownGroup(node)) ?? (parent === undefined ? ORPHAN : resolve(parent));
    groupOf.set(id, group);
    return group;
  };

  const groups: Record<string, number> = {};
  let time = profile.startTime;
  let sampledUs = 0;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    time += delta;
    if (time < fromUs || time > toUs) return;
    // Each sample stands for the interval before it (DevTools takes the one after: alike on average).
    const group = resolve(nodeId);
    groups[group] = (groups[group] ?? 0) + delta / 1000;
    sampledUs += delta;
  });
  return {
    windowMs: (toUs - fromUs) / 1000,
    sampledMs: sampledUs / 1000,
    groups: Object.fromEntries(Object.entries(groups).sort(([, a], [, b]) => b - a)),
  };
};

/** Sums summaries group by group (several cold processes), as per-run means. */
export const meanOfSummaries = (summaries: ProfileSummary[]): ProfileSummary => {
  const groups: Record<string, number> = {};
  for (const summary of summaries) {
    for (const [group, ms] of Object.entries(summary.groups))
      groups[group] = (groups[group] ?? 0) + ms / summaries.length;
  }
  const mean = (key: 'windowMs' | 'sampledMs') =>
    summaries.reduce((sum, summary) => sum + summary[key], 0) / Math.max(1, summaries.length);
  return {
    windowMs: mean('windowMs'),
    sampledMs: mean('sampledMs'),
    groups: Object.fromEntries(Object.entries(groups).sort(([, a], [, b]) => b - a)),
  };
};
