// Bundled in place of @aws-sdk/client-dynamodb in the Lambda zips (scripts/package.mjs): the client
// and the commands the scheduled reconcile's run ledger uses (src/clients/run-ledger.ts), on the
// small AWS JSON client (../aws-json-client.mjs). DynamoDB speaks AWS JSON 1.0 with the target
// prefix DynamoDB_20120810 (DynamoDB API reference, "Making HTTP requests"); its errors'
// `__type` is `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`, named by what
// follows the `#`, as the SDK names them. Attribute values stay as DynamoDB sends them (the ledger
// uses strings, numbers, booleans and maps: no binary to decode). The command line and the tests
// keep the SDK.
import { AwsJsonClient, defineCommand } from '../aws-json-client.mjs';

const SERVICE = {
  clientName: 'DynamoDBClient',
  serviceId: 'DynamoDB',
  endpointPrefix: 'dynamodb',
  signingName: 'dynamodb',
  target: 'DynamoDB_20120810',
  jsonVersion: '1.0',
};

export class DynamoDBClient extends AwsJsonClient {
  constructor(config) {
    super(SERVICE, config);
  }
}

export const GetItemCommand = defineCommand('GetItem');

export const PutItemCommand = defineCommand('PutItem');

export const UpdateItemCommand = defineCommand('UpdateItem');
