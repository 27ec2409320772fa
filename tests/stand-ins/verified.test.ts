// The guard on the stand-ins (src/stand-ins/verified.ts): package-lock.json must hold the versions
// each stand-in was last run against, side by side, by its differential test. An upgrade that
// moves one fails here, naming the test to rerun and the constant to update once it passes, so
// the zips are never left behind a library they mirror without anyone looking.

import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAMBDA_ONLY } from '../../scripts/package.mjs';
import { isRecord } from '../../src/guards.js';
import { VERIFIED } from '../../src/stand-ins/verified.js';

const ROOT = new URL('../../', import.meta.url);

/** Every version of `name` package-lock.json installs (hoisted or nested), one per copy. */
const lockedVersions = (name: string): string[] => {
  const lock: unknown = JSON.parse(readFileSync(new URL('package-lock.json', ROOT), 'utf8'));
  const packages = isRecord(lock) && isRecord(lock.packages) ? lock.packages : {};
  return Object.entries(packages).flatMap(([path, entry]) =>
    path.endsWith(`node_modules/${name}`) && isRecord(entry) && typeof entry.version === 'string'
      ? [entry.version]
      : [],
  );
};

describe('the versions the stand-ins were verified against', () => {
  it.each(Object.entries(VERIFIED))('%s: package-lock.json holds them', (standIn, { test, packages }) => {
    const moved = Object.entries(packages).flatMap(([name, verified]) => {
      const locked = lockedVersions(name);
      return locked.length === 1 && locked[0] === verified
        ? []
        : [`${name}: verified at ${verified}, package-lock.json has ${locked.join(' and ') || 'none'}`];
    });

    expect(
      moved,
      [
        `package-lock.json moved what the ${standIn} stand-in mirrors:`,
        ...moved.map((line) => `  - ${line}`),
        `Rerun its differential test: npx vitest run ${test}`,
        'If it fails, make the stand-in do what the new version does (or say in the stand-in why not);',
        `once it passes, set VERIFIED['${standIn}'].packages in src/stand-ins/verified.ts to these versions.`,
      ].join('\n'),
    ).toEqual([]);
  });

  it('names a differential test that exists for each stand-in', () => {
    for (const { test } of Object.values(VERIFIED)) expect(existsSync(new URL(test, ROOT)), test).toBe(true);
  });

  it('has a verified version for every package the zips replace with a stand-in', () => {
    const verified = new Set(Object.values(VERIFIED).flatMap(({ packages }) => Object.keys(packages)));

    expect(Object.keys(LAMBDA_ONLY.alias ?? {}).filter((name) => !verified.has(name))).toEqual([]);
  });
});
