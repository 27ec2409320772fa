// Our middlewares stand alone, as middy's own packages do: each imports packages only, never
// another middleware of ours nor anything of the project's (what it needs comes as options).

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../middlewares/', import.meta.url);
const files = readdirSync(dir).filter((file) => file.endsWith('.ts'));

/** Every module specifier a file imports or re-exports, static or dynamic. */
const specifiersOf = (source: string): string[] =>
  [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map((match) => match[1] as string);

describe('middlewares/', () => {
  it('holds the middlewares', () => {
    expect(files.sort()).toEqual(['await-secrets.ts', 'fail-open.ts', 'resolve-once.ts']);
  });

  it.each(files)('%s imports packages only: no relative or absolute path', (file) => {
    const specifiers = specifiersOf(readFileSync(new URL(file, dir), 'utf8'));

    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((specifier) => specifier.startsWith('.') || specifier.startsWith('/'))).toEqual(
      [],
    );
  });

  it('finds a relative import when there is one, so the check above means something', () => {
    expect(
      specifiersOf("import { failOpen } from './fail-open.js';\nconst m = await import('../src/x.js');"),
    ).toEqual(['./fail-open.js', '../src/x.js']);
  });
});
