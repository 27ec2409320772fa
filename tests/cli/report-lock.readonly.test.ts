// A report resumed from where nothing can be written (a read-only mount; another user's folder):
// its lock cannot be made, and that is said, not taken for an unwritable --report. The tests run
// as root, which no permission stops, so the file system's refusal is played by a mock of
// node:fs/promises that answers EROFS (or EACCES) for writes under one folder.

import { mkdtemp, writeFile as realWriteFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';

const readOnly = { folder: '', code: 'EROFS' };

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const refuses = (path: unknown) => readOnly.folder !== '' && String(path).startsWith(readOnly.folder);
  const refusal = () => Object.assign(new Error(`${readOnly.code}: refused`), { code: readOnly.code });
  return {
    ...actual,
    writeFile: async (path: Parameters<typeof actual.writeFile>[0], ...rest: unknown[]) => {
      if (refuses(path)) throw refusal();
      return (actual.writeFile as (...args: unknown[]) => Promise<void>)(path, ...rest);
    },
  };
});

const { holdingReports } = await import('../../src/cli/report.js');

describe('the lock of a report resumed from a folder nothing can be written to', () => {
  let resumed: string;
  let written: string;

  beforeAll(async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cus-ro-'));
    resumed = join(folder, 'report.json');
    await realWriteFile(resumed, '{}');
    written = join(await mkdtemp(join(tmpdir(), 'cus-rw-')), 'report.json');
    readOnly.folder = folder;
  });

  it.each(['EROFS', 'EACCES'])(
    '%s: the run goes on, writing its own report, and says it could not lock',
    async (code) => {
      readOnly.code = code;
      const err: string[] = [];
      let ran = false;

      const exit = await holdingReports(
        { out: () => undefined, err: (line) => err.push(line) },
        'reconcile',
        { report: written, 'resume-from': resumed, 'user-pool-id': 'eu-west-1_Qx7Lm2Rt9' },
        async () => {
          ran = true;
          return 0;
        },
      );

      expect(exit).toBe(0);
      expect(ran).toBe(true);
      expect(err).toEqual([
        `${resumed} cannot be locked (${code}): nothing stops another run resuming it at the same time; the run writes its report where --report says.`,
      ]);
    },
  );
});
