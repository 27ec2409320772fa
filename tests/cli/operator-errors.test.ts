// An operator's mistake is one line that says what to fix, never a stack trace; a bug keeps its.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  ListUsersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { describeOperatorError } from '../../src/cli/operator-errors.js';
import { ConfigError } from '../../src/errors.js';

const sqs = mockClient(SQSClient);
const cognito = mockClient(CognitoIdentityProviderClient);

/** An error as the AWS SDK raises it for an answer of AWS's. */
const awsError = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 }, $fault: 'client' });

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('operator errors', () => {
  beforeEach(() => {
    sqs.reset();
    cognito.reset();
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('replay: a queue that does not exist is one line naming the variables to check, exit 1', async () => {
    sqs
      .on(GetQueueAttributesCommand)
      .rejects(awsError('QueueDoesNotExist', 'The specified queue does not exist.'));

    const { code, err } = await run(
      'replay',
      '--dead-letter-queue-url',
      'https://sqs.eu-west-1.amazonaws.com/123456789012/nope-dlq',
      '--retry-queue-url',
      'https://sqs.eu-west-1.amazonaws.com/123456789012/nope',
    );

    expect(code).toBe(1);
    expect(err.split('\n')).toEqual([
      expect.stringMatching(/^cognito-user-sync: the SQS queue does not exist.*RETRY_QUEUE_URL/),
    ]);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('backfill: a wrong pool id is one line, exit 1', async () => {
    cognito
      .on(DescribeUserPoolCommand)
      .rejects(awsError('ResourceNotFoundException', 'User pool eu-west-1_Nope00000 does not exist.'));
    cognito
      .on(ListUsersCommand)
      .rejects(awsError('ResourceNotFoundException', 'User pool eu-west-1_Nope00000 does not exist.'));
    const dir = await mkdtemp(join(tmpdir(), 'operator-'));

    const { code, err } = await run(
      'backfill',
      '--user-pool-id',
      'eu-west-1_Nope00000',
      '--dry-run',
      '--report',
      join(dir, 'r.json'),
    );

    expect(code).toBe(1);
    expect(err).toMatch(/could not be listed: the user pool was not found: check --user-pool-id/);
  });

  it('backfill: a report that cannot be written stops the run before it starts, as a usage error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'operator-'));
    const file = join(dir, 'a-file');
    await writeFile(file, '');

    const { code, err } = await run(
      'backfill',
      '--user-pool-id',
      'eu-west-1_Qx7Lm2Rt9',
      '--dry-run',
      '--report',
      join(file, 'report.json'),
    );

    expect(code).toBe(2);
    expect(err).toMatch(/cannot write the report to .*report\.json/);
    expect(cognito.calls()).toHaveLength(0);
  });

  it.each([
    [new ConfigError('USER_SERVICE_URL', 'is not set'), /USER_SERVICE_URL is not set/],
    [
      awsError('ExpiredTokenException', 'The security token included in the request is expired'),
      /expired or wrong/,
    ],
    [
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      /no AWS credentials/,
    ],
    [
      Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:3000'), {
        code: 'EADDRINUSE',
      }),
      /port is in use/,
    ],
    [
      awsError('AccessDeniedException', 'not authorized to perform: cognito-idp:ListUsers'),
      /AWS refused the call/,
    ],
  ])('names what to fix for %s', (error, line) => {
    expect(describeOperatorError(error)).toMatch(line);
  });

  it('leaves a bug alone: it keeps its stack', () => {
    expect(describeOperatorError(new TypeError('cannot read properties of undefined'))).toBeUndefined();
  });

  it('user-service: a port in use is one line, exit 1', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;

    const { code, err } = await run('user-service', '--port', String(port)).finally(
      () => new Promise((resolve) => taken.close(resolve)),
    );

    expect(code).toBe(1);
    expect(err).toMatch(/^cognito-user-sync: the port is in use: .*Pass another --port/);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('user-service: a signing secret that is not one is one line naming what is wrong, exit 1', async () => {
    const { code, err } = await run('user-service', '--port', '0', '--signing-secret', 'not-a-whsec');

    expect(code).toBe(1);
    expect(err).toMatch(
      /^cognito-user-sync: The signing secret is not valid: key 1 does not start with whsec_$/,
    );
  });
});
