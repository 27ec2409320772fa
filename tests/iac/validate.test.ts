// The static checks of both flavours (scripts/iac-validate.sh), offline: cfn-lint with the SAM
// transform, terraform fmt, and terraform validate of the module and the example against the
// locally installed provider.

import { beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, run } from './helpers/run.js';

let result: RunResult;

beforeAll(async () => {
  result = await run('bash', ['scripts/iac-validate.sh']);
});

describe('scripts/iac-validate.sh', () => {
  it('passes cfn-lint with no error and no warning, terraform fmt -check, and terraform validate of the module and the example', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--- cfn-lint template.yaml\nno errors, no warnings');
    expect(result.stdout.match(/Success! The configuration is valid\./g)).toHaveLength(2);
  });

  it('needs no provider but hashicorp/aws', () => {
    const providers = new Set([...result.stdout.matchAll(/provider\[([^\]]+)\]/g)].map((match) => match[1]));

    expect([...providers]).toEqual(['registry.terraform.io/hashicorp/aws']);
  });
});
