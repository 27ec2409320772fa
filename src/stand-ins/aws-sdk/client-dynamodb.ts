// Bundled in place of @aws-sdk/client-dynamodb in the Lambda zips (scripts/package.mjs): the client
// and the commands the scheduled reconcile's run ledger uses (src/clients/run-ledger.ts), on the
// small AWS JSON client (../aws-json-client.ts), typed with the SDK's own inputs and outputs.
// DynamoDB speaks AWS JSON 1.0 with the target prefix DynamoDB_20120810 (DynamoDB API reference,
// "Making HTTP requests"); its errors' `__type` is
// `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`, named by what follows the
// `#`, as the SDK names them. Attribute values stay as DynamoDB sends them (the ledger uses
// strings, numbers, booleans and maps: no binary to decode). The command line and the tests keep
// the SDK.
import type {
  GetItemCommandInput,
  GetItemCommandOutput,
  PutItemCommandInput,
  PutItemCommandOutput,
  UpdateItemCommandInput,
  UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { AwsJsonClient, type AwsJsonClientConfig, defineCommand } from '../aws-json-client.js';

const SERVICE = {
  clientName: 'DynamoDBClient',
  serviceId: 'DynamoDB',
  endpointPrefix: 'dynamodb',
  signingName: 'dynamodb',
  target: 'DynamoDB_20120810',
  jsonVersion: '1.0',
} as const;

export class DynamoDBClient extends AwsJsonClient {
  constructor(config?: AwsJsonClientConfig) {
    super(SERVICE, config);
  }
}

export const GetItemCommand = defineCommand<GetItemCommandInput, GetItemCommandOutput>('GetItem');

export const PutItemCommand = defineCommand<PutItemCommandInput, PutItemCommandOutput>('PutItem');

export const UpdateItemCommand = defineCommand<UpdateItemCommandInput, UpdateItemCommandOutput>('UpdateItem');
