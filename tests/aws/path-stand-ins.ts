// The two hops of a user change that moto cannot run, played in the test, each honouring the state
// moto holds of it so that a test can break it there:
// - the trail: moto writes no CloudTrail events for its API calls and has no CloudTrail-to-
//   EventBridge delivery. A proxy in front of moto's Cognito forwards every call and, for each
//   successful call the user-changes rule takes, puts the CloudTrail-shaped event (a sample of
//   events/, with the user's sub and pool) on the default bus, as CloudTrail does, while a trail
//   logs the region's write management events (GetTrailStatus, GetEventSelectors in moto).
//   EventBridge's own routing (the rule's pattern, its target) is moto's.
// - the function's event source: Lambda's SQS event source mapping. A poller drives the real
//   user-changes handler from the changes queue, with the function's configuration as moto holds
//   it (its variables, its secrets), while its mapping is Enabled, and sends what it writes to the
//   function's log group, as Lambda does.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloudTrailClient,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { selectorsTakeCognitoWrites } from '../../src/core/trail-selectors.js';
import { createHandler as createUserChanges } from '../../src/handlers/user-changes.js';
import type { CapturedOutput } from '../helpers/output.js';
import { moto, pollOnce } from './aws.js';

/** The calls the rule takes that smoke makes, and the sample of events/ each is written as. */
const SAMPLES: Record<string, string> = {
  AdminCreateUser: 'admin-create-user',
  AdminUpdateUserAttributes: 'admin-update-user-attributes',
  AdminDisableUser: 'admin-disable-user',
  AdminEnableUser: 'admin-enable-user',
  AdminDeleteUser: 'admin-delete-user',
};

const sample = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../events/cloudtrail-${name}.json`, import.meta.url), 'utf8')) as {
    detail: Record<string, unknown> & {
      requestParameters: Record<string, unknown> | null;
      additionalEventData: Record<string, unknown>;
    };
  };

export interface TrailStandIn {
  /** Point Cognito clients here: AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER. */
  endpoint: string;
  /** The events put on the bus, by eventName. */
  delivered: string[];
  close(): Promise<void>;
}

export const startTrailStandIn = async (
  trailName: string,
  /** Called after each event is put on the bus, before Cognito's answer goes back: a test breaks a hop here. */
  onDelivered: (call: string) => Promise<void> = async () => undefined,
): Promise<TrailStandIn> => {
  const target = moto().endpoint;
  const cloudtrail = new CloudTrailClient({ endpoint: target });
  const events = new EventBridgeClient({ endpoint: target });
  const subs = new Map<string, string>();
  const delivered: string[] = [];
  const logging = async () => {
    const { IsLogging } = await cloudtrail.send(new GetTrailStatusCommand({ Name: trailName }));
    const selectors = await cloudtrail.send(new GetEventSelectorsCommand({ TrailName: trailName }));
    return (
      IsLogging === true &&
      selectorsTakeCognitoWrites({
        basic: selectors.EventSelectors ?? [],
        advanced: (selectors.AdvancedEventSelectors ?? []) as never,
      }).ok
    );
  };
  /** The CloudTrail event of a successful call the rule takes, put on the default bus. */
  const deliver = async (call: string, body: string, text: string) => {
    const name = SAMPLES[call];
    if (!name) return;
    const input = JSON.parse(body) as { UserPoolId: string; Username: string };
    if (call === 'AdminCreateUser') {
      const output = JSON.parse(text) as { User?: { Attributes?: { Name: string; Value: string }[] } };
      const sub = output.User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
      if (sub) subs.set(input.Username, sub);
    }
    if (!(await logging())) return;
    const event = sample(name);
    event.detail.additionalEventData = {
      ...event.detail.additionalEventData,
      sub: subs.get(input.Username) ?? input.Username,
    };
    if (event.detail.requestParameters) event.detail.requestParameters.userPoolId = input.UserPoolId;
    event.detail.eventTime = new Date().toISOString();
    const { FailedEntryCount } = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'aws.cognito-idp',
            DetailType: 'AWS API Call via CloudTrail',
            Detail: JSON.stringify(event.detail),
          },
        ],
      }),
    );
    if (FailedEntryCount) return;
    delivered.push(call);
    await onDelivered(call);
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          ([name]) => !['host', 'content-length', 'connection'].includes(name),
        ),
      ) as Record<string, string>;
      const answer = await fetch(`${target}${request.url ?? '/'}`, { method: request.method, headers, body });
      const text = await answer.text();
      // The event goes on the bus before Cognito's answer goes back, so each step's event is on its
      // way when smoke starts watching (CloudTrail is slower; the order changes nothing smoke sees).
      if (answer.status === 200) {
        const call =
          String(request.headers['x-amz-target'] ?? '')
            .split('.')
            .at(-1) ?? '';
        await deliver(call, body, text).catch(() => undefined);
      }
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/x-amz-json-1.1',
      });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    delivered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export interface EventSourceStandIn {
  /** Messages handled, for a test to wait on. */
  handled(): number;
  stop(): Promise<void>;
}

export const startEventSourceStandIn = async ({
  functionName,
  queueUrl,
  queueArn,
}: {
  functionName: string;
  queueUrl: string;
  queueArn: string;
}): Promise<EventSourceStandIn> => {
  const lambda = new LambdaClient({ endpoint: moto().endpoint });
  const logs = new CloudWatchLogsClient({ endpoint: moto().endpoint });
  const logGroupName = `/aws/lambda/${functionName}`;
  const logStreamName = 'event-source-stand-in';
  await logs.send(new CreateLogGroupCommand({ logGroupName })).catch(() => undefined);
  await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName })).catch(() => undefined);
  let running = true;
  let handled = 0;
  let handlers: { key: string; handler: ReturnType<typeof createUserChanges> } | undefined;
  const loop = (async () => {
    while (running) {
      try {
        const { EventSourceMappings = [] } = await lambda.send(
          new ListEventSourceMappingsCommand({ FunctionName: functionName }),
        );
        const mapping = EventSourceMappings.find((candidate) => candidate.EventSourceArn === queueArn);
        if (mapping?.State === 'Enabled') {
          const { Environment } = await lambda.send(
            new GetFunctionConfigurationCommand({ FunctionName: functionName }),
          );
          const variables = Environment?.Variables ?? {};
          const key = JSON.stringify(variables);
          // A new container when the configuration changes, as Lambda starts one after an update.
          if (handlers?.key !== key)
            handlers = { key, handler: createUserChanges({ ...process.env, ...variables }) };
          const outputs: CapturedOutput[] = [];
          const answer = await pollOnce(queueUrl, handlers.handler, outputs);
          if (answer) handled++;
          const lines = outputs.flatMap((output) => output.text().split('\n').filter(Boolean));
          if (lines.length > 0) {
            await logs.send(
              new PutLogEventsCommand({
                logGroupName,
                logStreamName,
                logEvents: lines.map((message) => ({ timestamp: Date.now(), message })),
              }),
            );
          }
        }
      } catch {
        // A queue deleted by a test, a moment of moto: the next poll tries again, as Lambda does.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    handled: () => handled,
    stop: async () => {
      running = false;
      await loop;
    },
  };
};
