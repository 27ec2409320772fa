// The scheduled reconcile's run ledger: one DynamoDB item per user pool, holding the run in hand
// (its id, the slice it has reached, its deletion budget and what it has asked for, its counts)
// and the lease of the one invocation working on it. Every write is conditional (DynamoDB
// condition expressions: a write whose condition fails changes nothing and answers
// ConditionalCheckFailedException, per the DynamoDB developer guide, "Condition expressions"), so
// whatever SQS delivers twice and whatever Lambda retries, one invocation at a time works on a
// run, a finished slice is never done again, and the deletions asked for never pass the cap. The
// pattern is the one Powertools' idempotency utility uses, on a table of our own.

import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

/** How long an item outlives its last write (the table's TTL attribute, `expiresAt`). */
const KEEP_SECONDS = 30 * 24 * 3600;

export interface RunRecord {
  userPoolId: string;
  runId: string;
  status: 'running' | 'completed';
  startedAt: string;
  /** Epoch ms of the last write: a run not written for long has stopped. */
  updatedAt: number;
  sliceDigits: number;
  /** The first slice not done. */
  nextSlice: number;
  /** The run's deletion cap, and the deletions asked for so far (counted before they are sent). */
  maxDeletes: number;
  deletesAsked: number;
  /** The invocation working on the run, and until when (epoch ms); none between invocations. */
  lease?: string | undefined;
  leaseUntil?: number | undefined;
  /** Whether the position of `nextSlice` has been sent to the next invocation. */
  handedOff: boolean;
  counts: Record<string, number>;
}

export interface RunLedger {
  /** The pool's current run, read consistently; undefined when it never had one. */
  get(userPoolId: string): Promise<RunRecord | undefined>;
  /** Makes `run` the pool's run, unless another run took its place since `replacing` was read. */
  start(run: RunRecord, replacing: string | undefined): Promise<boolean>;
  /** Takes the lease of the run at `slice`, if no live invocation holds it: the record, or undefined. */
  claim(
    run: RunRecord,
    slice: number,
    lease: string,
    leaseUntil: number,
    now: number,
  ): Promise<RunRecord | undefined>;
  /** Counts `deletes` more deletions as asked for; false when the lease was lost or the cap would pass. */
  reserveDeletes(run: RunRecord, lease: string, deletes: number, now: number): Promise<boolean>;
  /** Records the slice `run.nextSlice` done, with the run's counts; `release` lets the lease go. */
  completeSlice(
    run: RunRecord,
    lease: string,
    update: { counts: Record<string, number>; completed: boolean; release: boolean },
    now: number,
  ): Promise<RunRecord>;
  /** Lets the lease go (a failed invocation), so a retry need not wait for it to run out. */
  release(run: RunRecord, lease: string): Promise<void>;
  /** Marks the position of `run.nextSlice` as sent; false when another invocation did it first. */
  markHandedOff(run: RunRecord): Promise<boolean>;
}

/** The lease was lost (it ran out and another invocation took the run): stop, change nothing. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

/**
 * Every attribute an expression names goes by an alias (`#name`): several of ours (`status`,
 * `counts`…) are, or may become, DynamoDB reserved words ("Reserved words in DynamoDB"). DynamoDB
 * refuses an alias no expression uses, so only those used are sent.
 */
const ATTRIBUTES = [
  'userPoolId',
  'runId',
  'status',
  'lease',
  'leaseUntil',
  'nextSlice',
  'deletesAsked',
  'handedOff',
  'counts',
  'updatedAt',
  'expiresAt',
  'lastWrite',
] as const;

const namesIn = (...expressions: string[]): Record<string, string> => {
  const text = expressions.join(' ');
  return Object.fromEntries(
    ATTRIBUTES.filter((name) => new RegExp(`#${name}\\b`).test(text)).map((name) => [`#${name}`, name]),
  );
};

const isConditionFailure = (error: unknown): boolean =>
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

const itemOf = (run: RunRecord, now: number): Record<string, AttributeValue> => ({
  userPoolId: S(run.userPoolId),
  runId: S(run.runId),
  status: S(run.status),
  startedAt: S(run.startedAt),
  updatedAt: N(now),
  sliceDigits: N(run.sliceDigits),
  nextSlice: N(run.nextSlice),
  maxDeletes: N(run.maxDeletes),
  deletesAsked: N(run.deletesAsked),
  handedOff: { BOOL: run.handedOff },
  counts: countsItem(run.counts),
  expiresAt: N(Math.floor(now / 1000) + KEEP_SECONDS),
});

const countsItem = (counts: Record<string, number>): AttributeValue => ({
  M: Object.fromEntries(Object.entries(counts).map(([name, value]) => [name, N(value)])),
});

const numberOf = (value: AttributeValue | undefined): number | undefined =>
  value?.N === undefined ? undefined : Number(value.N);

const recordOf = (item: Record<string, AttributeValue>): RunRecord => ({
  userPoolId: item.userPoolId?.S ?? '',
  runId: item.runId?.S ?? '',
  status: item.status?.S === 'completed' ? 'completed' : 'running',
  startedAt: item.startedAt?.S ?? '',
  updatedAt: numberOf(item.updatedAt) ?? 0,
  sliceDigits: numberOf(item.sliceDigits) ?? 0,
  nextSlice: numberOf(item.nextSlice) ?? 0,
  maxDeletes: numberOf(item.maxDeletes) ?? 0,
  deletesAsked: numberOf(item.deletesAsked) ?? 0,
  lease: item.lease?.S,
  leaseUntil: numberOf(item.leaseUntil),
  handedOff: item.handedOff?.BOOL === true,
  counts: Object.fromEntries(
    Object.entries(item.counts?.M ?? {}).map(([name, value]) => [name, numberOf(value) ?? 0]),
  ),
});

/** The ledger on a DynamoDB table keyed by `userPoolId` (a string). */
export const dynamoRunLedger = (client: () => DynamoDBClient, tableName: string): RunLedger => {
  const key = (userPoolId: string) => ({ userPoolId: S(userPoolId) });
  const expiresAt = (now: number) => N(Math.floor(now / 1000) + KEEP_SECONDS);

  /**
   * One conditional UpdateItem on the pool's item; the new item, or undefined when the condition
   * failed. A write marked `once` carries a token: the SDK may retry a write that was applied but
   * not answered in time, and the retry's condition then fails against the write's own effect. A
   * failed condition is read back: the token in the item says the write was applied after all.
   */
  const update = async (
    run: RunRecord,
    {
      expression,
      condition,
      values,
      once = false,
    }: { expression: string; condition: string; values: Record<string, AttributeValue>; once?: boolean },
  ): Promise<RunRecord | undefined> => {
    const token = once ? crypto.randomUUID() : undefined;
    const marked =
      token === undefined ? expression : expression.replace(/^SET /, 'SET #lastWrite = :token, ');
    // A retry of a write already applied must not apply it again (a reservation counted twice).
    const guarded =
      token === undefined
        ? condition
        : `(${condition}) AND (attribute_not_exists(#lastWrite) OR #lastWrite <> :token)`;
    try {
      const { Attributes } = await client().send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key(run.userPoolId),
          UpdateExpression: marked,
          ConditionExpression: guarded,
          ExpressionAttributeNames: namesIn(marked, guarded),
          ExpressionAttributeValues: {
            ':runId': S(run.runId),
            ...values,
            ...(token !== undefined && { ':token': S(token) }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? recordOf(Attributes) : undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      if (token === undefined) return undefined;
      const { Item } = await client().send(
        new GetItemCommand({ TableName: tableName, Key: key(run.userPoolId), ConsistentRead: true }),
      );
      return Item?.lastWrite?.S === token ? recordOf(Item) : undefined;
    }
  };
  /** The lease holder's condition: this run, this lease, at this slice. */
  const holding = '#runId = :runId AND #lease = :lease AND #nextSlice = :slice';

  return {
    async get(userPoolId) {
      const { Item } = await client().send(
        new GetItemCommand({ TableName: tableName, Key: key(userPoolId), ConsistentRead: true }),
      );
      return Item ? recordOf(Item) : undefined;
    },

    async start(run, replacing) {
      const condition = replacing === undefined ? 'attribute_not_exists(#userPoolId)' : '#runId = :replacing';
      try {
        await client().send(
          new PutItemCommand({
            TableName: tableName,
            Item: itemOf(run, run.updatedAt),
            ConditionExpression: condition,
            ExpressionAttributeNames: namesIn(condition),
            ...(replacing !== undefined && { ExpressionAttributeValues: { ':replacing': S(replacing) } }),
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    claim(run, slice, lease, leaseUntil, now) {
      return update(run, {
        expression: 'SET #lease = :lease, #leaseUntil = :until, #updatedAt = :now, #expiresAt = :expires',
        condition:
          '#runId = :runId AND #nextSlice = :slice AND #status = :running AND ' +
          '(attribute_not_exists(#lease) OR #leaseUntil < :now)',
        values: {
          ':lease': S(lease),
          ':until': N(leaseUntil),
          ':now': N(now),
          ':expires': expiresAt(now),
          ':slice': N(slice),
          ':running': S('running'),
        },
      });
    },

    async reserveDeletes(run, lease, deletes, now) {
      const reserved = await update(run, {
        expression: 'SET #deletesAsked = #deletesAsked + :deletes, #updatedAt = :now',
        // No arithmetic in a condition expression: the bound is worked out here.
        condition: `${holding} AND #deletesAsked <= :most`,
        values: {
          ':deletes': N(deletes),
          ':now': N(now),
          ':most': N(run.maxDeletes - deletes),
          ':lease': S(lease),
          ':slice': N(run.nextSlice),
        },
        once: true,
      });
      return reserved !== undefined;
    },

    async completeSlice(run, lease, { counts, completed, release }, now) {
      const done = await update(run, {
        expression:
          'SET #nextSlice = :next, #counts = :counts, #handedOff = :no, #status = :status, ' +
          `#updatedAt = :now, #expiresAt = :expires${release || completed ? ' REMOVE #lease, #leaseUntil' : ''}`,
        condition: holding,
        values: {
          ':next': N(run.nextSlice + 1),
          ':counts': countsItem(counts),
          ':no': { BOOL: false },
          ':status': S(completed ? 'completed' : 'running'),
          ':now': N(now),
          ':expires': expiresAt(now),
          ':lease': S(lease),
          ':slice': N(run.nextSlice),
        },
        once: true,
      });
      if (done === undefined) throw new LeaseLostError('another invocation took the run over');
      return done;
    },

    async release(run, lease) {
      await update(run, {
        expression: 'REMOVE #lease, #leaseUntil',
        condition: '#runId = :runId AND #lease = :lease',
        values: { ':lease': S(lease) },
      });
    },

    async markHandedOff(run) {
      const marked = await update(run, {
        expression: 'SET #handedOff = :yes',
        condition: '#runId = :runId AND #nextSlice = :slice AND #handedOff = :no',
        values: { ':yes': { BOOL: true }, ':no': { BOOL: false }, ':slice': N(run.nextSlice) },
      });
      return marked !== undefined;
    },
  };
};
