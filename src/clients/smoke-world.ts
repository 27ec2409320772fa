// What smoke does in the real pool (Cognito's admin calls), sees in the User Service (its list, by
// the user's sub) and observes of the path when a change does not arrive (doctor's reads of the
// trigger, trail, rule, changes queue and user-changes function; the queue's depth; the function's
// own log lines for the user). src/core/smoke.ts decides what they mean.

import { randomBytes } from 'node:crypto';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  AdminUpdateUserAttributesCommand,
  type CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { isRecord } from '../guards.js';
import { AWS_CLIENT_PROFILES } from './aws.js';
import { type Deployment, functionNameOf } from './deployment.js';
import { ABSENT, type DoctorClients, type Inventory, readInventory, Unreadable } from './deployment-reads.js';

/** One log line of the user-changes function about a user (its outcome line). */
export interface FunctionLogLine {
  outcome?: string;
  reason?: string;
  httpStatus?: number;
  message?: string;
}

/** What can be read of the path a change travels, for a change that did not arrive. */
export interface PathObservations {
  inventory: Inventory;
  /** Messages visible on the changes queue (nothing consumes them), when readable. */
  waiting?: number;
  /** The user-changes function's outcome lines for the user since the step began; why not, as a string. */
  functionLog: FunctionLogLine[] | string;
}

/** What smoke does in the pool, and reads of the path. */
export interface PoolActions {
  /** doctor's reads of the trigger and of the path a change travels. */
  readPath(): Promise<Inventory>;
  /** The username to create: the address when the pool signs in by email, else a name of the run. */
  usernameFor(email: string, runId: string): string;
  /** AdminCreateUser (invited, no message sent): the user's sub. */
  create(username: string, email: string, name: string): Promise<string>;
  /** AdminSetUserPassword, permanent: the user is CONFIRMED. */
  confirm(username: string): Promise<void>;
  /** AdminGetUser's UserStatus; undefined when the pool has no such user. */
  statusOf(username: string): Promise<string | undefined>;
  rename(username: string, name: string): Promise<void>;
  disable(username: string): Promise<void>;
  enable(username: string): Promise<void>;
  /** AdminDeleteUser; false when the pool had no such user. `signal` cuts it short. */
  remove(username: string, signal?: AbortSignal): Promise<boolean>;
  /** The command that deletes the user by hand, for a clean-up that could not. */
  removalCommand(username: string): string;
  /** What can be seen of the path, for a step that timed out. */
  observe(sub: string, since: Date): Promise<PathObservations>;
}

const isUserNotFound = (error: unknown) => (error as { name?: string }).name === 'UserNotFoundException';

/** A password any pool's policy takes: long, and every class of character (never printed). */
const throwawayPassword = () => `Sm0ke!${randomBytes(24).toString('base64url')}aZ9#`;

export const createPoolActions = async ({
  deployment,
  clients,
  logs = new CloudWatchLogsClient({ ...AWS_CLIENT_PROFILES.cli, region: deployment.region }),
}: {
  deployment: Deployment;
  clients: DoctorClients;
  logs?: CloudWatchLogsClient;
}): Promise<PoolActions> => {
  const cognito: CognitoIdentityProviderClient = clients.cognito;
  const UserPoolId = deployment.userPoolId;
  // Cognito API Reference, DescribeUserPool: UsernameAttributes. A pool that signs in by email takes
  // the address as the username; any other takes a username that is not an address (a pool with
  // email as an alias refuses an email-shaped username: Amazon Cognito Developer Guide, "User pool
  // attributes", customizing sign-in attributes).
  const { UserPool } = await cognito.send(new DescribeUserPoolCommand({ UserPoolId }));
  const byEmail = (UserPool?.UsernameAttributes ?? []).includes('email');
  const userChanges = deployment.functions.userChanges;
  const logGroup = userChanges ? `/aws/lambda/${functionNameOf(userChanges.id)}` : undefined;

  const pathInventory = () => readInventory(clients, deployment, { scope: 'path' });

  const functionLog = async (sub: string, since: Date): Promise<FunctionLogLine[] | string> => {
    if (!logGroup) return 'user changes are not deployed';
    try {
      // CloudWatch Logs API Reference, FilterLogEvents (a quoted term matches the lines holding it:
      // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html);
      // Lambda sends a function's output to /aws/lambda/<name>, where both IaC flavours log it.
      const { events = [] } = await logs.send(
        new FilterLogEventsCommand({
          logGroupName: logGroup,
          filterPattern: `"${sub}"`,
          startTime: since.getTime(),
          limit: 50,
        }),
      );
      return events.flatMap((event) => {
        try {
          const line: unknown = JSON.parse(event.message ?? '');
          if (!isRecord(line) || line.cognitoSub !== sub || typeof line.outcome !== 'string') return [];
          return [
            {
              outcome: line.outcome,
              ...(typeof line.reason === 'string' && { reason: line.reason }),
              ...(typeof line.httpStatus === 'number' && { httpStatus: line.httpStatus }),
              ...(typeof line.message === 'string' && { message: line.message }),
            },
          ];
        } catch {
          return [];
        }
      });
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  };

  return {
    readPath: pathInventory,
    usernameFor: (email, runId) => (byEmail ? email : `smoke-${runId}`),
    async create(username, email, name) {
      // Cognito API Reference, AdminCreateUser: MessageAction SUPPRESS sends no invitation; the
      // user is FORCE_CHANGE_PASSWORD, and the post-confirmation trigger never fires for it
      // (Developer Guide, "Post confirmation Lambda trigger": only for users who sign up).
      const { User } = await cognito.send(
        new AdminCreateUserCommand({
          UserPoolId,
          Username: username,
          // An invitation to an address that never delivers would only bounce.
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
            { Name: 'name', Value: name },
          ],
        }),
      );
      const sub = User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
      if (!sub) throw new Error('AdminCreateUser gave the user no sub');
      return sub;
    },
    async confirm(username) {
      // AdminSetUserPassword with Permanent: the user's status becomes CONFIRMED (Cognito API
      // Reference, AdminSetUserPassword); no trigger fires, and no event the rule takes is written.
      await cognito.send(
        new AdminSetUserPasswordCommand({
          UserPoolId,
          Username: username,
          Password: throwawayPassword(),
          Permanent: true,
        }),
      );
    },
    async statusOf(username) {
      try {
        return (await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: username }))).UserStatus;
      } catch (error) {
        if (isUserNotFound(error)) return undefined;
        throw error;
      }
    },
    async rename(username, name) {
      await cognito.send(
        new AdminUpdateUserAttributesCommand({
          UserPoolId,
          Username: username,
          UserAttributes: [{ Name: 'name', Value: name }],
        }),
      );
    },
    async disable(username) {
      await cognito.send(new AdminDisableUserCommand({ UserPoolId, Username: username }));
    },
    async enable(username) {
      await cognito.send(new AdminEnableUserCommand({ UserPoolId, Username: username }));
    },
    async remove(username, signal) {
      try {
        await cognito.send(
          new AdminDeleteUserCommand({ UserPoolId, Username: username }),
          signal ? { abortSignal: signal } : {},
        );
        return true;
      } catch (error) {
        if (isUserNotFound(error)) return false;
        throw error;
      }
    },
    // The username is the run's address or name: letters, digits and + - . @, nothing to quote.
    removalCommand: (username) =>
      `aws cognito-idp admin-delete-user --region ${deployment.region} --user-pool-id ${UserPoolId} --username ${username}`,
    async observe(sub, since): Promise<PathObservations> {
      const inventory = await pathInventory();
      const changes = inventory.queues.changes;
      let waiting: number | undefined;
      if (changes !== null && changes !== ABSENT && !(changes instanceof Unreadable)) {
        try {
          const { Attributes } = await clients.sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: changes.url,
              AttributeNames: ['ApproximateNumberOfMessages'],
            }),
          );
          waiting = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
        } catch {
          waiting = undefined;
        }
      }
      return {
        inventory,
        ...(waiting !== undefined && { waiting }),
        functionLog: await functionLog(sub, since),
      };
    },
  };
};
