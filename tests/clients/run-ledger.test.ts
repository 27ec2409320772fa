// The run ledger's DynamoDB writes, against the API as aws-sdk-client-mock plays it (moto runs the
// whole ledger in the AWS tier). Here: a write applied whose answer was lost (a timeout, then the
// SDK's retry meets the write's own effect and its condition fails) counts as applied, not as a
// lost lease or a cap reached.

import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoRunLedger, LeaseLostError, type RunRecord } from '../../src/clients/run-ledger.js';

const dynamo = mockClient(DynamoDBClient);
const ledger = dynamoRunLedger(() => dynamo as unknown as DynamoDBClient, 'runs');
const run: RunRecord = {
  userPoolId: 'eu-west-1_Qx7Lm2Rt9',
  runId: 'eu-west-1_Qx7Lm2Rt9/event-1',
  status: 'running',
  startedAt: '2026-12-05T00:00:00.000Z',
  updatedAt: 0,
  sliceDigits: 1,
  nextSlice: 3,
  maxDeletes: 10,
  deletesAsked: 2,
  lease: 'lease-1',
  leaseUntil: 1,
  handedOff: false,
  counts: {},
};
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** The stored item after the write was applied, marked with the token the write carried (or another). */
const itemAfter = (token: string | undefined, changes: Record<string, AttributeValue>) => ({
  Item: {
    userPoolId: { S: run.userPoolId },
    runId: { S: run.runId },
    status: { S: 'running' },
    nextSlice: { N: String(run.nextSlice) },
    deletesAsked: { N: String(run.deletesAsked) },
    maxDeletes: { N: '10' },
    sliceDigits: { N: '1' },
    ...(token !== undefined && { lastWrite: { S: token } }),
    ...changes,
  },
});

/** The UpdateItem fails its condition, as the SDK's retry of an applied write does; GetItem shows the item. */
const appliedButUnanswered = (sameWrite: boolean, changes: Record<string, AttributeValue>) => {
  let token: string | undefined;
  dynamo.on(UpdateItemCommand).callsFake(async (input) => {
    token = input.ExpressionAttributeValues?.[':token']?.S;
    throw conditionFailed();
  });
  dynamo.on(GetItemCommand).callsFake(async () => itemAfter(sameWrite ? token : 'another-write', changes));
};

describe('the run ledger, when a write was applied but its answer lost', () => {
  beforeEach(() => dynamo.reset());

  it('reserveDeletes counts it reserved, once', async () => {
    appliedButUnanswered(true, { deletesAsked: { N: '5' } });

    await expect(ledger.reserveDeletes(run, 'lease-1', 3, 1000)).resolves.toBe(true);
    const update = dynamo.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(update?.UpdateExpression).toMatch(
      /^SET #lastWrite = :token, #deletesAsked = #deletesAsked \+ :deletes/,
    );
    expect(dynamo.commandCalls(GetItemCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('completeSlice returns the slice recorded, not a lost lease', async () => {
    appliedButUnanswered(true, { nextSlice: { N: '4' } });

    await expect(
      ledger.completeSlice(run, 'lease-1', { counts: {}, completed: false, release: true }, 1000),
    ).resolves.toMatchObject({ nextSlice: 4, runId: run.runId });
  });

  it("a condition that failed against another write's effect still refuses", async () => {
    appliedButUnanswered(false, { deletesAsked: { N: '10' } });
    await expect(ledger.reserveDeletes(run, 'lease-1', 3, 1000)).resolves.toBe(false);

    appliedButUnanswered(false, { nextSlice: { N: '4' }, lease: { S: 'lease-2' } });
    await expect(
      ledger.completeSlice(run, 'lease-1', { counts: {}, completed: false, release: true }, 1000),
    ).rejects.toBeInstanceOf(LeaseLostError);
  });

  it("a retry whose condition would still pass is refused by the write's own token: a reservation is never counted twice", async () => {
    dynamo.on(UpdateItemCommand).resolves({ Attributes: itemAfter(undefined, {}).Item });

    await ledger.reserveDeletes(run, 'lease-1', 1, 1000);
    await ledger.completeSlice(run, 'lease-1', { counts: {}, completed: false, release: true }, 1000);

    for (const call of dynamo.commandCalls(UpdateItemCommand)) {
      const input = call.args[0].input;
      expect(input.ConditionExpression).toMatch(
        / AND \(attribute_not_exists\(#lastWrite\) OR #lastWrite <> :token\)$/,
      );
      expect(input.ExpressionAttributeNames?.['#lastWrite']).toBe('lastWrite');
      expect(input.ExpressionAttributeValues?.[':token']?.S).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
