// How every AWS SDK client of ours talks to AWS: timeouts that really fire, and few attempts. The
// SDK's Node handler only *warns* when a request exceeds `requestTimeout` unless
// `throwOnRequestTimeout` is set (@smithy/node-http-handler, setRequestTimeout): without it a
// Secrets Manager call that never answers would hang until Lambda's own timeout.
//
// Region, credentials and AWS_ENDPOINT_URL* stay the SDK's standard configuration.

export interface AwsClientProfile {
  /** Unset: the SDK's own (3, or AWS_MAX_ATTEMPTS). */
  maxAttempts?: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
}

const profile = (
  maxAttempts: number | undefined,
  connectionTimeout: number,
  requestTimeout: number,
): AwsClientProfile => ({
  ...(maxAttempts !== undefined && { maxAttempts }),
  requestHandler: { connectionTimeout, requestTimeout, throwOnRequestTimeout: true },
});

export const AWS_CLIENT_PROFILES = {
  /** Inside Cognito's 5 s: an outage must not eat the time kept for the queue send. */
  trigger: profile(2, 500, 1000),
  /** The SQS consumers (retry worker, user changes): a batch has tens of seconds. */
  worker: profile(3, 1000, 3000),
  /**
   * The command line: patient, but never hung; the SDK's standard retries (AWS_MAX_ATTEMPTS,
   * AWS_RETRY_MODE apply).
   */
  cli: profile(undefined, 3000, 10_000),
} as const satisfies Record<string, AwsClientProfile>;

/**
 * The region of a queue, from its URL: `sqs.<region>.amazonaws.com` (and `.amazonaws.com.cn`), the
 * legacy `<region>.queue.amazonaws.com`, or a VPC endpoint's `….sqs.<region>.vpce.amazonaws.com`
 * (SQS developer guide, "Amazon SQS queue and message identifiers" and "Amazon SQS endpoints").
 * Undefined for any other host (an emulator's): the environment's region applies then.
 */
export const regionOfQueueUrl = (url: string): string | undefined => {
  const host = new URL(url).hostname;
  const match =
    /^sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host) ??
    /^([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?$/.exec(host) ??
    /\.sqs\.([a-z0-9-]+)\.vpce\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return match?.[1];
};

/**
 * What AWS (or the SDK, before any call) says when the credentials themselves are missing,
 * expired or invalid: not a permission any one call lacks, so no call can succeed. doctor stops
 * at the first; src/cli/operator-errors.ts turns each into one line saying so.
 */
export const CREDENTIALS_REFUSED: ReadonlySet<string> = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

export const isCredentialsRefusal = (error: unknown): boolean =>
  error instanceof Error && CREDENTIALS_REFUSED.has(error.name);
