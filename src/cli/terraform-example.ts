// `terraform-example <name> --out DIR`: writes one of the package's Terraform examples into a
// folder of the user's own, every relative path in it (the module's source, the zips) rewritten to
// reach the same file of the installed package, so `terraform init` works outside node_modules.

import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { VERSION } from '../version.js';
import { command, text, toggle } from './flags.js';
import type { Io } from './usage.js';

const TERRAFORM_EXAMPLE = command({
  synopsis: 'Usage: cognito-user-sync terraform-example <name> --out DIR [--force]',
  about: `Writes a Terraform example of the package into DIR, a folder of your own infrastructure code:
its *.tf files, with the module's source and the zips' paths rewritten to point at this installed
package (node_modules/cognito-user-sync), so terraform init and apply work from DIR. Reads only
the package; writes only DIR.

Examples:
  basic           a new user pool (or an existing one, by id) with the trigger, the retry worker,
                  the user-changes function and its rule, the queues, dashboard and alarms
  existing-pool   a pool that exists already, with a daily reconcile
  vpc             the functions in your VPC, with a customer-managed KMS key`,
  flags: {
    out: text('DIR', 'the folder to write (made if missing)'),
    force: toggle('overwrite the files DIR already holds'),
  },
  footer: `Run it from the project that installs the package (npm install cognito-user-sync): the paths it
writes are relative, so DIR and node_modules can move together. Exit status: 0 written; 2 a usage
error (an unknown example, a file already there without --force, a folder that cannot be written).`,
  positionals: true,
});

export const TERRAFORM_EXAMPLE_USAGE = TERRAFORM_EXAMPLE.usage;

/** The package: beside the sources (src/cli/) in a checkout, beside dist/cli.mjs when installed. */
const PACKAGE_ROOT = fileURLToPath(
  ['../../', '../']
    .map((up) => new URL(up, import.meta.url))
    .find((url) => existsSync(new URL('terraform/examples', url))) ?? new URL('../../', import.meta.url),
);
const EXAMPLES = join(PACKAGE_ROOT, 'terraform', 'examples');

// A quoted relative path: a module source ("../../modules/…") or a file under "${path.module}/…".
const RELATIVE_PATH = /"(\$\{path\.module\}\/)?(\.\.?\/[^"]*)"/g;

/**
 * `text`, a configuration from `exampleDir`, with each relative path re-expressed from `outDir`,
 * so it names the same file. Terraform takes a local module source only as ./… or ../….
 */
export const pointAtPackage = (text: string, exampleDir: string, outDir: string): string =>
  text.replace(RELATIVE_PATH, (_match, pathModule: string | undefined, path: string) => {
    const target = relative(outDir, resolve(exampleDir, path)).split(sep).join('/');
    const from = target.startsWith('../') || target === '..' ? target : `./${target}`;
    return `"${pathModule ?? ''}${pathModule ? from.replace(/^\.\//, '') : from}"`;
  });

const header = (name: string, toPackage: string) =>
  [
    `# Written by \`cognito-user-sync terraform-example ${name}\`, from cognito-user-sync ${VERSION}: the`,
    `# module and the zips are read from the package at ${toPackage}`,
    '# (its docs/deploy.md says more). Upgrade the package, and they follow.',
    '',
    '',
  ].join('\n');

const examples = async (): Promise<string[]> =>
  (await readdir(EXAMPLES, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

const orList = (names: string[]) =>
  names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '');

export const terraformExample = async (args: string[], io: Io): Promise<number> => {
  const flags = TERRAFORM_EXAMPLE.read(args, io);
  if (flags === undefined) return 0;
  const { values, positionals } = flags;
  const known = await examples();
  const [name, ...more] = positionals;
  if (name === undefined) throw new UsageError(`name an example: ${orList(known)}`);
  if (more.length > 0) throw new UsageError('one example at a time');
  if (!known.includes(name)) throw new UsageError(`unknown example "${name}": ${orList(known)}`);
  if (values.out === undefined || values.out === '') throw new UsageError('--out DIR is required');
  const out = resolve(values.out);

  const exampleDir = join(EXAMPLES, name);
  const files = (await readdir(exampleDir)).filter((file) => file.endsWith('.tf')).sort();
  const toPackage = relative(out, PACKAGE_ROOT).split(sep).join('/') || '.';
  const written = await Promise.all(
    files.map(async (file) => {
      const text = pointAtPackage(await readFile(join(exampleDir, file), 'utf8'), exampleDir, out);
      return { file, text: file === 'main.tf' ? header(name, toPackage) + text : text };
    }),
  );
  // Checked before anything is written, so a refusal leaves DIR as it was.
  const there = files.filter((file) => existsSync(join(out, file)));
  if (there.length > 0 && !values.force) {
    throw new UsageError(
      `${join(out, there[0] ?? '')} exists; pass --force to overwrite, or choose another --out`,
    );
  }
  try {
    await mkdir(out, { recursive: true });
    for (const { file, text } of written) await writeFile(join(out, file), text);
  } catch (error) {
    throw new UsageError(`cannot write to ${out}: ${(error as Error).message}`);
  }

  io.out(`Wrote the ${name} example to ${out}: ${files.join(', ')}`);
  io.out(`Its module and zips are read from ${isAbsolute(toPackage) ? toPackage : join(out, toPackage)}.`);
  io.out(`Next: cd ${values.out}, set what variables.tf asks for, then terraform init and apply.`);
  return 0;
};
