// smoke against moto, end to end: a deployment made as the IaC spec says (./deployment-fixture.ts),
// its user-changes rule routing on moto's EventBridge to its changes queue, the real user-changes
// handler consuming it with the function's deployed configuration and secrets, writing to the dev
// User Service. moto has no CloudTrail-to-EventBridge delivery (nor does it write CloudTrail events
// at all), and runs no Lambda event source: ./path-stand-ins.ts plays both, honouring the trail's
// and the mapping's state in moto, so that each can be broken there. Then one hop at a time is
// broken (trigger, trail, rule, queue, function, service), and the report names it.

import { mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudTrailClient, StartLoggingCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import {
  CognitoIdentityProviderClient,
  ListUsersCommand,
  UpdateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient, PutRuleCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { type DevUserService, startDevUserService } from '../../src/dev/user-service.js';
import { userChangesRulePattern } from '../../src/domain/user-events.js';
import { arnsOf, environmentOf, expectedQueuePolicies } from '../iac/helpers/spec.js';
import { moto, useMoto } from './aws.js';
import { API_KEY, createDeployment, type DeploymentFixture, SIGNING_SECRET } from './deployment-fixture.js';
import {
  type EventSourceStandIn,
  startEventSourceStandIn,
  startTrailStandIn,
  type TrailStandIn,
} from './path-stand-ins.js';

interface Report {
  ok: boolean;
  subject: { user: string };
  checks: {
    id: string;
    status: 'pass' | 'fail' | 'skip';
    title: string;
    detail: string[];
    fix?: string;
    evidence?: { hop?: string };
  }[];
}

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('smoke, against a deployment in moto', () => {
  let fixture: DeploymentFixture;
  let service: DevUserService;
  let trail: TrailStandIn;
  let eventSource: EventSourceStandIn;
  let outputs: string;
  /** The User Service with its writes failing (503), for the service hop. */
  let failingWrites: ServiceProxy;
  /** The User Service as smoke itself calls it, when a test points USER_SERVICE_URL at it: its lists may hang. */
  let smokesService: ServiceProxy;
  /** What a test does after the trail stand-in put an event on the bus. */
  let afterDelivered: (call: string) => Promise<void> = async () => undefined;

  const smoke = async (stepTimeout = '10', ...extra: string[]) => {
    const { code, out, err } = await run(
      'smoke',
      '--yes',
      '--terraform-outputs',
      outputs,
      '--step-timeout',
      stepTimeout,
      '--interval',
      '0.1',
      '--json',
      ...extra,
    );
    return { code, err, report: JSON.parse(out) as Report };
  };
  const poolUsers = async () =>
    (
      await new CognitoIdentityProviderClient({ endpoint: moto().endpoint }).send(
        new ListUsersCommand({ UserPoolId: fixture.userPoolId }),
      )
    ).Users ?? [];
  const failed = (report: Report) => report.checks.filter((check) => check.status === 'fail');

  beforeAll(async () => {
    useMoto();
    // A region of this file's own: any trail logging a region serves every deployment there, so
    // doctor's deployment (another file, the same moto) must not be in this one.
    vi.stubEnv('AWS_REGION', 'eu-central-2');
    vi.stubEnv('AWS_DEFAULT_REGION', 'eu-central-2');
    vi.stubEnv('USER_SERVICE_URL', '');
    vi.stubEnv('USER_SERVICE_API_KEY', '');
    service = await startDevUserService({ apiKeys: [API_KEY], signingSecrets: [SIGNING_SECRET] });
    failingWrites = await startServiceProxy(
      () => service.url,
      (request) => (request.method === 'GET' ? 'forward' : 'fail'),
    );
    smokesService = await startServiceProxy(() => service.url);
    fixture = await createDeployment({
      prefix: `smk-${Date.now().toString(36)}`,
      userServiceUrl: service.url,
    });
    outputs = await fixture.writeTerraformOutputs(await mkdtemp(join(tmpdir(), 'smoke-')));
    // moto hands every event put on the bus to the scheduled rule too, and fails invoking its
    // function (it runs no Lambda code here): the schedule's target is left out of this file's
    // deployment (doctor's tests check it; smoke's path does not go through it).
    await new EventBridgeClient({}).send(
      new RemoveTargetsCommand({ Rule: fixture.names.reconcileRule, Ids: ['reconcile'] }),
    );
    trail = await startTrailStandIn(fixture.names.trail, (call) => afterDelivered(call));
    vi.stubEnv('AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER', trail.endpoint);
    eventSource = await startEventSourceStandIn({
      functionName: fixture.names.userChanges,
      queueUrl: fixture.queueUrls.changesQueue,
      queueArn: arnsOf(fixture.d).queue('changesQueue'),
    });
  });
  afterAll(async () => {
    await eventSource?.stop();
    await trail?.close();
    await service?.close();
    await failingWrites?.close();
    await smokesService?.close();
    vi.unstubAllEnvs();
  });
  afterEach(async () => {
    // Whatever a test did, smoke left nothing behind.
    expect(await poolUsers()).toEqual([]);
    expect([...service.users.keys()]).toEqual([]);
  });

  it("walks a user's whole life through the deployment, each hop reaching the User Service, and removes it", async () => {
    const { code, report, err } = await smoke();

    expect(failed(report)).toEqual([]);
    expect(report.checks.map((check) => [check.id, check.status])).toEqual([
      ['trigger.attached', 'pass'],
      ['trigger.current', 'pass'],
      ['trigger.permission', 'pass'],
      ['step.create', 'pass'],
      ['step.confirm', 'pass'],
      ['step.update', 'pass'],
      ['step.disable', 'pass'],
      ['step.enable', 'pass'],
      ['step.delete', 'pass'],
      ['cleanup', 'pass'],
    ]);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(report.subject.user).toMatch(/^smoke\+\d{8}t\d{6}z-[0-9a-f]{4}@example\.invalid$/);
    // Every change went the whole way: the calls CloudTrail would have delivered, and the writes.
    expect(trail.delivered).toEqual([
      'AdminCreateUser',
      'AdminUpdateUserAttributes',
      'AdminDisableUser',
      'AdminEnableUser',
      'AdminDeleteUser',
    ]);
    const writes = service.requests
      .filter((request) => request.method !== 'GET')
      .map((request) => request.method);
    expect(writes).toEqual(['PATCH', 'POST', 'PATCH', 'PATCH', 'PATCH', 'DELETE']);
  });

  /** One hop broken in moto (or in the stand-ins' view of it), and put back after. */
  const breaks: {
    hop: string;
    how: string;
    failing: string;
    seen: RegExp;
    breakIt: () => Promise<unknown>;
    restore: () => Promise<unknown>;
  }[] = [
    {
      hop: 'trail',
      how: 'the trail stopped logging',
      failing: 'step.create',
      seen: /management-events: logging is off/,
      breakIt: () => new CloudTrailClient({}).send(new StopLoggingCommand({ Name: fixture.names.trail })),
      restore: () => new CloudTrailClient({}).send(new StartLoggingCommand({ Name: fixture.names.trail })),
    },
    {
      hop: 'rule',
      how: "the rule's pattern naming another pool",
      failing: 'step.create',
      seen: /its pattern is the one this version ships/,
      breakIt: () => putPattern('eu-west-1_Other0000'),
      restore: () => putPattern(fixture.userPoolId),
    },
    {
      hop: 'queue',
      how: 'the changes queue deleted',
      failing: 'step.create',
      seen: /there is no queue/,
      breakIt: () =>
        new SQSClient({}).send(new DeleteQueueCommand({ QueueUrl: fixture.queueUrls.changesQueue })),
      restore: () => recreateChangesQueue(),
    },
    {
      hop: 'function',
      how: "the user-changes function's event source disabled",
      failing: 'step.create',
      seen: /is Disabled: the queue is not consumed/,
      breakIt: () => setMapping(false),
      restore: () => setMapping(true),
    },
    {
      hop: 'service',
      how: "the User Service failing the function's writes (503)",
      failing: 'step.create',
      seen: /the user-changes function logged outcome deferred, reason http-503/,
      breakIt: () => pointFunctionAt(failingWrites.url),
      restore: () => pointFunctionAt(service.url),
    },
  ];

  const putPattern = (pool: string) =>
    new EventBridgeClient({}).send(
      new PutRuleCommand({
        Name: fixture.names.userChangesRule,
        EventPattern: JSON.stringify(userChangesRulePattern(pool)),
        State: 'ENABLED',
      }),
    );
  const setMapping = async (enabled: boolean) => {
    const lambda = new LambdaClient({});
    const { EventSourceMappings = [] } = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: fixture.names.userChanges }),
    );
    for (const mapping of EventSourceMappings) {
      await lambda.send(new UpdateEventSourceMappingCommand({ UUID: mapping.UUID, Enabled: enabled }));
    }
  };
  const recreateChangesQueue = async () => {
    const sqs = new SQSClient({});
    const dlq = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: fixture.queueUrls.changesDeadLetterQueue,
        AttributeNames: ['QueueArn'],
      }),
    );
    await sqs.send(
      new CreateQueueCommand({
        QueueName: fixture.names.changesQueue,
        Attributes: {
          KmsMasterKeyId: fixture.keyArn,
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlq.Attributes?.QueueArn,
            maxReceiveCount: 12,
          }),
        },
      }),
    );
    const statements = expectedQueuePolicies(fixture.d)[fixture.names.changesQueue] ?? [];
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: fixture.queueUrls.changesQueue,
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: statements.map(({ other: _, ...statement }) => statement),
          }),
        },
      }),
    );
  };
  const pointFunctionAt = (url: string) =>
    new LambdaClient({}).send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: fixture.names.userChanges,
        Environment: { Variables: { ...environmentOf('userChanges', fixture.d), USER_SERVICE_URL: url } },
      }),
    );

  it.each(breaks)('names the $hop when $how', async ({ hop, failing, seen, breakIt, restore }) => {
    await breakIt();
    try {
      const { code, report } = await smoke('2');

      expect(code).toBe(1);
      const failures = failed(report);
      expect(failures.map((check) => check.id)).toEqual([failing]);
      expect(failures[0]?.evidence?.hop).toBe(hop);
      expect(failures[0]?.detail[0]).toBe(`the change stopped at: ${hop}`);
      expect(failures[0]?.detail.join('\n')).toMatch(seen);
      expect(failures[0]?.fix).toBeTruthy();
      expect(report.checks.filter((check) => check.status === 'skip').map((check) => check.id)).toEqual([
        'step.confirm',
        'step.update',
        'step.disable',
        'step.enable',
        'step.delete',
      ]);
      expect(report.checks.at(-1)).toMatchObject({ id: 'cleanup', status: 'pass' });
    } finally {
      await restore();
    }
  });

  it('names the trigger when the pool has none: sign-ups would not sync, though the invited path still does', async () => {
    const cognito = new CognitoIdentityProviderClient({ endpoint: moto().endpoint });
    await cognito.send(new UpdateUserPoolCommand({ UserPoolId: fixture.userPoolId, LambdaConfig: {} }));
    try {
      const { code, report } = await smoke();

      expect(code).toBe(1);
      expect(failed(report).map((check) => [check.id, check.detail[0]])).toEqual([
        ['trigger.attached', 'the pool has no PostConfirmation trigger: sign-ups are never synced'],
      ]);
      expect(
        report.checks
          .filter((check) => check.id.startsWith('step.'))
          .every((check) => check.status === 'pass'),
      ).toBe(true);
    } finally {
      await cognito.send(
        new UpdateUserPoolCommand({
          UserPoolId: fixture.userPoolId,
          LambdaConfig: { PostConfirmation: fixture.functionArns.postConfirmation },
        }),
      );
    }
  });

  it('removes the user from the User Service itself when the path cannot (a later step broken)', async () => {
    // The user is created through the path; then the rule stops taking this pool's events.
    afterDelivered = async (call) => {
      if (call === 'AdminCreateUser') await putPattern('eu-west-1_Other0000');
    };
    try {
      const { code, report } = await smoke('2');

      expect(code).toBe(1);
      expect(failed(report).map((check) => check.id)).toEqual(['step.update']);
      expect(report.checks.at(-1)?.detail).toEqual([
        'deleted from the pool by the clean-up',
        'deleted from the User Service by the clean-up (the path did not)',
      ]);
    } finally {
      afterDelivered = async () => undefined;
      await putPattern(fixture.userPoolId);
    }
  });

  it('Ctrl-C stops the step in hand, removes the user, and exits 130', async () => {
    await new CloudTrailClient({}).send(new StopLoggingCommand({ Name: fixture.names.trail }));
    const interrupt = setTimeout(() => process.emit('SIGINT'), 500);
    try {
      const { code, err, report } = await smoke('60');

      expect(code).toBe(130);
      expect(err).toContain('SIGINT: stopping the step in hand; the smoke user is removed first');
      expect(report.checks.find((check) => check.id === 'step.create')).toMatchObject({ status: 'skip' });
      expect(report.checks.at(-1)).toMatchObject({ id: 'cleanup', status: 'pass' });
    } finally {
      clearTimeout(interrupt);
      await new CloudTrailClient({}).send(new StartLoggingCommand({ Name: fixture.names.trail }));
    }
  });

  it("Ctrl-C cuts short the User Service's list in hand, rather than wait out its time, and removes the user", async () => {
    await new CloudTrailClient({}).send(new StopLoggingCommand({ Name: fixture.names.trail }));
    // smoke's first list hangs, and Ctrl-C comes while it does; the clean-up's list is answered.
    let lists = 0;
    let interrupted = 0;
    smokesService.answer = (request) => {
      if (request.method !== 'GET' || lists++ > 0) return 'forward';
      setTimeout(() => {
        interrupted = performance.now();
        process.emit('SIGINT');
      }, 100);
      return 'hold';
    };
    vi.stubEnv('USER_SERVICE_URL', smokesService.url);
    vi.stubEnv('USER_SERVICE_API_KEY', API_KEY);
    vi.stubEnv('USER_SERVICE_SIGNING_SECRET', SIGNING_SECRET);
    try {
      const { code, report } = await smoke('60');

      // The list's own time is 15 s.
      expect(interrupted).toBeGreaterThan(0);
      expect(performance.now() - interrupted).toBeLessThan(3000);
      expect(code).toBe(130);
      expect(report.checks.find((check) => check.id === 'step.create')).toMatchObject({ status: 'skip' });
      expect(report.checks.at(-1)).toMatchObject({
        id: 'cleanup',
        status: 'pass',
        detail: ['deleted from the pool by the clean-up', 'not in the User Service'],
      });
    } finally {
      smokesService.answer = () => 'forward';
      vi.stubEnv('USER_SERVICE_URL', '');
      vi.stubEnv('USER_SERVICE_API_KEY', '');
      vi.stubEnv('USER_SERVICE_SIGNING_SECRET', '');
      await new CloudTrailClient({}).send(new StartLoggingCommand({ Name: fixture.names.trail }));
    }
  });

  it('a second Ctrl-C during the clean-up does not end the process silently: it cuts the clean-up short and says what may be left, and how to remove it', async () => {
    // Nothing reaches the User Service (the rule takes another pool's events), but the trail still
    // hands each call to this test: the first Ctrl-C as the user is created, the second while
    // the clean-up's AdminDeleteUser has not been answered.
    await putPattern('eu-west-1_Other0000');
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
      setTimeout(resolve, 5000).unref();
    });
    const listeningBefore = process.listenerCount('SIGINT');
    let listeningAtSecond = -1;
    afterDelivered = async (call) => {
      if (call === 'AdminCreateUser') process.emit('SIGINT');
      if (call === 'AdminDeleteUser') {
        listeningAtSecond = process.listenerCount('SIGINT');
        process.emit('SIGINT');
        await answered;
      }
    };
    try {
      const { code, err, report } = await smoke('60');
      answer();

      // Without a handler of smoke's, a real second SIGINT would have ended the process there.
      expect(listeningAtSecond).toBeGreaterThan(listeningBefore);
      expect(code).toBe(130);
      expect(err).toContain(
        'SIGINT again: the clean-up is cut short: the checklist says what may be left, and the commands that remove it.',
      );
      const cleanup = report.checks.at(-1);
      expect(cleanup).toMatchObject({ id: 'cleanup', status: 'fail' });
      // The pool signs in by username: the run's name, smoke-<run>.
      const username = report.subject.user.replace(/^smoke\+(.*)@example\.invalid$/, 'smoke-$1');
      const [why, pool, inService] = cleanup?.detail ?? [];
      expect([why, pool]).toEqual([
        'the clean-up was cut short (a second signal)',
        `left, perhaps: the user ${username} in the pool`,
      ]);
      const sub = inService?.match(/^left, perhaps: the user ([0-9a-f-]{36}) in the User Service$/)?.[1];
      expect(sub).toBeDefined();
      expect(cleanup?.fix).toBe(
        `remove what is left: aws cognito-idp admin-delete-user --region eu-central-2 --user-pool-id ${fixture.userPoolId} --username ${username}; DELETE ${service.url}/${sub} (with the User Service's credentials)`,
      );
    } finally {
      answer();
      afterDelivered = async () => undefined;
      await putPattern(fixture.userPoolId);
    }
  });

  it("reads the User Service's credentials in the deployment's region, whatever AWS_REGION says", async () => {
    // Nothing arrives (the trail is off): what matters is that smoke got as far as watching.
    await new CloudTrailClient({}).send(new StopLoggingCommand({ Name: fixture.names.trail }));
    vi.stubEnv('AWS_REGION', 'us-west-2');
    vi.stubEnv('AWS_DEFAULT_REGION', 'us-west-2');
    try {
      const { code, err, out } = await run(
        'smoke',
        '--yes',
        '--terraform-outputs',
        outputs,
        '--step-timeout',
        '1',
        '--interval',
        '0.1',
        '--json',
      );

      expect(err).toBe('');
      expect(code).toBe(1);
      const report = JSON.parse(out) as Report;
      expect(failed(report).map((check) => [check.id, check.evidence?.hop])).toEqual([
        ['step.create', 'trail'],
      ]);
      expect(report.checks.at(-1)).toMatchObject({ id: 'cleanup', status: 'pass' });
    } finally {
      vi.stubEnv('AWS_REGION', 'eu-central-2');
      vi.stubEnv('AWS_DEFAULT_REGION', 'eu-central-2');
      await new CloudTrailClient({}).send(new StartLoggingCommand({ Name: fixture.names.trail }));
    }
  });

  it('says plainly that user changes are not deployed, before making a user, when the deployment named has none', async () => {
    const elsewhere = ['--prefix', 'smk-none', '--user-pool-id', fixture.userPoolId, '--step-timeout', '1'];
    const calls = trail.delivered.length;
    // With the environment's User Service: the plan's own refusal, in the checklist.
    vi.stubEnv('USER_SERVICE_URL', service.url);
    vi.stubEnv('USER_SERVICE_API_KEY', API_KEY);
    try {
      const { code, out } = await run('smoke', '--yes', ...elsewhere, '--interval', '0.1', '--json');

      expect(code).toBe(1);
      const report = JSON.parse(out) as Report;
      expect(report.checks.find((check) => check.id === 'user-changes')).toMatchObject({
        status: 'fail',
        detail: [
          'there is no function smk-none-user-changes in eu-central-2: user changes are not deployed there, or the deployment is named wrong',
        ],
      });
      expect(
        report.checks.filter((check) => check.id.startsWith('step.')).map((check) => check.status),
      ).toEqual(Array(6).fill('skip'));
      expect(out).not.toMatch(/CloudTrail/);
    } finally {
      vi.stubEnv('USER_SERVICE_URL', '');
      vi.stubEnv('USER_SERVICE_API_KEY', '');
    }
    // With the deployed function's: there is none to read them from.
    const { code, err } = await run('smoke', '--yes', ...elsewhere);

    expect(code).toBe(1);
    expect(err).toBe(
      'cognito-user-sync: there is no function smk-none-user-changes in eu-central-2: user changes are not deployed there, or the deployment is named wrong (check --stack, --terraform-outputs or --prefix, and --region). smoke follows a user through them.',
    );
    expect(trail.delivered.length).toBe(calls);
  });

  it('writes nothing without --yes (usage, exit 2), and says in --help what it writes', async () => {
    const { code, err } = await run('smoke', '--terraform-outputs', outputs);
    expect(code).toBe(2);
    expect(err).toMatch(/smoke writes: .* Run it with --yes/);
    expect(await poolUsers()).toEqual([]);

    const help = await run('smoke', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Writes \(hence --yes\): the user in the pool/);
    expect(help.out).toMatch(
      /moto\s+has no CloudTrail-to-EventBridge delivery, so the test stands in for the trail/,
    );
  });
});

type ProxyAnswer = 'forward' | 'fail' | 'hold';

interface ServiceProxy {
  url: string;
  /** What it does with each request: forward it, fail it (503), or hold it unanswered. */
  answer: (request: IncomingMessage) => ProxyAnswer;
  close(): Promise<void>;
}

/** The dev User Service behind a proxy that forwards, fails (503) or holds each request, as told. */
const startServiceProxy = async (
  target: () => string,
  answer: ServiceProxy['answer'] = () => 'forward',
): Promise<ServiceProxy> => {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const what = proxy.answer(request);
      if (what === 'hold') return;
      if (what === 'fail') {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'unavailable', reason: 'down for the test' }));
        return;
      }
      const url = new URL(target());
      const body = Buffer.concat(chunks);
      const forwarded = await fetch(`${url.origin}${request.url}`, {
        method: request.method,
        headers: Object.fromEntries(
          Object.entries(request.headers).filter(
            ([name]) => !['host', 'connection', 'content-length'].includes(name),
          ),
        ) as Record<string, string>,
        ...(body.length > 0 && { body }),
      });
      response.writeHead(forwarded.status, {
        'content-type': forwarded.headers.get('content-type') ?? 'application/json',
      });
      response.end(await forwarded.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const proxy: ServiceProxy = {
    url: `http://127.0.0.1:${port}/api/v1/users`,
    answer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
};
