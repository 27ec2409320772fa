// What the benchmark makes in moto before it measures: the API key secret, queues, a queue full of
// retry messages (made by the worker phase), and user pools of confirmed users (the backfill's, and
// the worker's: it asks Cognito for each queued user before it creates them).

import { randomUUID } from 'node:crypto';
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { motoControl } from '../../scripts/moto.mjs';
import { mapConcurrent } from '../../src/core/concurrency.js';

export const REGION = 'eu-west-1';

export interface Moto {
  endpoint: string;
  controlEndpoint: string;
}

const clientConfig = ({ endpoint }: Moto) => ({
  endpoint,
  region: REGION,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing', sessionToken: 'testing' },
});

/** The API key as the deployed function reads it: JSON {"apiKey": …} in Secrets Manager. */
export const createApiKeySecret = async (moto: Moto, apiKey: string): Promise<string> => {
  const client = new SecretsManagerClient(clientConfig(moto));
  const { ARN } = await client.send(
    new CreateSecretCommand({
      Name: `bench/user-service-api-key-${randomUUID().slice(0, 8)}`,
      SecretString: JSON.stringify({ apiKey }),
    }),
  );
  if (!ARN) throw new Error('moto made no secret');
  return ARN;
};

export interface Queues {
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
}

/** A retry queue and its dead-letter queue (no delivery delay: the worker drains at once). */
export const createQueues = async (moto: Moto, name: string): Promise<Queues> => {
  const client = new SQSClient(clientConfig(moto));
  const { QueueUrl: deadLetterQueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: `${name}-dead-letter` }),
  );
  const { QueueUrl: retryQueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: `${name}-retry`, Attributes: { VisibilityTimeout: '180' } }),
  );
  if (!retryQueueUrl || !deadLetterQueueUrl) throw new Error('moto made no queue');
  return { retryQueueUrl, deadLetterQueueUrl };
};

/** Visible plus in-flight messages. */
export const queueDepth = async (moto: Moto, QueueUrl: string): Promise<number> => {
  const { Attributes = {} } = await new SQSClient(clientConfig(moto)).send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
};

export interface QueuedMessage {
  body: string;
  attributes: Record<string, MessageAttributeValue>;
}

/** Sends `messages` to the queue, ten to a batch. */
export const fillRetryQueue = async (
  moto: Moto,
  QueueUrl: string,
  messages: QueuedMessage[],
): Promise<void> => {
  const client = new SQSClient(clientConfig(moto));
  const batches = Array.from({ length: Math.ceil(messages.length / 10) }, (_, batch) =>
    messages.slice(batch * 10, batch * 10 + 10).map(({ body, attributes }, index) => ({
      Id: String(index),
      MessageBody: body,
      MessageAttributes: attributes,
    })),
  );
  await mapConcurrent(batches, 8, async (Entries) => {
    const { Failed = [] } = await client.send(new SendMessageBatchCommand({ QueueUrl, Entries }));
    if (Failed.length > 0) throw new Error(`moto refused ${Failed.length} messages`);
  });
};

/**
 * A pool of `count` CONFIRMED users with an email and a name, and their subs in order.
 * AdminCreateUser leaves a user in FORCE_CHANGE_PASSWORD; moto's control channel confirms it (one
 * request instead of a password).
 */
export const createConfirmedPool = async (
  moto: Moto,
  count: number,
  concurrency = 16,
  name = 'bench-backfill',
): Promise<{ userPoolId: string; subs: string[] }> => {
  const client = new CognitoIdentityProviderClient(clientConfig(moto));
  const { UserPool } = await client.send(new CreateUserPoolCommand({ PoolName: name }));
  const userPoolId = UserPool?.Id;
  if (!userPoolId) throw new Error('moto made no user pool');
  const subs = await mapConcurrent(
    Array.from({ length: count }, (_, n) => n),
    concurrency,
    async (n) => {
      const username = `user${n}@example.com`;
      const { User } = await client.send(
        new AdminCreateUserCommand({
          UserPoolId: userPoolId,
          Username: username,
          UserAttributes: [
            { Name: 'email', Value: username },
            { Name: 'name', Value: `User ${n}` },
          ],
          MessageAction: 'SUPPRESS',
        }),
      );
      const sub = User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
      if (!sub) throw new Error('moto gave the user no sub');
      await motoControl(moto.controlEndpoint, {
        op: 'set-user-status',
        userPoolId,
        username,
        status: 'CONFIRMED',
      });
      return sub;
    },
  );
  return { userPoolId, subs };
};
