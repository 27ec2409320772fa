// The package as a team installs it: `npm pack` (which builds dist/ in prepack), the tarball
// installed with --omit=dev into an empty folder (./installed-package.ts), the command line run
// with no tsx and nothing of this checkout, and `cognito-user-sync/verify` imported, under Node 22.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installedPackage, REPO, run } from './installed-package.js';

describe('the installed package', () => {
  let app: string;
  let node22: string;
  let version: string;

  beforeAll(async () => {
    ({ version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')));
    ({ app, node22 } = await installedPackage());
  }, 600_000);

  const cli = (...args: string[]) =>
    run(node22, [join(app, 'node_modules/cognito-user-sync/bin/cognito-user-sync.mjs'), ...args], {
      cwd: app,
    });

  it('holds no dev dependency: neither tsx nor the sources', async () => {
    const installed = await readdir(join(app, 'node_modules'));
    expect(installed).not.toContain('tsx');
    expect(installed).not.toContain('vitest');
    const own = await readdir(join(app, 'node_modules/cognito-user-sync'));
    expect(own).not.toContain('src');
    expect(own).toEqual(
      expect.arrayContaining(['bin', 'dist', 'LICENSE', 'README.md', 'package.json', '.nvmrc']),
    );
    const dist = await readdir(join(app, 'node_modules/cognito-user-sync/dist'));
    expect(dist).toEqual(
      expect.arrayContaining([
        'cli.mjs',
        'verify.mjs',
        'verify.cjs',
        'types',
        'post-confirmation.zip',
        'retry-worker.zip',
        'user-changes.zip',
        'reconcile.zip',
      ]),
    );
  });

  it('ships .nvmrc, naming the Node major version that package.json requires', async () => {
    const { engines } = JSON.parse(
      await readFile(join(app, 'node_modules/cognito-user-sync/package.json'), 'utf8'),
    );

    const nvmrc = await readFile(join(app, 'node_modules/cognito-user-sync/.nvmrc'), 'utf8');

    expect(nvmrc).toBe('22\n');
    expect(engines.node).toBe(`>=${nvmrc.trim()}`);
  });

  it('npx cognito-user-sync --help and --version work, under Node 22', async () => {
    const help = await run('npx', ['cognito-user-sync', '--help'], { cwd: app });
    const versionLine = await cli('--version');

    expect(help.stdout).toMatch(/^Usage: cognito-user-sync <command> \[options\]/);
    expect(versionLine.stdout.trim()).toBe(`cognito-user-sync ${version}`);
  });

  it('runs the handler on the sample event it ships (the smoke test of npm start)', async () => {
    const { stdout } = await cli('invoke');

    expect(stdout).toContain('Returned to Cognito: the event, unchanged');
    expect(stdout).toContain('Outcome: created');
  });

  it('cognito-user-sync/verify imports and verifies, with its types shipped', async () => {
    const { stdout } = await run(
      node22,
      [
        '--input-type=module',
        '-e',
        "import('cognito-user-sync/verify').then((m) => process.stdout.write(typeof m.verifyUserSyncRequest))",
      ],
      { cwd: app },
    );

    expect(stdout).toBe('function');
    await expect(
      readFile(join(app, 'node_modules/cognito-user-sync/dist/types/verify.d.ts'), 'utf8'),
    ).resolves.toContain('verifyUserSyncRequest');
  });
});
