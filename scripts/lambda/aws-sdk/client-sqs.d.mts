import { AwsJsonClient, type AwsJsonClientConfig, type CommandClass } from '../aws-json-client.mjs';

export declare class SQSClient extends AwsJsonClient {
  constructor(config?: AwsJsonClientConfig);
}
export declare const SendMessageCommand: CommandClass;
export declare const SendMessageBatchCommand: CommandClass;
export declare const ChangeMessageVisibilityCommand: CommandClass;
