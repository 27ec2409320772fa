// The Terraform examples as a team uses them from the installed tarball (./installed-package.ts):
// `cognito-user-sync terraform-example <name> --out infra/<name>` writes each one outside
// node_modules, and terraform init (from the local provider directory: the registry is not
// reached) and validate accept what it wrote, its module and zips read from the package.

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type InstalledPackage, installedPackage, REPO, run } from './installed-package.js';

const EXAMPLES = ['basic', 'existing-pool', 'vpc'];

describe('the Terraform examples, written from the installed package', () => {
  let installed: InstalledPackage;
  let pluginDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    installed = await installedPackage();
    pluginDir = (await run('bash', [join(REPO, 'scripts/iac-terraform-plugin-dir.sh')])).stdout.trim();
    // A CLI configuration file that is named but absent only earns a warning on every command.
    const { TF_CLI_CONFIG_FILE, ...rest } = process.env;
    env = {
      ...rest,
      ...(TF_CLI_CONFIG_FILE && existsSync(TF_CLI_CONFIG_FILE) && { TF_CLI_CONFIG_FILE }),
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
    };
  }, 600_000);

  it('are the examples the package ships', async () => {
    const shipped = await readdir(join(installed.root, 'terraform/examples'));

    expect(shipped.sort()).toEqual(EXAMPLES);
  });

  it.each(EXAMPLES)(
    '%s: written to infra/, passes terraform init -plugin-dir and validate, its module and zips in node_modules/cognito-user-sync',
    async (name) => {
      const out = join(installed.app, 'infra', name);

      const written = await run(
        installed.node22,
        [
          join(installed.root, 'bin/cognito-user-sync.mjs'),
          'terraform-example',
          name,
          '--out',
          `infra/${name}`,
        ],
        { cwd: installed.app },
      );
      const init = await run(
        'terraform',
        [`-chdir=${out}`, 'init', '-backend=false', '-input=false', '-no-color', `-plugin-dir=${pluginDir}`],
        { env },
      );
      const validate = await run('terraform', [`-chdir=${out}`, 'validate', '-no-color'], { env });

      expect(written.stdout).toContain(`Wrote the ${name} example to ${out}`);
      expect(init.stdout).toContain('Terraform has been successfully initialized!');
      expect(validate.stdout).toContain('Success! The configuration is valid.');
      const mainTf = await readFile(join(out, 'main.tf'), 'utf8');
      expect(mainTf).toContain(
        'source = "../../node_modules/cognito-user-sync/terraform/modules/cognito-user-sync"',
      );
      // validate reads no file the module is given: each zip path must name a zip of the package.
      const zips = [...mainTf.matchAll(/"\$\{path\.module\}\/([^"]+\.zip)"/g)].map((match) => match[1] ?? '');
      expect(zips.length).toBeGreaterThan(2);
      for (const zip of zips) {
        expect(resolve(out, zip)).toMatch(/\/node_modules\/cognito-user-sync\/dist\/[a-z-]+\.zip$/);
        expect(existsSync(resolve(out, zip)), zip).toBe(true);
      }
    },
  );
});
