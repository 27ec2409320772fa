// Bundled in place of @aws-sdk/client-cognito-identity-provider in the Lambda zips
// (scripts/package.mjs): the client and the commands the functions use, on the small AWS JSON
// client (../aws-json-client.mjs). The command line keeps the SDK.
import { AwsJsonClient, defineCommand } from '../aws-json-client.mjs';

const SERVICE = {
  clientName: 'CognitoIdentityProviderClient',
  serviceId: 'Cognito Identity Provider',
  endpointPrefix: 'cognito-idp',
  signingName: 'cognito-idp',
  target: 'AWSCognitoIdentityProviderService',
  jsonVersion: '1.1',
};

export class CognitoIdentityProviderClient extends AwsJsonClient {
  constructor(config) {
    super(SERVICE, config);
  }
}

export const AdminGetUserCommand = defineCommand('AdminGetUser', {
  dates: ['UserCreateDate', 'UserLastModifiedDate'],
});

export const ListUsersCommand = defineCommand('ListUsers', {
  dates: ['Users[].UserCreateDate', 'Users[].UserLastModifiedDate'],
});

export const DescribeUserPoolCommand = defineCommand('DescribeUserPool', {
  dates: ['UserPool.LastModifiedDate', 'UserPool.CreationDate'],
});
