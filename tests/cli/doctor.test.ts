// doctor, smoke and check-service as commands: each says in --help what it reads and what it
// writes and how it was tested; a missing deployment is one usage line and exit 2; the top-level
// usage lists them. Their checks are tested against moto (tests/aws/doctor.test.ts,
// tests/aws/smoke.test.ts) and loopback services (tests/cli/check-service.test.ts).

import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('the going-live commands', () => {
  it('are listed in the usage', async () => {
    const { out } = await run('--help');

    expect(out).toMatch(/^ {2}doctor {16}check every precondition of a deployment \(read-only\)/m);
    expect(out).toMatch(/^ {2}smoke --yes {11}one throwaway user's whole life/m);
    expect(out).toMatch(/^ {2}check-service --url URL$/m);
  });

  it('doctor --help: what it checks, what it reads (writing nothing), the recorded answers, the exit status', async () => {
    const { code, out } = await run('doctor', '--help');

    expect(code).toBe(0);
    expect(out).toMatch(
      /^Usage: cognito-user-sync doctor \(--stack NAME \| --terraform-outputs FILE \| --prefix PREFIX --user-pool-id ID\)/,
    );
    expect(out).toMatch(/Reads \(writes nothing\): cloudformation:DescribeStacks/);
    expect(out).toMatch(/iam:SimulatePrincipalPolicy/);
    expect(out).toMatch(/IAM's policy simulator, which moto lacks, against\s+recorded answers/);
    expect(out).toMatch(
      /Exit status: 0 when every check passed \(or was skipped\); 1 when one failed; 2 for a usage error\./,
    );
  });

  it('smoke --help: what it writes and why --yes, how the hop is named, how it was tested', async () => {
    const { code, out } = await run('smoke', '--help');

    expect(code).toBe(0);
    expect(out).toMatch(/Writes \(hence --yes\)/);
    expect(out).toMatch(
      /trigger \(checked first: sign-ups need it\), trail, rule, queue, function or service/,
    );
    expect(out).toMatch(/--step-timeout SECONDS/);
  });

  it.each([
    [['doctor'], /which deployment\? Give --stack NAME \(SAM\), --terraform-outputs FILE/],
    [['doctor', '--prefix', 'p', '--user-pool-id', 'not-a-pool'], /--user-pool-id is not a user pool id/],
    [['doctor', '--stack', 's', '--region', 'Mars'], /--region is not an AWS region, got "Mars"/],
    [['doctor', '--stack', 'x', '--prefix', 'y'], /^cognito-user-sync: --stack and --prefix together/],
    [
      ['smoke', '--yes', '--stack', 'x', '--user-pool-id', 'eu-west-1_Qx7Lm2Rt9'],
      /^cognito-user-sync: --stack and --user-pool-id together/,
    ],
    [
      ['smoke', '--prefix', 'p', '--user-pool-id', 'eu-west-1_Qx7Lm2Rt9'],
      /smoke writes: .* Run it with --yes/,
    ],
  ])('%o is a usage error: one line, exit 2', async (argv, message) => {
    const { code, err } = await run(...argv);

    expect(code).toBe(2);
    expect(err.split('\n')[0]).toMatch(message);
  });
});
