// AWS mocked at the SDK (aws-sdk-client-mock) for the unit tier: the queue and the secret the
// handler talks to, and a fresh state for each test.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clearCache } from '@middy/util';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import type { RetryMessage } from '../../src/domain/retry-message.js';

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

export interface SentMessage {
  queueUrl: string | undefined;
  message: RetryMessage;
}

export const sentMessages = (): SentMessage[] =>
  sqsMock.commandCalls(SendMessageCommand).map((call) => ({
    queueUrl: call.args[0].input.QueueUrl,
    message: JSON.parse(call.args[0].input.MessageBody ?? 'null') as RetryMessage,
  }));
