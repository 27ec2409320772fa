// A Lambda context for local runs: the function name, a request id and a 5 s clock, like
// Cognito's invocation of the trigger.

import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export const createLambdaContext = ({
  functionName = 'cognito-user-sync-post-confirmation',
  timeoutMs = 5000,
}: {
  functionName?: string;
  timeoutMs?: number;
} = {}): Context => {
  const endsAt = Date.now() + timeoutMs;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, endsAt - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } satisfies Context;
};
