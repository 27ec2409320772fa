// The mistakes an operator makes (a missing queue, a port in use, expired credentials, a wrong pool
// id, a bad secret) as one line that says what to fix: no stack trace. Anything else is a bug,
// and keeps its stack.

import { CREDENTIALS_REFUSED } from '../clients/aws.js';
import { ConfigError, SecretUnavailableError, SigningError } from '../errors.js';

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'AuthorizationError']);

/** An error the AWS SDK raised for an answer of AWS's (it carries `$metadata`). */
const isAwsServiceError = (error: Error): boolean => '$metadata' in error;

/** One line naming what to fix, or undefined when the error is not an operator's mistake. */
export const describeOperatorError = (error: unknown): string | undefined => {
  if (!(error instanceof Error)) return undefined;
  if (
    error instanceof ConfigError ||
    error instanceof SecretUnavailableError ||
    error instanceof SigningError
  ) {
    return error.message;
  }
  const { name, message } = error;
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE')
    return `the port is in use: ${message}. Pass another --port (0 picks a free one).`;
  // The AWS SDK's own words when no region is configured (@smithy/core's config resolver, resolveRegionConfig).
  if (message === 'Region is missing') {
    return "no AWS region: set AWS_REGION (or a profile with a region), or give the queues' full URLs (https://sqs.<region>.amazonaws.com/…).";
  }
  if (name === 'CredentialsProviderError') {
    return 'no AWS credentials were found: set AWS_PROFILE (then `aws sso login` if it uses SSO) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.';
  }
  if (CREDENTIALS_REFUSED.has(name)) {
    return `AWS refused the credentials (${name}): they are expired or wrong; refresh them and run again.`;
  }
  if (name === 'QueueDoesNotExist' || code === 'AWS.SimpleQueueService.NonExistentQueue') {
    return 'the SQS queue does not exist in this account and region: check RETRY_QUEUE_URL and DEAD_LETTER_QUEUE_URL (or the --…-queue-url flags) and AWS_REGION.';
  }
  if (name === 'ResourceNotFoundException' && /pool/i.test(message)) {
    return `the user pool was not found: check --user-pool-id, and that the credentials are for its account. (${message})`;
  }
  if (ACCESS_DENIED.has(name)) return `AWS refused the call (${name}): ${message}`;
  if (name === 'TimeoutError')
    return 'AWS did not answer in time; check the network (or AWS_ENDPOINT_URL) and run again.';
  if (isAwsServiceError(error)) return `AWS answered ${name}: ${message}`;
  return undefined;
};
