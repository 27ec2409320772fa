// The static checks of both flavours (scripts/iac-validate.sh), offline: cfn-lint with the SAM
// transform, terraform fmt, and terraform validate of the module and the three examples against the
// locally installed provider; and the module's README tables in step with its variables and outputs.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as ModuleReadme from '../../scripts/iac-module-readme.mjs';
import { REPO_ROOT, type RunResult, run } from './helpers/run.js';

let result: RunResult;

beforeAll(async () => {
  result = await run('bash', ['scripts/iac-validate.sh']);
});

describe('scripts/iac-validate.sh', () => {
  it('passes cfn-lint with no error and no warning, terraform fmt -check, and terraform validate of the module and the three examples', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--- cfn-lint template.yaml\nno errors, no warnings');
    for (const dir of [
      'modules/cognito-user-sync',
      'examples/basic',
      'examples/existing-pool',
      'examples/vpc',
    ]) {
      expect(result.stdout).toContain(
        `--- terraform validate terraform/${dir}\nSuccess! The configuration is valid.`,
      );
    }
  });

  it('needs no provider but hashicorp/aws', () => {
    const providers = new Set([...result.stdout.matchAll(/provider\[([^\]]+)\]/g)].map((match) => match[1]));

    expect([...providers]).toEqual(['registry.terraform.io/hashicorp/aws']);
  });
});

describe('terraform/modules/cognito-user-sync/README.md', () => {
  let readme: typeof ModuleReadme;
  const moduleFile = (name: string) =>
    readFile(join(REPO_ROOT, 'terraform/modules/cognito-user-sync', name), 'utf8');
  /** The names in the first column of a README table (between its markers). */
  const tableNames = (text: string, table: string) => {
    const section = text.slice(text.indexOf(`<!-- BEGIN ${table}`), text.indexOf(`<!-- END ${table}`));
    return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]);
  };

  beforeAll(async () => {
    readme = (await import(
      pathToFileURL(join(REPO_ROOT, 'scripts/iac-module-readme.mjs')).href
    )) as typeof ModuleReadme;
  });

  it('lists every variable with its type, default (or "required") and description, as variables.tf says', async () => {
    const source = await moduleFile('variables.tf');
    const variables = readme.parseVariables(source);
    const { readme: text, expected } = readme.readModule();

    // Every block was read, and every one says what it is for.
    expect(variables.map((v) => v.name)).toEqual(
      [...source.matchAll(/^variable "([^"]+)"/gm)].map((m) => m[1]),
    );
    for (const variable of variables) expect(variable.description, variable.name).not.toBe('');
    // Nothing listed that does not exist, nothing missing.
    expect(tableNames(text, 'inputs')).toEqual(variables.map((v) => v.name));
    expect(text, 'run node scripts/iac-module-readme.mjs').toBe(expected);
    expect(variables.find((v) => v.name === 'user_service_url')?.default).toBeUndefined();
    expect(variables.find((v) => v.name === 'enable_user_changes')?.default).toBe('true');
  });

  it('lists every output with its description, as outputs.tf says', async () => {
    const source = await moduleFile('outputs.tf');
    const outputs = readme.parseOutputs(source);
    const { readme: text } = readme.readModule();

    expect(outputs.map((o) => o.name)).toEqual([...source.matchAll(/^output "([^"]+)"/gm)].map((m) => m[1]));
    for (const output of outputs) expect(output.description, output.name).not.toBe('');
    expect(tableNames(text, 'outputs')).toEqual(outputs.map((o) => o.name));
  });
});
