// What the SQS consumers (the retry worker, the user-changes function) share to ask Cognito for a
// user: one client per pool for the container's life, in the pool's own region (a pool's id starts
// with its region), traced, and paced. AdminGetUser is in the UserRead category, 120 requests a
// second per account and Region across all its pools, and ListUsers in UserList, 30 (Amazon
// Cognito Developer Guide, "Quotas in Amazon Cognito": API operation categories and request rate
// quotas); both are shared with the pool's own traffic, so each container keeps to a share. A
// throttle is the consumer's to defer, not to wait out: no retries of its own.

import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { AWS_CLIENT_PROFILES } from '../clients/aws.js';
import { findUserBySub, regionOfUserPool } from '../clients/cognito-users.js';
import { createPacer } from '../clients/pacer.js';
import type { PoolUser } from '../domain/pool-user.js';
import { tracer } from '../observability.js';

const cognitoClients = new Map<string, CognitoIdentityProviderClient>();
const cognitoFor = (userPoolId: string) => {
  let client = cognitoClients.get(userPoolId);
  if (!client) {
    client = tracer.captureAWSv3Client(
      new CognitoIdentityProviderClient({
        ...AWS_CLIENT_PROFILES.worker,
        region: regionOfUserPool(userPoolId),
      }),
    );
    cognitoClients.set(userPoolId, client);
  }
  return client;
};
const adminGetUserPacer = createPacer({ maxRps: 20 });
const listUsersPacer = createPacer({ maxRps: 5 });

/** The user with this sub as the pool holds them now; undefined when the pool has none. */
export const findPoolUser = (
  userPoolId: string,
  sub: string,
  signal?: AbortSignal,
): Promise<PoolUser | undefined> =>
  findUserBySub(cognitoFor(userPoolId), userPoolId, sub, {
    pacer: adminGetUserPacer,
    listPacer: listUsersPacer,
    ...(signal && { signal }),
    throttleRetries: 0,
  });
