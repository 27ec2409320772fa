import { AwsJsonClient, type AwsJsonClientConfig, type CommandClass } from '../aws-json-client.mjs';

export declare class SecretsManagerClient extends AwsJsonClient {
  constructor(config?: AwsJsonClientConfig);
}
export declare const GetSecretValueCommand: CommandClass;
export declare const DescribeSecretCommand: CommandClass;
