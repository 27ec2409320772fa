// The upstream versions each stand-in was last held to by its differential test: the packages it
// mirrors (their wire format, retries, errors and documents) and those that drive it in the test.
// tests/stand-ins/verified.test.ts fails when package-lock.json moves one of them, naming the test
// to rerun. After an upgrade: rerun that test; when it passes (the stand-in changed to do what the
// new version does, if it had to), set the versions here to those of package-lock.json.
// Not bundled: no stand-in imports this module.

export interface Verification {
  /** The test that runs the stand-in against the real packages, side by side. */
  test: string;
  /** Every copy of each in package-lock.json must be at this version. */
  packages: Record<string, string>;
}

export const VERIFIED = {
  /** aws-json-client.ts and aws-sdk/*.ts, in place of the AWS SDK's four clients. */
  'aws-sdk': {
    test: 'tests/stand-ins/aws-sdk.differential.test.ts',
    packages: {
      // The clients: their operations' targets, inputs, outputs (dates) and errors.
      '@aws-sdk/client-cognito-identity-provider': '3.1164.0',
      '@aws-sdk/client-dynamodb': '3.1164.0',
      '@aws-sdk/client-secrets-manager': '3.1164.0',
      '@aws-sdk/client-sqs': '3.1164.0',
      // The AWS JSON protocols: serialization, error names and fields (SQS's query-compatible ones).
      '@aws-sdk/core': '3.981.2',
      // DynamoDB's JSON codec.
      '@aws-sdk/dynamodb-codec': '3.973.60',
      // SQS's MD5 checks and its queue URL as the endpoint.
      '@aws-sdk/middleware-sdk-sqs': '3.972.50',
      // The standard retry strategy (which errors, backoff, quota), clock skew, the middleware stack.
      '@smithy/core': '3.41.1',
      // Signature Version 4.
      '@smithy/signature-v4': '5.7.5',
      // The Node handler: keep-alive agents, connection and request timeouts.
      '@smithy/node-http-handler': '4.14.2',
    },
  },
  /** xray-sdk.ts, in place of aws-xray-sdk-core. */
  'xray-sdk': {
    test: 'tests/stand-ins/xray-sdk.test.ts',
    packages: {
      'aws-xray-sdk-core': '3.12.0',
      // What the stand-in imports from it for the throttle flag (bundled as it is).
      '@smithy/service-error-classification': '2.1.5',
      // What drives it in the functions and in the test's scenario.
      '@aws-lambda-powertools/tracer': '2.36.0',
    },
  },
} as const satisfies Record<string, Verification>;
