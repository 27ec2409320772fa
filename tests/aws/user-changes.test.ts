// A user's whole life, against moto: the user changes in a moto pool, the matching CloudTrail
// event (a sample of events/, with this user's sub) is put on the default EventBridge bus, the
// rule of the IaC (the same pattern) routes it to the changes queue, and the user-changes
// function is driven from that queue as Lambda's event source mapping would. The dev User Service
// ends in step. moto does not write CloudTrail events for its API calls, hence the PutEvents.

import { readFileSync } from 'node:fs';
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { motoControl } from '../../scripts/moto.mjs';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { createHandler as createUserChanges } from '../../src/handlers/user-changes.js';
import { userChangesRulePattern } from '../helpers/user-changes-rule.js';
import {
  createQueues,
  drain,
  moto,
  pollOnce,
  type Queues,
  queueDepth,
  skipBackoff,
  sqs,
  useMoto,
} from './aws.js';

const cognito = () => new CognitoIdentityProviderClient({});
const sample = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../events/cloudtrail-${name}.json`, import.meta.url), 'utf8')) as {
    detail: Record<string, unknown> & {
      requestParameters: Record<string, unknown> | null;
      additionalEventData: Record<string, unknown>;
    };
  };

describe('the user-changes function, from EventBridge to the User Service', () => {
  let userPoolId: string;
  let queues: Queues;
  let service: DevUserService;
  let worker: ReturnType<typeof createUserChanges>;
  let next = 0;

  /** The CloudTrail event of `name` for this user, as CloudTrail would write it now. */
  const cloudTrail = (name: string, sub: string, overrides: { pool?: string; errorCode?: string } = {}) => {
    const event = sample(name);
    event.detail.additionalEventData = { ...event.detail.additionalEventData, sub };
    if (event.detail.requestParameters && 'userPoolId' in event.detail.requestParameters) {
      event.detail.requestParameters.userPoolId = overrides.pool ?? userPoolId;
    }
    if (overrides.errorCode) {
      event.detail.errorCode = overrides.errorCode;
      event.detail.errorMessage = 'User does not exist.';
    }
    event.detail.eventTime = new Date().toISOString();
    return event.detail;
  };
  const putEvents = async (...details: Record<string, unknown>[]) => {
    const { FailedEntryCount } = await new EventBridgeClient({}).send(
      new PutEventsCommand({
        Entries: details.map((detail) => ({
          Source: 'aws.cognito-idp',
          DetailType: 'AWS API Call via CloudTrail',
          Detail: JSON.stringify(detail),
        })),
      }),
    );
    expect(FailedEntryCount).toBe(0);
  };
  const deliver = () => drain(queues.retryQueueUrl, 20, worker);

  /** A new user in the pool, as AdminCreateUser makes it (an invited user), and its sub. */
  const invite = async (name: string): Promise<string> => {
    n++;
    const { User } = await cognito().send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: `invited-${n}-${name.replaceAll(' ', '-').toLowerCase()}`,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: `person${n}@example.com` },
          { Name: 'name', Value: name },
        ],
      }),
    );
    const sub = User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
    if (!sub) throw new Error('moto gave the user no sub');
    return sub;
  };
  let n = 0;
  const update = (sub: string, attributes: Record<string, string>) =>
    cognito().send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: userPoolId,
        Username: sub,
        UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
      }),
    );

  beforeAll(async () => {
    useMoto();
    const { UserPool } = await cognito().send(new CreateUserPoolCommand({ PoolName: 'lifecycle' }));
    userPoolId = UserPool?.Id ?? '';
    queues = await createQueues({ visibilityTimeout: 60 });
    const { Attributes } = await sqs().send(
      new GetQueueAttributesCommand({ QueueUrl: queues.retryQueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const events = new EventBridgeClient({});
    await events.send(
      new PutRuleCommand({
        Name: `user-changes-${userPoolId}`,
        EventPattern: JSON.stringify(userChangesRulePattern(userPoolId)),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: `user-changes-${userPoolId}`,
        Targets: [{ Id: 'changes-queue', Arn: Attributes?.QueueArn }],
      }),
    );
    service = await startDevUserService({ apiKeys: ['lifecycle-key'] });
    vi.stubEnv('USER_POOL_ID', userPoolId);
    vi.stubEnv('CHANGES_QUEUE_URL', queues.retryQueueUrl);
    vi.stubEnv('CHANGES_DEAD_LETTER_QUEUE_URL', queues.deadLetterQueueUrl);
    vi.stubEnv('USER_SERVICE_URL', service.url);
    vi.stubEnv('USER_SERVICE_API_KEY', 'lifecycle-key');
    worker = createUserChanges();
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await service.close();
  });
  beforeEach(() => {
    next = service.requests.length;
  });
  const requestsSince = () => service.requests.slice(next);

  it('an invited user (AdminCreateUser, FORCE_CHANGE_PASSWORD) is created', async () => {
    const sub = await invite('Ada Lovelace');

    await putEvents(cloudTrail('admin-create-user', sub));
    await deliver();

    expect(service.users.get(sub)).toMatchObject({
      cognitoSub: sub,
      email: expect.stringMatching(/^person\d+@example\.com$/),
      fullName: 'Ada Lovelace',
      status: 'ACTIVE',
      role: 'USER',
    });
  });

  it('an attribute update, then an email change completed by VerifyUserAttribute (a user-token call), are written', async () => {
    const sub = await invite('Grace Hopper');
    await putEvents(cloudTrail('admin-create-user', sub));
    await deliver();

    await update(sub, { name: 'Grace Brewster Hopper' });
    await putEvents(cloudTrail('admin-update-user-attributes', sub));
    await deliver();
    expect(service.users.get(sub)?.fullName).toBe('Grace Brewster Hopper');

    await update(sub, { email: 'grace.hopper@example.com' });
    await putEvents(cloudTrail('verify-user-attribute', sub));
    await deliver();
    expect(service.users.get(sub)?.email).toBe('grace.hopper@example.com');
  });

  it('disable, then enable: the status follows', async () => {
    const sub = await invite('Katherine Johnson');
    await putEvents(cloudTrail('admin-create-user', sub));
    await deliver();

    await cognito().send(new AdminDisableUserCommand({ UserPoolId: userPoolId, Username: sub }));
    await putEvents(cloudTrail('admin-disable-user', sub));
    await deliver();
    expect(service.users.get(sub)?.status).toBe('DISABLED');

    await cognito().send(new AdminEnableUserCommand({ UserPoolId: userPoolId, Username: sub }));
    await putEvents(cloudTrail('admin-enable-user', sub));
    await deliver();
    expect(service.users.get(sub)?.status).toBe('ACTIVE');
  });

  it.each([
    ['by an admin (AdminDeleteUser)', 'admin-delete-user'],
    ['by the user (DeleteUser, no pool in the event)', 'delete-user'],
  ])('a user deleted %s is deleted from the User Service', async (_, eventName) => {
    const sub = await invite('Radia Perlman');
    await putEvents(cloudTrail('admin-create-user', sub));
    await deliver();
    expect(service.users.has(sub)).toBe(true);

    await cognito().send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: sub }));
    await putEvents(cloudTrail(eventName, sub));
    await deliver();

    expect(service.users.has(sub)).toBe(false);
    expect(requestsSince().map((request) => request.method)).toContain('DELETE');
  });

  it('an event of another pool and a failed call never reach the queue, and change nothing', async () => {
    const sub = await invite('Barbara Liskov');
    await putEvents(cloudTrail('admin-create-user', sub));
    await deliver();
    const before = structuredClone(service.users.get(sub));

    await putEvents(
      cloudTrail('admin-disable-user', sub, { pool: 'eu-west-1_Other0000' }),
      cloudTrail('admin-update-user-attributes', sub, { errorCode: 'UserNotFoundException' }),
    );

    expect(await queueDepth(queues.retryQueueUrl)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
    await deliver();
    expect(service.users.get(sub)).toEqual(before);
  });

  it('two changes of one user delivered out of order: the newest state wins', async () => {
    const sub = await invite('Frances Allen');
    await putEvents(cloudTrail('admin-create-user', sub));
    await deliver();

    await update(sub, { name: 'Frances E. Allen' });
    const older = cloudTrail('admin-update-user-attributes', sub);
    await update(sub, { name: 'Fran Allen' });
    const newer = cloudTrail('admin-update-user-attributes', sub);
    await putEvents(newer);
    await deliver();
    await putEvents(older);
    await deliver();

    expect(service.users.get(sub)?.fullName).toBe('Fran Allen');
  });

  it('the same event three times: one write', async () => {
    const sub = await invite('Margaret Hamilton');
    await putEvents(cloudTrail('admin-create-user', sub));
    await deliver();
    await update(sub, { name: 'Margaret H. Hamilton' });
    next = service.requests.length;

    const event = cloudTrail('admin-update-user-attributes', sub);
    await putEvents(event, event, event);
    await deliver();

    expect(requestsSince().map((request) => request.method)).toEqual(['PATCH']);
    expect(service.users.get(sub)?.fullName).toBe('Margaret H. Hamilton');
  });

  it('AdminGetUser throttled: the message is deferred, then done', async () => {
    const sub = await invite('Hedy Lamarr');
    await motoControl(moto().controlEndpoint, { op: 'throttle', operation: 'AdminGetUser', count: 10 });

    await putEvents(cloudTrail('admin-create-user', sub));
    const first = await pollOnce(queues.retryQueueUrl, worker);

    expect(first?.batchItemFailures).toHaveLength(1);
    expect(service.users.has(sub)).toBe(false);
    // The deferral hid the message for the first backoff step; bring it back now rather than wait.
    await motoControl(moto().controlEndpoint, { op: 'throttle', operation: 'AdminGetUser', count: 0 });
    const { Messages = [] } = await sqs().send(
      new ReceiveMessageCommand({ QueueUrl: queues.retryQueueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
    );
    expect(Messages).toHaveLength(0); // still hidden: deferred, not failed back at once
    await skipBackoff(queues.retryQueueUrl);
    await deliver();

    expect(service.users.get(sub)).toMatchObject({ cognitoSub: sub, fullName: 'Hedy Lamarr' });
  });

  it('a misconfigured pool id deletes nothing', async () => {
    const sub = await invite('Jean Sammet');
    await putEvents(cloudTrail('admin-create-user', sub));
    await deliver();
    await cognito().send(new AdminDeleteUserCommand({ UserPoolId: userPoolId, Username: sub }));
    vi.stubEnv('USER_POOL_ID', 'eu-west-1_Wrong0000');
    const misconfigured = createUserChanges();

    // Sent straight to the queue: a rule scoped to the wrong pool would not even route them.
    for (const detail of [cloudTrail('admin-delete-user', sub), cloudTrail('delete-user', sub)]) {
      await sqs().send(
        new SendMessageCommand({
          QueueUrl: queues.retryQueueUrl,
          MessageBody: JSON.stringify({
            version: '0',
            'detail-type': 'AWS API Call via CloudTrail',
            source: 'aws.cognito-idp',
            detail,
          }),
        }),
      );
    }
    await drain(queues.retryQueueUrl, 5, misconfigured);
    vi.stubEnv('USER_POOL_ID', userPoolId);

    expect(service.users.has(sub)).toBe(true);
    expect(requestsSince().filter((request) => request.method === 'DELETE')).toEqual([]);
  });
});
