// What every phase measures in: moto, the X-Ray sink and the User Service, started once, and the
// Lambda-like environment of each function; plus where the task roots are and how a handler is
// invoked in a measured process.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startMoto } from '../../scripts/moto.mjs';
import { createApiKeySecret, createQueues, type Moto } from './aws-fixtures.js';
import {
  type Env,
  lambdaEnv,
  lambdaNodeFlags,
  ROOT,
  runMeasured,
  UserServiceProcess,
  XraySink,
} from './processes.js';

export const BUILD = join(ROOT, 'bench/.build');
export const API_KEY = 'bench-api-key-0123456789';
export const NODE_FLAGS = lambdaNodeFlags(256);

/** The two handlers measured side by side: the shipped post-confirmation one and the floor. */
export type Handler = 'shipped' | 'baseline';
/** The zip (its name without `.zip`) each handler comes from. */
export const HANDLER_ZIP: Record<Handler, string> = { shipped: 'post-confirmation', baseline: 'baseline' };
export const WORKER_ZIP = 'retry-worker';

/** Where a zip is unzipped, as Lambda unzips a function into /var/task. */
export const taskRoot = (zipName: string): string => join(BUILD, 'task-roots', zipName);

const INVOKE = join(ROOT, 'bench/lib/invoke.mjs');

export const POWERTOOLS = {
  POWERTOOLS_SERVICE_NAME: 'cognito-user-sync',
  POWERTOOLS_METRICS_NAMESPACE: 'CognitoUserSync',
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

export interface Setup {
  node22: { path: string; version: string };
  moto: Moto & { stop(): Promise<void> };
  xray: XraySink;
  userService: UserServiceProcess;
  secretArn: string;
  /** The post-confirmation event every cold, warm and deadline invocation starts from. */
  event: unknown;
  env: Record<Handler, Env>;
  workerEnv: Env;
}

export const setUp = async (node22: Setup['node22']): Promise<Setup> => {
  const moto = await startMoto();
  const xray = await XraySink.start();
  let userService: UserServiceProcess | undefined;
  try {
    userService = await UserServiceProcess.start(node22.path, API_KEY);
    return await configure(node22, moto, xray, userService);
  } catch (error) {
    await userService?.stop();
    xray.close();
    await moto.stop();
    throw error;
  }
};

export const tearDown = async (setup: Setup): Promise<void> => {
  await setup.userService.stop();
  setup.xray.close();
  await setup.moto.stop();
};

const configure = async (
  node22: Setup['node22'],
  moto: Setup['moto'],
  xray: XraySink,
  userService: UserServiceProcess,
): Promise<Setup> => {
  const secretArn = await createApiKeySecret(moto, API_KEY);
  const shippedQueues = await createQueues(moto, 'bench-post-confirmation');
  const workerQueues = await createQueues(moto, 'bench-worker');
  const common = { xrayDaemon: xray.address, awsEndpoint: moto.endpoint };
  return {
    node22,
    moto,
    xray,
    userService,
    secretArn,
    event: JSON.parse(await readFile(join(ROOT, 'events/post-confirmation-signup.json'), 'utf8')),
    env: {
      shipped: lambdaEnv(
        {
          ...common,
          functionName: 'cognito-user-sync-post-confirmation',
          taskRoot: taskRoot(HANDLER_ZIP.shipped),
        },
        {
          ...POWERTOOLS,
          USER_SERVICE_URL: userService.url,
          USER_SERVICE_API_KEY_SECRET_ID: secretArn,
          RETRY_QUEUE_URL: shippedQueues.retryQueueUrl,
          DEAD_LETTER_QUEUE_URL: shippedQueues.deadLetterQueueUrl,
        },
      ),
      baseline: lambdaEnv(
        { ...common, functionName: 'bench-baseline', taskRoot: taskRoot(HANDLER_ZIP.baseline) },
        { USER_SERVICE_URL: userService.url, USER_SERVICE_API_KEY: API_KEY },
      ),
    },
    workerEnv: lambdaEnv(
      { ...common, functionName: 'cognito-user-sync-retry-worker', taskRoot: taskRoot(WORKER_ZIP) },
      {
        ...POWERTOOLS,
        USER_SERVICE_URL: userService.url,
        USER_SERVICE_API_KEY_SECRET_ID: secretArn,
        RETRY_QUEUE_URL: workerQueues.retryQueueUrl,
        DEAD_LETTER_QUEUE_URL: workerQueues.deadLetterQueueUrl,
      },
    ),
  };
};

/** One measured process of bench/lib/invoke.mjs for `handler`; `extra` sets its BENCH_MODE and the rest. */
export const invoke = <T>(setup: Setup, handler: Handler, extra: Env, extraFlags: string[] = []) =>
  runMeasured<T>(setup.node22.path, INVOKE, {
    env: { ...setup.env[handler], BENCH_EVENT: JSON.stringify(setup.event), ...extra },
    cwd: setup.env[handler].LAMBDA_TASK_ROOT ?? ROOT,
    nodeFlags: [...NODE_FLAGS, ...extraFlags],
  });
