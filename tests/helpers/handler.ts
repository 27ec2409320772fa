// Runs the real post-confirmation handler, through its whole middy chain, the way Lambda does,
// with AWS mocked at the SDK (aws-sdk-client-mock) and the output captured.

import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import type { UnsyncedUser } from '../../src/core/unsynced-user.js';
import { handler } from '../../src/handlers/post-confirmation.js';
import { lambdaContext } from './lambda-context.js';
import { type CapturedOutput, captureOutput } from './output.js';

export const RETRY_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/cognito-user-sync-retry';
export const DEAD_LETTER_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/cognito-user-sync-dlq';

export const sqsMock = mockClient(SQSClient);
export const secretsMock = mockClient(SecretsManagerClient);

/** Fresh state for each test: no cached secret, empty queues, the environment as it was. */
export const resetHandlerState = (): void => {
  clearCache();
  vi.unstubAllEnvs();
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'message-1' });
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).rejects(new Error('no secret was expected'));
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('RETRY_QUEUE_URL', RETRY_QUEUE_URL);
};

/** Sets variables for the next invocations; an undefined value unsets one. */
export const setEnv = (vars: Record<string, string | undefined>): void => {
  for (const [name, value] of Object.entries(vars)) vi.stubEnv(name, value ?? '');
};

export interface SentMessage {
  queueUrl: string | undefined;
  message: UnsyncedUser;
}

export const sentMessages = (): SentMessage[] =>
  sqsMock.commandCalls(SendMessageCommand).map((call) => ({
    queueUrl: call.args[0].input.QueueUrl,
    message: JSON.parse(call.args[0].input.MessageBody ?? 'null') as UnsyncedUser,
  }));

export const loadEvent = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));

export interface Invocation {
  result: unknown;
  elapsedMs: number;
  output: CapturedOutput;
}

export const invokeHandler = async (event: unknown): Promise<Invocation> => {
  const output = captureOutput();
  const started = performance.now();
  try {
    const result = await handler(event, lambdaContext());
    return { result, elapsedMs: performance.now() - started, output };
  } finally {
    output.restore();
  }
};
