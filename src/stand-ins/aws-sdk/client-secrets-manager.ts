// Bundled in place of @aws-sdk/client-secrets-manager in the Lambda zips (scripts/package.mjs):
// the client and the commands the functions and @middy/secrets-manager use, on the small AWS
// JSON client (../aws-json-client.ts), typed with the SDK's own inputs and outputs. The command
// line keeps the SDK.
import type {
  DescribeSecretCommandInput,
  DescribeSecretCommandOutput,
  GetSecretValueCommandInput,
  GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { AwsJsonClient, type AwsJsonClientConfig, defineCommand } from '../aws-json-client.js';

const SERVICE = {
  clientName: 'SecretsManagerClient',
  serviceId: 'Secrets Manager',
  endpointPrefix: 'secretsmanager',
  signingName: 'secretsmanager',
  target: 'secretsmanager',
  jsonVersion: '1.1',
} as const;

export class SecretsManagerClient extends AwsJsonClient {
  constructor(config?: AwsJsonClientConfig) {
    super(SERVICE, config);
  }
}

export const GetSecretValueCommand = defineCommand<GetSecretValueCommandInput, GetSecretValueCommandOutput>(
  'GetSecretValue',
  { dates: ['CreatedDate'], blobs: ['SecretBinary'] },
);

export const DescribeSecretCommand = defineCommand<DescribeSecretCommandInput, DescribeSecretCommandOutput>(
  'DescribeSecret',
  {
    dates: [
      'LastRotatedDate',
      'LastChangedDate',
      'LastAccessedDate',
      'DeletedDate',
      'NextRotationDate',
      'CreatedDate',
      'ReplicationStatus[].LastAccessedDate',
    ],
  },
);
