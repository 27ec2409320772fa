// Runs the real handlers, through their whole middy chain, the way Lambda does, with the output
// captured: the post-confirmation trigger, and the SQS consumers on a batch of records. AWS is whatever the test points the SDK at: mocks (aws-mocks.ts)
// or moto (tests/aws).

import { readFileSync } from 'node:fs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { vi } from 'vitest';
import { createHandler } from '../../src/handlers/post-confirmation.js';
import { lambdaContext } from './lambda-context.js';
import { type CapturedOutput, captureOutput } from './output.js';

/** Sets variables for the next invocations; an undefined value unsets one. */
export const setEnv = (vars: Record<string, string | undefined>): void => {
  for (const [name, value] of Object.entries(vars)) vi.stubEnv(name, value ?? '');
};

export const loadEvent = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));

export interface Invocation {
  result: unknown;
  elapsedMs: number;
  output: CapturedOutput;
}

/**
 * One invocation of the chain as Lambda builds it: from the environment the test set (a container
 * reads it once at start; middy's cache of the secrets is the container's and lives on between
 * invocations, until `resetHandlerState` clears it).
 */
export const invokeHandler = async (event: unknown): Promise<Invocation> => {
  const handler = createHandler();
  const output = captureOutput();
  const started = performance.now();
  try {
    const result = await handler(event, lambdaContext());
    return { result, elapsedMs: performance.now() - started, output };
  } finally {
    output.restore();
  }
};

/** One invocation of an SQS consumer's chain, built from the environment the test set, on `records`. */
export const invokeConsumer = async (
  createConsumer: () => (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>,
  records: SQSRecord[],
): Promise<{ result: SQSBatchResponse; output: CapturedOutput }> => {
  const handler = createConsumer();
  const output = captureOutput();
  try {
    const result = await handler(
      { Records: records },
      lambdaContext({ getRemainingTimeInMillis: () => 30_000 }),
    );
    return { result, output };
  } finally {
    output.restore();
  }
};
