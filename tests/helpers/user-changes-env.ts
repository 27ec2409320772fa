// The environment the user-changes function is deployed with, as the handler tests give it: one
// pool, the changes queue and its dead-letter queue, an API key in the environment.

import { vi } from 'vitest';

export const USER_CHANGES_POOL = 'eu-west-1_Qx7Lm2Rt9';
export const CHANGES_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/cognito-user-sync-changes';
export const CHANGES_DLQ_URL =
  'https://sqs.eu-west-1.amazonaws.com/123456789012/cognito-user-sync-changes-dlq';

/** Stubs the function's variables (vi.unstubAllEnvs() undoes them); USER_SERVICE_URL is the test's. */
export const stubUserChangesEnv = (): void => {
  for (const [name, value] of Object.entries({
    AWS_REGION: 'eu-west-1',
    USER_POOL_ID: USER_CHANGES_POOL,
    CHANGES_QUEUE_URL,
    CHANGES_DEAD_LETTER_QUEUE_URL: CHANGES_DLQ_URL,
    USER_SERVICE_API_KEY: 'changes-key',
  })) {
    vi.stubEnv(name, value);
  }
};
