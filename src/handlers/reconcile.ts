// The scheduled reconcile: a schedule starts a run; each invocation compares as many slices of the
// sub space as its time allows, fans the repairs out to the changes queue (the user-changes
// workers, whose concurrency spares the User Service, write them), and hands its position on
// through the reconcile queue to the next invocation. No machine of the user's runs for hours,
// and a pool of millions finishes. The run's state is in its ledger (a DynamoDB table): see
// src/core/reconcile-run.ts for why no delivery, retry or message can start a second chain or
// raise the deletion cap. Drift counts are metrics; the run's end is one too.
// Outermost first: tracer → logger → metrics → input/output logger → resolve once (the
// configuration, read once per container) → secrets → core; a failure
// fails the invocation, and SQS delivers the position again (then dead-letters it), or Lambda
// tries the schedule's event again: either carries on from the ledger.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import inputOutputLogger from '@middy/input-output-logger';
import type { Context, SQSEvent } from 'aws-lambda';
import { resolveOnce } from '../../middlewares/resolve-once.js';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { regionOfUserPool } from '../clients/cognito-users.js';
import { type Credentials, credentialSources } from '../clients/credentials.js';
import { lazy } from '../clients/lazy.js';
import { createPacer } from '../clients/pacer.js';
import { dynamoRunLedger } from '../clients/run-ledger.js';
import { sqsJson } from '../clients/user-queue.js';
import { createUserServiceClient } from '../clients/user-service.js';
import {
  type ConfigReading,
  configOnce,
  type Env,
  RECONCILE_CONFIG,
  type ReconcileConfig,
  wholeOf,
} from '../config.js';
import { startDeadline } from '../core/deadline.js';
import { maskSqsEvent } from '../core/mask.js';
import { planSlice, type SlicePlan } from '../core/reconcile.js';
import {
  CONFIRM_RESERVE_MS,
  parsePosition,
  type ReconcilePosition,
  type RunDeps,
  START_ID,
  type StepOutcome,
  startRun,
  stepOf,
} from '../core/reconcile-run.js';
import { reconcileSources, sliceThePool } from '../core/reconcile-sources.js';
import { type RepairMessage, repairMessage } from '../domain/user-events.js';
import { isRecord } from '../guards.js';
import { MetricName } from '../metric-names.js';
import { debugInputOutput, logger, metrics, tracer } from '../observability.js';
import { credentialsStage } from './credentials.js';

const SECRETS_WAIT_MS = 10_000;

export interface ReconcileContext extends Context {
  config?: ConfigReading<ReconcileConfig>;
  credentials?: Credentials;
}

const sqsClient = lazy(() => tracer.captureAWSv3Client(new SQSClient(AWS_CLIENT_PROFILES.worker)));
const dynamoClient = lazy(() => tracer.captureAWSv3Client(new DynamoDBClient(AWS_CLIENT_PROFILES.worker)));

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

/** A slice's repairs as the user-changes function reads them. */
const repairsOf = (userPoolId: string, plan: SlicePlan): RepairMessage[] => [
  ...plan.drift.missing.map((user) => repairMessage(userPoolId, user.sub, 'sync')),
  ...plan.drift.different.map(({ user }) => repairMessage(userPoolId, user.sub, 'sync')),
  ...plan.removals.map(({ sub, kind }) =>
    repairMessage(userPoolId, sub, kind === 'orphaned' ? 'delete' : 'remove'),
  ),
];

/** Metrics and a log line for one slice. */
const reportSlice: RunDeps['onSlice'] = ({ slice, slices, plan }) => {
  const count = (kind: string) => plan.removals.filter((removal) => removal.kind === kind).length;
  metrics.addMetric(MetricName.ReconcileUsersChecked, MetricUnit.Count, plan.drift.checked);
  metrics.addMetric(MetricName.ReconcileMissing, MetricUnit.Count, plan.drift.missing.length);
  metrics.addMetric(MetricName.ReconcileDifferent, MetricUnit.Count, plan.drift.different.length);
  metrics.addMetric(MetricName.ReconcileOrphaned, MetricUnit.Count, count('orphaned'));
  metrics.addMetric(MetricName.ReconcileExcluded, MetricUnit.Count, count('excluded'));
  metrics.addMetric(MetricName.ReconcileDeletesCapped, MetricUnit.Count, plan.capped.length);
  logger.info('Reconcile slice compared; repairs sent to the changes queue', {
    slice: slice + 1,
    slices,
    checked: plan.drift.checked,
    missing: plan.drift.missing.length,
    different: plan.drift.different.length,
    orphaned: count('orphaned'),
    excluded: count('excluded'),
    deletesCapped: plan.capped.length,
  });
};

/** The log line of a step: what it did, or why it did nothing. */
const reportStep = (step: StepOutcome): void => {
  if (step.outcome === 'ignored') {
    logger.info('Reconcile step ignored: nothing to do', { runId: step.runId, reason: step.reason });
  } else if (step.outcome === 'handed-on') {
    logger.info('Reconcile step done earlier; its hand-off sent now', {
      runId: step.runId,
      nextSlice: step.nextSlice + 1,
    });
  } else if (step.completed) {
    metrics.addMetric(MetricName.ReconcileRunCompleted, MetricUnit.Count, 1);
    logger.info('Reconcile run completed', { runId: step.runId, ...step.counts });
  } else {
    logger.info('Reconcile handed on to the next invocation', {
      runId: step.runId,
      nextSlice: step.nextSlice + 1,
      slices: step.counts.slices,
    });
  }
};

/** Whether the event is the reconcile queue's (positions), not the schedule's (a start). */
const isQueueEvent = (event: unknown): event is SQSEvent => isRecord(event) && Array.isArray(event.Records);

const reconcileRun = async (event: unknown, context: ReconcileContext): Promise<void> => {
  const { credentials } = context;
  if (context.config === undefined || credentials === undefined)
    throw new Error('resolveOnce and the credentials stage run before the core');
  const config = wholeOf(context.config);
  const { userPoolId, statuses, userDefaults, disabledStatus } = config;
  const policy = { statuses, userDefaults, disabledStatus };
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
      ...config.userService,
      baseBackoffMs: 200,
      maxBackoffMs: 5000,
    }),
    credentials,
    policy,
    listPacer: createPacer({ maxRps: config.maxRps }),
    getPacer: createPacer({ maxRps: 20 }),
  });
  const deps: RunDeps = {
    config: { userPoolId, maxDeletes: config.maxDeletes },
    ledger: dynamoRunLedger(dynamoClient, config.tableName),
    sliceDigits: async () => {
      if (config.sliceDigits !== undefined) return config.sliceDigits;
      const slicing = await sliceThePool(cognito, userPoolId);
      if (slicing.unknownBecause !== undefined) {
        logger.warn("The pool's size is unknown (DescribeUserPool failed): the finest slicing is used", {
          reason: slicing.unknownBecause,
          slices: 16 ** slicing.sliceDigits,
        });
      }
      return slicing.sliceDigits;
    },
    // Confirming deletion candidates stops with CONFIRM_RESERVE_MS left: the slice must end in time.
    plan: (prefix, allowed) =>
      planSlice(prefix, sources, allowed, () => context.getRemainingTimeInMillis() < CONFIRM_RESERVE_MS),
    sendRepairs: (plan) => sendRepairs(config.changesQueueUrl, repairsOf(userPoolId, plan)),
    handOff: async (position: ReconcilePosition) => {
      await sqsClient().send(
        new SendMessageCommand({ QueueUrl: config.reconcileQueueUrl, MessageBody: sqsJson(position) }),
      );
    },
    remainingMs: () => context.getRemainingTimeInMillis(),
    onSlice: reportSlice,
  };
  logger.appendKeys({ userPoolId });

  if (!isQueueEvent(event)) {
    // The schedule's event (or an invocation by hand): a new run, named by the event's id, which
    // Lambda's retries of it keep (EventBridge, "Amazon EventBridge events": every event has an id).
    const startId =
      isRecord(event) && typeof event.id === 'string' && START_ID.test(event.id)
        ? event.id
        : context.awsRequestId;
    const eventTime = isRecord(event) && typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN;
    reportStep(await startRun(startId, deps, Number.isNaN(eventTime) ? undefined : eventTime));
    return;
  }
  for (const record of event.Records) {
    // A position that is no position of ours fails the invocation: SQS dead-letters it after its
    // receives, where the alarm on the reconcile dead-letter queue sees it.
    reportStep(await stepOf(parsePosition(record.body, userPoolId), deps));
  }
};

/**
 * Builds the chain for an environment (one container); its configuration is read at the first
 * invocation, and kept once valid.
 */
export const createHandler = (env: Env = process.env) =>
  middy<unknown, void, Error, ReconcileContext>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }))
    .use(logMetrics(metrics))
    .use(inputOutputLogger({ logger: debugInputOutput(maskSqsEvent) }))
    .use(
      resolveOnce<ConfigReading<ReconcileConfig>>({
        resolve: configOnce(RECONCILE_CONFIG, env),
        contextKey: 'config',
      }),
    )
    .use(
      credentialsStage<ReconcileContext>({
        sources: credentialSources(env),
        profile: AWS_CLIENT_PROFILES.worker,
        within: (_request, pending) => startDeadline(SECRETS_WAIT_MS).race(pending, 'Secrets Manager'),
      }),
    )
    .handler(reconcileRun);

export const handler = createHandler();
