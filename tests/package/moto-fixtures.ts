// moto for the packaged-zip tier: the zips bundle their own AWS client (src/stand-ins/aws-sdk/),
// so they are run against moto over HTTP here, as the AWS tier runs the handlers from src with the
// SDK. The fixtures are made with the SDK, from this process.

import { randomUUID } from 'node:crypto';
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type Moto, motoEnv, startMoto } from '../../scripts/moto.mjs';

// The fixtures' SDK clients run in this process, which may be Node 20: no nagging about it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface ZipMoto {
  moto: Moto;
  /** What Lambda and the template give a function, pointed at moto (fake credentials). */
  env: Record<string, string>;
  createSecret(value: string): Promise<string>;
  createQueue(name: string): Promise<string>;
  /** The scheduled reconcile's run ledger, as the IaC makes it: its name. */
  createLedgerTable(): Promise<string>;
  /** Sends a message and receives it, as the event source mapping would: its receipt handle. */
  sendAndReceive(queueUrl: string, body: string, visibilitySeconds?: number): Promise<Message>;
  receiveAll(queueUrl: string): Promise<Message[]>;
  /** A pool and its users (email and name), created as AdminCreateUser makes them; their subs. */
  createPool(users: string[]): Promise<{ userPoolId: string; subs: string[] }>;
  stop(): Promise<void>;
}

export const startZipMoto = async (): Promise<ZipMoto> => {
  const moto = await startMoto();
  const env = motoEnv(moto.endpoint, moto.controlEndpoint);
  const config = {
    endpoint: moto.endpoint,
    region: env.AWS_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing', sessionToken: 'testing' },
  };
  const sqs = new SQSClient(config);
  const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
  return {
    moto,
    env,
    async createSecret(value) {
      const { ARN } = await new SecretsManagerClient(config).send(
        new CreateSecretCommand({ Name: unique('zip-secret'), SecretString: value }),
      );
      if (!ARN) throw new Error('moto made no secret');
      return ARN;
    },
    async createLedgerTable() {
      const TableName = unique('reconcile-runs');
      await new DynamoDBClient(config).send(
        new CreateTableCommand({
          TableName,
          AttributeDefinitions: [{ AttributeName: 'userPoolId', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'userPoolId', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      return TableName;
    },
    async createQueue(name) {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique(name) }));
      if (!QueueUrl) throw new Error('moto made no queue');
      return QueueUrl;
    },
    async sendAndReceive(QueueUrl, body, visibilitySeconds = 30) {
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 1,
          VisibilityTimeout: visibilitySeconds,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const [message] = Messages;
      if (!message) throw new Error('moto gave back no message');
      return message;
    },
    async receiveAll(QueueUrl) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
        }),
      );
      return Messages;
    },
    async createPool(users) {
      const cognito = new CognitoIdentityProviderClient(config);
      const { UserPool } = await cognito.send(new CreateUserPoolCommand({ PoolName: unique('zip-pool') }));
      const userPoolId = UserPool?.Id ?? '';
      const subs: string[] = [];
      for (const [n, name] of users.entries()) {
        const { User } = await cognito.send(
          new AdminCreateUserCommand({
            UserPoolId: userPoolId,
            Username: `user-${n}`,
            MessageAction: 'SUPPRESS',
            UserAttributes: [
              { Name: 'email', Value: `user-${n}-${randomUUID().slice(0, 8)}@example.com` },
              { Name: 'name', Value: name },
            ],
          }),
        );
        const sub = User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
        if (!sub) throw new Error('moto gave the user no sub');
        subs.push(sub);
      }
      return { userPoolId, subs };
    },
    stop: () => moto.stop(),
  };
};
