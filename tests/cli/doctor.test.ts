// doctor, smoke and check-service as commands: each says in --help what it reads and what it
// writes and how it was tested; a missing deployment is one usage line and exit 2; the top-level
// usage lists them. Their checks are tested against moto (tests/aws/doctor.test.ts,
// tests/aws/smoke.test.ts) and loopback services (tests/cli/check-service.test.ts).

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { describeOperatorError } from '../../src/cli/operator-errors.js';
import { CREDENTIALS_REFUSED } from '../../src/clients/aws.js';

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
      /Exit status: 0 when every check passed \(or was skipped\); 1 when one failed, or when the\s+credentials are missing, expired or invalid, or the stack could not be read \(one line says so\); 2\s+for a usage error \(a stack that does not exist among them\)\./,
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

describe('doctor without working credentials', () => {
  const POOL = ['--prefix', 'p', '--user-pool-id', 'eu-west-1_Qx7Lm2Rt9'];
  afterEach(() => vi.unstubAllEnvs());

  /** An AWS endpoint on loopback that answers every call with one JSON error, as AWS answers it. */
  const startRefusing = async (type: string, message: string) => {
    let calls = 0;
    const server = createServer((request, response) => {
      calls++;
      request.resume();
      request.on('end', () => {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
        response.end(JSON.stringify({ __type: type, message }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      endpoint: `http://127.0.0.1:${port}`,
      calls: () => calls,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  };

  it('with no credentials at all: one line saying so, exit 1, no checklist', async () => {
    const nowhere = join(tmpdir(), 'cognito-user-sync-no-such-aws-config');
    for (const name of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    ])
      vi.stubEnv(name, '');
    vi.stubEnv('AWS_CONFIG_FILE', nowhere);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', nowhere);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const refusing = await startRefusing('UnrecognizedClientException', 'never asked');
    vi.stubEnv('AWS_ENDPOINT_URL', refusing.endpoint);
    try {
      const { code, out, err } = await run('doctor', ...POOL);

      expect(err).toMatch(/^cognito-user-sync: no AWS credentials were found: set AWS_PROFILE/);
      expect(err.split('\n')).toHaveLength(1);
      expect(out).toBe('');
      expect(code).toBe(1);
      expect(refusing.calls()).toBe(0);
    } finally {
      await refusing.close();
    }
  });

  it.each([
    ['ExpiredTokenException', 'The security token included in the request is expired'],
    ['UnrecognizedClientException', 'The security token included in the request is invalid.'],
  ])('with credentials AWS refuses (%s): one line, exit 1, after the first call', async (type, message) => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLEEXPIRED00');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'expired');
    const refusing = await startRefusing(type, message);
    vi.stubEnv('AWS_ENDPOINT_URL', refusing.endpoint);
    try {
      const { code, out, err } = await run('doctor', ...POOL, '--json');

      expect(err).toBe(
        `cognito-user-sync: AWS refused the credentials (${type}): they are expired or wrong; refresh them and run again.`,
      );
      expect(out).toBe('');
      expect(code).toBe(1);
      expect(refusing.calls()).toBe(1);
    } finally {
      await refusing.close();
    }
  });

  it('stops only for the refusals the command line names as a credentials problem', () => {
    for (const name of CREDENTIALS_REFUSED) {
      const error = Object.assign(new Error('refused'), { name, $metadata: {} });
      expect(describeOperatorError(error), name).toMatch(/credentials/);
    }
  });
});
