// Bundled in place of @aws-sdk/client-secrets-manager in the Lambda zips (scripts/package.mjs):
// the client and the commands the functions and @middy/secrets-manager use, on the small AWS
// JSON client (../aws-json-client.mjs). The command line keeps the SDK.
import { AwsJsonClient, defineCommand } from '../aws-json-client.mjs';

const SERVICE = {
  clientName: 'SecretsManagerClient',
  serviceId: 'Secrets Manager',
  endpointPrefix: 'secretsmanager',
  signingName: 'secretsmanager',
  target: 'secretsmanager',
  jsonVersion: '1.1',
};

export class SecretsManagerClient extends AwsJsonClient {
  constructor(config) {
    super(SERVICE, config);
  }
}

export const GetSecretValueCommand = defineCommand('GetSecretValue', {
  dates: ['CreatedDate'],
  blobs: ['SecretBinary'],
});

export const DescribeSecretCommand = defineCommand('DescribeSecret', {
  dates: [
    'LastRotatedDate',
    'LastChangedDate',
    'LastAccessedDate',
    'DeletedDate',
    'NextRotationDate',
    'CreatedDate',
    'ReplicationStatus[].LastAccessedDate',
  ],
});
