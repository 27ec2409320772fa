import { AwsJsonClient, type AwsJsonClientConfig, type CommandClass } from '../aws-json-client.mjs';

export declare class DynamoDBClient extends AwsJsonClient {
  constructor(config?: AwsJsonClientConfig);
}
export declare const GetItemCommand: CommandClass;
export declare const PutItemCommand: CommandClass;
export declare const UpdateItemCommand: CommandClass;
