// The package as a team installs it, made once per run of this tier and shared by its test files:
// `npm pack` (prepack builds dist/), then the tarball installed with --omit=dev into an empty
// folder. Vitest runs each file in a worker process of its own, so the first file to ask packs and
// installs while the others wait: a folder named after the run (vitest's process, the workers'
// parent) is the lock, and a result file in it says where the install is, or why it failed.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface InstalledPackage {
  /** The folder the tarball was installed into (a package.json of type module, node_modules). */
  app: string;
  /** The installed package: app/node_modules/cognito-user-sync. */
  root: string;
  tarball: string;
  /** A Node 22 binary, the supported version. */
  node22: string;
}

const WAIT_MS = 540_000;

/** vitest's process: the parent of a forked worker, the process itself for worker threads. */
const runOwner = (): number => (typeof process.send === 'function' ? process.ppid : process.pid);

/** When that process started (Linux), so a later run that reuses its pid gets a lock of its own. */
const startOf = (pid: number): string => {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return '';
  return readFileSync(stat, 'utf8').split(') ')[1]?.split(' ')[19] ?? '';
};

const packAndInstall = async (): Promise<InstalledPackage> => {
  const packed = await mkdtemp(join(tmpdir(), 'packed-'));
  await run('npm', ['pack', '--pack-destination', packed], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  const [file] = (await readdir(packed)).filter((name) => name.endsWith('.tgz'));
  if (file === undefined) throw new Error(`npm pack left no tarball in ${packed}`);
  const tarball = join(packed, file);
  const app = await mkdtemp(join(tmpdir(), 'app-'));
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', tarball], {
    cwd: app,
    maxBuffer: 16 * 1024 * 1024,
  });
  const { stdout: node22 } = await run('npx', [
    '-y',
    'node@22',
    '-e',
    'process.stdout.write(process.execPath)',
  ]);
  return { app, root: join(app, 'node_modules/cognito-user-sync'), tarball, node22 };
};

let installed: Promise<InstalledPackage> | undefined;

/** The installed package of this run: packed and installed by the first file that asks. */
export const installedPackage = (): Promise<InstalledPackage> => {
  installed ??= (async () => {
    const owner = runOwner();
    const lock = join(tmpdir(), `cognito-user-sync-package-${owner}-${startOf(owner)}`);
    const result = join(lock, 'result.json');
    let mine = true;
    await mkdir(lock).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      mine = false;
    });
    if (mine) {
      const outcome = await packAndInstall().then(
        (done) => ({ done }),
        (error: Error) => ({ error: error.message }),
      );
      await writeFile(`${result}.part`, JSON.stringify(outcome));
      await rename(`${result}.part`, result);
    }
    const deadline = Date.now() + WAIT_MS;
    while (!existsSync(result)) {
      if (Date.now() > deadline) throw new Error(`no package installed after ${WAIT_MS / 1000} s (${lock})`);
      await sleep(250);
    }
    const outcome = JSON.parse(await readFile(result, 'utf8')) as { done?: InstalledPackage; error?: string };
    if (outcome.done === undefined)
      throw new Error(`packing and installing the package failed: ${outcome.error}`);
    return outcome.done;
  })();
  return installed;
};
