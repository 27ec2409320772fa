// The README as the installed package holds it (./installed-package.ts), which is what npm shows
// and what a team reads from node_modules: every relative link in it names a file or folder the
// package ships, and every #anchor a heading of the file it points into.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type InstalledPackage, installedPackage } from './installed-package.js';

/** The targets of a Markdown file's links (inline, reference and HTML), outside code. */
const linksOf = (markdown: string): string[] => {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, 'code');
  return [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]),
    ...[...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => match[1]),
    ...[...text.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((match) => match[1]),
  ].filter((target): target is string => target !== undefined);
};

/** The anchors GitHub (and npm) give a Markdown file's headings. */
const anchorsOf = (markdown: string): Set<string> => {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (heading ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
};

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

describe('the installed README', () => {
  let installed: InstalledPackage;

  beforeAll(async () => {
    installed = await installedPackage();
  }, 600_000);

  it.each(['README.md', 'examples/python/README.md'])(
    '%s: every relative link resolves to something the package ships',
    async (file) => {
      const path = join(installed.root, file);
      const markdown = await readFile(path, 'utf8');

      const broken: string[] = [];
      const links = linksOf(markdown).filter((target) => !isExternal(target));
      for (const target of links) {
        const [location = '', anchor] = target.split('#');
        const resolved = location === '' ? path : join(dirname(path), decodeURIComponent(location));
        if (!resolved.startsWith(`${installed.root}/`) || !existsSync(resolved)) {
          broken.push(`${target}: no ${relative(installed.root, resolved)} in the package`);
        } else if (anchor !== undefined && resolved.endsWith('.md')) {
          if (!anchorsOf(await readFile(resolved, 'utf8')).has(anchor))
            broken.push(`${target}: no such heading`);
        }
      }

      expect(links.length).toBeGreaterThan(0);
      expect(broken).toEqual([]);
    },
  );
});
