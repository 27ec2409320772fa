// The scheduled reconcile's run ledger on moto: a DynamoDB table as both IaC flavours make it
// (a string partition key `userPoolId`, on demand), and a look at what it holds.

import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

export const createLedgerTable = async (): Promise<string> => {
  const TableName = `cus-reconcile-runs-${randomUUID().slice(0, 8)}`;
  await new DynamoDBClient({}).send(
    new CreateTableCommand({
      TableName,
      AttributeDefinitions: [{ AttributeName: 'userPoolId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'userPoolId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return TableName;
};

/** The run the ledger holds for a pool: its plain fields. */
export const ledgerRun = async (TableName: string, userPoolId: string) => {
  const { Item } = await new DynamoDBClient({}).send(
    new GetItemCommand({ TableName, Key: { userPoolId: { S: userPoolId } }, ConsistentRead: true }),
  );
  if (!Item) return undefined;
  return {
    runId: Item.runId?.S,
    status: Item.status?.S,
    sliceDigits: Number(Item.sliceDigits?.N),
    nextSlice: Number(Item.nextSlice?.N),
    maxDeletes: Number(Item.maxDeletes?.N),
    deletesAsked: Number(Item.deletesAsked?.N),
  };
};
