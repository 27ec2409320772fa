// A checklist a person can act on, as doctor, smoke and check-service print it: each check passed
// (✓), failed (✗, with what was seen and the fix) or skipped (–, with why), grouped by section,
// then the counts. The same checks as JSON for scripts. Exit status 0 when nothing failed, else 1.

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface Check {
  /** Stable, for scripts: `trigger.attached`, `queue.changes.policy`. */
  id: string;
  /** The heading it is printed under. */
  section: string;
  /** What holds when it passes, in a few words. */
  title: string;
  status: CheckStatus;
  /** What was seen: one line each. */
  detail: string[];
  /** On a failure: what to do. */
  fix?: string;
  /** Anything a script may want (a check-service exchange, a smoke step's timing). */
  evidence?: unknown;
}

type Details = string | readonly string[] | undefined;
const lines = (detail: Details): string[] => (detail === undefined ? [] : [detail].flat());

export const pass = (id: string, section: string, title: string, detail?: Details): Check => ({
  id,
  section,
  title,
  status: 'pass',
  detail: lines(detail),
});

export const fail = (id: string, section: string, title: string, detail: Details, fix: string): Check => ({
  id,
  section,
  title,
  status: 'fail',
  detail: lines(detail),
  fix,
});

export const skip = (id: string, section: string, title: string, why: Details): Check => ({
  id,
  section,
  title,
  status: 'skip',
  detail: lines(why),
});

export interface ChecklistCounts {
  passed: number;
  failed: number;
  skipped: number;
}

export const countsOf = (checks: readonly Check[]): ChecklistCounts => ({
  passed: checks.filter((check) => check.status === 'pass').length,
  failed: checks.filter((check) => check.status === 'fail').length,
  skipped: checks.filter((check) => check.status === 'skip').length,
});

/** 0 when nothing failed, 1 otherwise: the exit status of a checklist command. */
export const exitCodeOf = (checks: readonly Check[]): 0 | 1 =>
  checks.some((check) => check.status === 'fail') ? 1 : 0;

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '–' };

/**
 * The checklist as text: sections in their first order, each check with its mark, its detail
 * indented under it, the fix after a failure, then the counts.
 */
export const renderChecklist = (
  checks: readonly Check[],
  { verbose = false }: { verbose?: boolean } = {},
): string[] => {
  const sections = [...new Set(checks.map((check) => check.section))];
  const out: string[] = [];
  for (const section of sections) {
    out.push('', section);
    for (const check of checks.filter((candidate) => candidate.section === section)) {
      out.push(`  ${MARK[check.status]} ${check.title}`);
      // A pass shows its detail only when asked: the failures are what a person acts on.
      if (check.status !== 'pass' || verbose) out.push(...check.detail.map((line) => `      ${line}`));
      if (check.fix) out.push(`      fix: ${check.fix}`);
    }
  }
  const { passed, failed, skipped } = countsOf(checks);
  out.push('', `${passed} passed, ${failed} failed, ${skipped} skipped`);
  return out;
};

/** The checklist as JSON for scripts: what was checked, the counts, every check. */
export const checklistJson = (command: string, subject: unknown, checks: readonly Check[]) => ({
  command,
  subject,
  ok: exitCodeOf(checks) === 0,
  counts: countsOf(checks),
  checks,
});
