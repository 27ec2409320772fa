// The scheduled reconcile: a schedule starts a run; each invocation compares as many slices of the
// sub space as its time allows, fans the repairs out to the changes queue (the user-changes
// workers, whose concurrency spares the User Service, write them), and hands its position on
// through the reconcile queue to the next invocation. No machine of the user's runs for hours,
// and a pool of millions finishes. Drift counts are metrics; the run's end is one too.
// Outermost first: tracer → logger → metrics → input/output logger → secrets → core; a failure
// fails the invocation, and SQS delivers the position again (then dead-letters it).

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import inputOutputLogger from '@middy/input-output-logger';
import type { Context, SQSEvent } from 'aws-lambda';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { estimatedUserCount, regionOfUserPool } from '../clients/cognito-users.js';
import { type Credentials, credentialSources } from '../clients/credentials.js';
import { lazy } from '../clients/lazy.js';
import { createPacer } from '../clients/pacer.js';
import { sqsJson } from '../clients/user-queue.js';
import { createUserServiceClient } from '../clients/user-service.js';
import {
  type Env,
  readReconcileConfig,
  readUserPolicy,
  readUserPoolId,
  readUserServiceConfig,
} from '../config.js';
import { startDeadline } from '../core/deadline.js';
import { maskSqsEvent } from '../core/mask.js';
import {
  countSlice,
  emptyReconcileCounts,
  type ReconcileCounts,
  reconcileSlice,
  sliceDigitsFor,
  slicePrefixes,
} from '../core/reconcile.js';
import { reconcileSources } from '../core/reconcile-sources.js';
import { REPAIR_TYPE, type RepairMessage } from '../core/user-change.js';
import { MalformedMessageError } from '../errors.js';
import { isRecord } from '../guards.js';
import { MetricName } from '../metric-names.js';
import { debugInputOutput, logger, metrics, tracer } from '../observability.js';
import { credentialsStage } from './credentials.js';

/** Time an invocation keeps free at its end: a slice started with less left is handed on. */
export const HAND_OFF_MS = 120_000;
const SECRETS_WAIT_MS = 10_000;

/** Where a run is, as the reconcile queue carries it from one invocation to the next. */
export interface ReconcilePosition {
  type: 'cognito-user-sync.reconcile';
  version: 1;
  runId: string;
  userPoolId: string;
  startedAt: string;
  sliceDigits: number;
  nextSlice: number;
  deletesLeft: number;
  counts: ReconcileCounts;
}

const POSITION_TYPE = 'cognito-user-sync.reconcile';

export interface ReconcileContext extends Context {
  credentials?: Credentials;
}

const sqsClient = lazy(() => tracer.captureAWSv3Client(new SQSClient(AWS_CLIENT_PROFILES.worker)));

/** A position from the queue; throws a MalformedMessageError (the message then dead-letters). */
const parsePosition = (body: string, userPoolId: string): ReconcilePosition => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new MalformedMessageError('the reconcile position is not JSON');
  }
  if (!isRecord(value) || value.type !== POSITION_TYPE || value.version !== 1) {
    throw new MalformedMessageError('not a reconcile position');
  }
  if (value.userPoolId !== userPoolId) throw new MalformedMessageError('a position of another pool');
  for (const key of ['sliceDigits', 'nextSlice', 'deletesLeft'] as const) {
    if (!Number.isSafeInteger(value[key]) || (value[key] as number) < 0) {
      throw new MalformedMessageError(`a position without a valid ${key}`);
    }
  }
  if (!isRecord(value.counts) || typeof value.runId !== 'string')
    throw new MalformedMessageError('a position without counts');
  return value as unknown as ReconcilePosition;
};

/** The positions this invocation continues: one from the queue, or a new run from the schedule. */
const positionsOf = async (
  event: unknown,
  userPoolId: string,
  { maxDeletes, sliceDigits: fixed }: { maxDeletes: number; sliceDigits: number | undefined },
  cognito: CognitoIdentityProviderClient,
) => {
  if (isRecord(event) && Array.isArray(event.Records)) {
    return (event as unknown as SQSEvent).Records.map((record) => parsePosition(record.body, userPoolId));
  }
  // Anything else is a start: the schedule's event (or an invocation by hand).
  const sliceDigits = fixed ?? sliceDigitsFor(await estimatedUserCount(cognito, userPoolId));
  const startedAt = new Date().toISOString();
  return [
    {
      type: POSITION_TYPE,
      version: 1,
      runId: `${userPoolId}-${startedAt}`,
      userPoolId,
      startedAt,
      sliceDigits,
      nextSlice: 0,
      deletesLeft: maxDeletes,
      counts: emptyReconcileCounts(slicePrefixes(sliceDigits).length),
    } satisfies ReconcilePosition,
  ];
};

/** Sends repairs to the changes queue, ten a call. */
const sendRepairs = async (queueUrl: string, repairs: RepairMessage[]): Promise<void> => {
  for (let start = 0; start < repairs.length; start += 10) {
    const entries = repairs.slice(start, start + 10).map((repair, index) => ({
      Id: String(index),
      MessageBody: sqsJson(repair),
    }));
    const { Failed = [] } = await sqsClient().send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    if (Failed.length > 0)
      throw new Error(`${Failed.length} repair(s) could not be sent: ${Failed[0]?.Code ?? 'unknown'}`);
  }
};

const reconcileRun = async (event: unknown, context: ReconcileContext): Promise<void> => {
  const { credentials } = context;
  if (credentials === undefined) throw new Error('the credentials stage runs before the core');
  const userPoolId = readUserPoolId();
  const policy = readUserPolicy();
  const config = readReconcileConfig();
  const { reconcileQueueUrl, changesQueueUrl, maxRps } = config;
  const cognito = tracer.captureAWSv3Client(
    new CognitoIdentityProviderClient({
      ...AWS_CLIENT_PROFILES.worker,
      region: regionOfUserPool(userPoolId),
    }),
  );
  const sources = reconcileSources({
    cognito,
    userPoolId,
    userService: createUserServiceClient({
      ...readUserServiceConfig(),
      baseBackoffMs: 200,
      maxBackoffMs: 5000,
    }),
    credentials,
    policy,
    listPacer: createPacer({ maxRps }),
    getPacer: createPacer({ maxRps: 20 }),
  });

  for (const position of await positionsOf(event, userPoolId, config, cognito)) {
    const prefixes = slicePrefixes(position.sliceDigits);
    logger.appendKeys({ runId: position.runId, userPoolId });
    // At least one slice per invocation, then as many as the time allows.
    let first = true;
    while (
      position.nextSlice < prefixes.length &&
      (first || context.getRemainingTimeInMillis() > HAND_OFF_MS)
    ) {
      first = false;
      const prefix = prefixes[position.nextSlice] ?? '';
      const result = await reconcileSlice(prefix, sources);
      countSlice(position.counts, result);
      const repairs: RepairMessage[] = [
        ...[...result.drift.missing, ...result.drift.different.map(({ user }) => user)].map(
          (user): RepairMessage => ({
            type: REPAIR_TYPE,
            version: 1,
            userPoolId,
            sub: user.sub,
            action: 'sync',
          }),
        ),
      ];
      const deletable = result.orphaned.slice(0, position.deletesLeft);
      position.counts.deletesCapped += result.orphaned.length - deletable.length;
      position.deletesLeft -= deletable.length;
      repairs.push(
        ...deletable.map(
          (sub): RepairMessage => ({ type: REPAIR_TYPE, version: 1, userPoolId, sub, action: 'delete' }),
        ),
      );
      await sendRepairs(changesQueueUrl, repairs);
      position.counts.created += result.drift.missing.length;
      position.counts.updated += result.drift.different.length;
      position.counts.deleted += deletable.length;
      metrics.addMetric(MetricName.ReconcileUsersChecked, MetricUnit.Count, result.drift.checked);
      metrics.addMetric(MetricName.ReconcileMissing, MetricUnit.Count, result.drift.missing.length);
      metrics.addMetric(MetricName.ReconcileDifferent, MetricUnit.Count, result.drift.different.length);
      metrics.addMetric(MetricName.ReconcileOrphaned, MetricUnit.Count, result.orphaned.length);
      logger.info('Reconcile slice compared; repairs sent to the changes queue', {
        slice: position.nextSlice + 1,
        slices: prefixes.length,
        checked: result.drift.checked,
        missing: result.drift.missing.length,
        different: result.drift.different.length,
        orphaned: result.orphaned.length,
        deletesCapped: result.orphaned.length - deletable.length,
      });
      position.nextSlice++;
    }
    if (position.nextSlice < prefixes.length) {
      await sqsClient().send(
        new SendMessageCommand({ QueueUrl: reconcileQueueUrl, MessageBody: sqsJson(position) }),
      );
      logger.info('Reconcile handed on to the next invocation', {
        nextSlice: position.nextSlice + 1,
        slices: prefixes.length,
      });
    } else {
      metrics.addMetric(MetricName.ReconcileRunCompleted, MetricUnit.Count, 1);
      logger.info('Reconcile run completed', { startedAt: position.startedAt, ...position.counts });
    }
  }
};

/** Builds the chain for an environment; Lambda's is read once, when the module loads. */
export const createHandler = (env: Env = process.env) =>
  middy<unknown, void, Error, ReconcileContext>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics))
    .use(inputOutputLogger({ logger: debugInputOutput(maskSqsEvent) }))
    .use(
      credentialsStage<ReconcileContext>({
        sources: credentialSources(env),
        profile: AWS_CLIENT_PROFILES.worker,
        within: (_request, pending) => startDeadline(SECRETS_WAIT_MS).race(pending, 'Secrets Manager'),
      }),
    )
    .handler(reconcileRun);

export const handler = createHandler();
