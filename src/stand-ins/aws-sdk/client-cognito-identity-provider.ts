// Bundled in place of @aws-sdk/client-cognito-identity-provider in the Lambda zips
// (scripts/package.mjs): the client and the commands the functions use, on the small AWS JSON
// client (../aws-json-client.ts), typed with the SDK's own inputs and outputs. The command line
// keeps the SDK.
import type {
  AdminGetUserCommandInput,
  AdminGetUserCommandOutput,
  DescribeUserPoolCommandInput,
  DescribeUserPoolCommandOutput,
  ListUsersCommandInput,
  ListUsersCommandOutput,
} from '@aws-sdk/client-cognito-identity-provider';
import { AwsJsonClient, type AwsJsonClientConfig, defineCommand } from '../aws-json-client.js';

const SERVICE = {
  clientName: 'CognitoIdentityProviderClient',
  serviceId: 'Cognito Identity Provider',
  endpointPrefix: 'cognito-idp',
  signingName: 'cognito-idp',
  target: 'AWSCognitoIdentityProviderService',
  jsonVersion: '1.1',
} as const;

export class CognitoIdentityProviderClient extends AwsJsonClient {
  constructor(config?: AwsJsonClientConfig) {
    super(SERVICE, config);
  }
}

export const AdminGetUserCommand = defineCommand<AdminGetUserCommandInput, AdminGetUserCommandOutput>(
  'AdminGetUser',
  { dates: ['UserCreateDate', 'UserLastModifiedDate'] },
);

export const ListUsersCommand = defineCommand<ListUsersCommandInput, ListUsersCommandOutput>('ListUsers', {
  dates: ['Users[].UserCreateDate', 'Users[].UserLastModifiedDate'],
});

export const DescribeUserPoolCommand = defineCommand<
  DescribeUserPoolCommandInput,
  DescribeUserPoolCommandOutput
>('DescribeUserPool', { dates: ['UserPool.LastModifiedDate', 'UserPool.CreationDate'] });
