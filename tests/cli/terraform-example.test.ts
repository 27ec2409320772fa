// `terraform-example`: writes a Terraform example of the package into a folder of the user's own,
// its module source and zip paths pointing back at the package. Here the package is this checkout;
// tests/package/terraform-examples.test.ts runs it from the installed tarball, through terraform.

import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { pointAtPackage, TERRAFORM_EXAMPLE_USAGE } from '../../src/cli/terraform-example.js';
import type { Io } from '../../src/cli/usage.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = join(REPO, 'terraform/examples');

const recordingIo = () => {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (line) => out.push(line), err: (line) => err.push(line) };
  return { io, out, err };
};

/** The relative paths a configuration names: a module `source`, or `${path.module}/…`. */
const relativeReferences = (text: string) =>
  [...text.matchAll(/"(\$\{path\.module\}\/)?(\.\.?\/[^"]*)"/g)].map((match) => match[2] ?? '');

describe('cognito-user-sync terraform-example', () => {
  let scratch: string;
  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'terraform-example-'));
  });

  it.each(['basic', 'existing-pool', 'vpc'])(
    'writes the %s example into --out, every path in it pointing at the same file of the package',
    async (name) => {
      const { io, out } = recordingIo();
      const dir = join(scratch, 'infra', name);

      const code = await main(['terraform-example', name, '--out', dir], io);

      expect(code).toBe(0);
      const files = (await readdir(join(EXAMPLES, name))).filter((file) => file.endsWith('.tf')).sort();
      expect((await readdir(dir)).sort()).toEqual(files);
      for (const file of files) {
        const [original, written] = await Promise.all([
          readFile(join(EXAMPLES, name, file), 'utf8'),
          readFile(join(dir, file), 'utf8'),
        ]);
        const before = relativeReferences(original).map((path) => resolve(EXAMPLES, name, path));
        const after = relativeReferences(written).map((path) => resolve(dir, path));
        expect(after, file).toEqual(before);
        // Nothing else changed but a header comment on main.tf.
        const unreferenced = (text: string) => text.replace(/"(\$\{path\.module\}\/)?\.\.?\/[^"]*"/g, '"…"');
        expect(unreferenced(written.replace(/^# Written by [\s\S]*?\n\n/, '')), file).toBe(
          unreferenced(original),
        );
      }
      const mainTf = await readFile(join(dir, 'main.tf'), 'utf8');
      expect(mainTf).toContain(
        `source = "${relative(dir, join(REPO, 'terraform/modules/cognito-user-sync'))}"`,
      );
      expect(relativeReferences(mainTf).filter((path) => path.endsWith('.zip')).length).toBeGreaterThan(2);
      expect(mainTf).toMatch(new RegExp(`^# Written by \`cognito-user-sync terraform-example ${name}\``));
      expect(out.join('\n')).toContain(`Wrote the ${name} example to ${dir}`);
    },
  );

  it('writes a module source that starts with ./ when the package is inside --out, as terraform needs', () => {
    const example = '/app/node_modules/cognito-user-sync/terraform/examples/basic';
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform's interpolation, kept as text
    const text = 'source = "../../modules/cognito-user-sync"\nzip = "${path.module}/../../../dist/a.zip"\n';

    const written = pointAtPackage(text, example, '/app');

    expect(written).toBe(
      'source = "./node_modules/cognito-user-sync/terraform/modules/cognito-user-sync"\n' +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform's interpolation, kept as text
        'zip = "${path.module}/node_modules/cognito-user-sync/dist/a.zip"\n',
    );
  });

  it('leaves files that --out already holds, unless --force', async () => {
    const dir = join(scratch, 'infra');
    await main(['terraform-example', 'basic', '--out', dir], recordingIo().io);
    await writeFile(join(dir, 'main.tf'), '# mine\n');
    const refused = recordingIo();

    const code = await main(['terraform-example', 'basic', '--out', dir], refused.io);

    expect(code).toBe(2);
    expect(refused.err.join('\n')).toMatch(/main\.tf exists.*--force/);
    expect(await readFile(join(dir, 'main.tf'), 'utf8')).toBe('# mine\n');
    await expect(
      main(['terraform-example', 'basic', '--out', dir, '--force'], recordingIo().io),
    ).resolves.toBe(0);
    expect(await readFile(join(dir, 'main.tf'), 'utf8')).toContain('module "cognito_user_sync"');
  });

  it.each([
    [['terraform-example', 'nope', '--out', 'x'], /unknown example "nope": basic, existing-pool or vpc/],
    [['terraform-example', '--out', 'x'], /name an example: basic, existing-pool or vpc/],
    [['terraform-example', 'basic'], /--out DIR is required/],
    [['terraform-example', 'basic', 'vpc', '--out', 'x'], /one example at a time/],
    [['terraform-example', 'basic', '--out', '<a file>/x'], /cannot write to .*a-file\/x/],
  ])('%j: a usage error, exit code 2', async (argv, message) => {
    const { io, err } = recordingIo();
    await writeFile(join(scratch, 'a-file'), '');
    const args = argv.map((arg) => arg.replace('<a file>', join(scratch, 'a-file')));

    await expect(main(args, io)).resolves.toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('says in --help what it reads and writes, listing every example the package ships', async () => {
    const { io, out } = recordingIo();
    const examples = (await readdir(EXAMPLES)).sort();

    await expect(main(['terraform-example', '--help'], io)).resolves.toBe(0);

    expect(out.join('\n')).toBe(TERRAFORM_EXAMPLE_USAGE);
    const listed = [...TERRAFORM_EXAMPLE_USAGE.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]);
    expect(listed.filter((word) => examples.includes(word ?? '')).sort()).toEqual(examples);
  });

  it('is listed in the command line usage', async () => {
    const { io, out } = recordingIo();

    await main(['--help'], io);

    expect(out.join('\n')).toMatch(/^ {2}terraform-example <name>\n {24}write a Terraform example/m);
  });
});
