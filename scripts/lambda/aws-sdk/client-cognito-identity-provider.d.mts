import { AwsJsonClient, type AwsJsonClientConfig, type CommandClass } from '../aws-json-client.mjs';

export declare class CognitoIdentityProviderClient extends AwsJsonClient {
  constructor(config?: AwsJsonClientConfig);
}
export declare const AdminGetUserCommand: CommandClass;
export declare const ListUsersCommand: CommandClass;
export declare const DescribeUserPoolCommand: CommandClass;
