import type { Context } from 'aws-lambda';
import { createLambdaContext } from '../../src/cli/lambda-context.js';

/** A Lambda context as Cognito's invocation gives it: a 5 s timeout. */
export const lambdaContext = (overrides: Partial<Context> = {}): Context =>
  ({ ...createLambdaContext({ functionName: 'post-confirmation-test' }), ...overrides }) satisfies Context;
