// One scenario of the burst phase, in its own Node 22 process (bench/phases/burst.ts runs it with
// tsx, its configuration in BENCH_BURST): the shipped post-confirmation and retry-worker zips run
// as Lambda would scale them, against the User Service of bench/lib/burst-service.ts (its own
// process) and the in-memory AWS of bench/lib/burst-aws.ts.
// - Post-confirmation: up to `containers` containers (worker threads, bench/lib/burst-container.mjs),
//   each running one invocation at a time. Sign-ups arrive evenly spaced at `arrivalsPerSecond`,
//   as Cognito invokes the trigger; each goes to the idle container used last (a warm one), else
//   waits for one to be free (that wait counts in Cognito's time). The containers are started
//   and have imported the zip before the first sign-up, but have not been invoked: each one's
//   first invocation reads its configuration and fetches the secret, as on Lambda. Their start is
//   left out of the time measured: on Lambda each container starts on its own CPU, here 50 would
//   share two cores and the figure would measure the machine.
// - The retry worker: the SQS event source mapping at its deployed defaults — `maximumConcurrency`
//   invocations at once (one container each), batches of up to `batchSize` from whatever is
//   visible, no batching window; after each invocation it deletes the records not reported in
//   batchItemFailures; the others stay hidden for as long as the worker asked
//   (ChangeMessageVisibility) or the queue's visibility timeout.
// The figures go to fd 3 as one JSON document (HostReport); progress to stderr.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { type FakeAws, type Message, type QueueSettings, startFakeAws } from './burst-aws.js';
import type { BurstServiceOptions, ServiceStats } from './burst-service.js';
import type { Env } from './processes.js';

export interface HostConfig {
  scenario: string;
  timeScale: number;
  users: number;
  arrivalsPerSecond: number;
  containers: number;
  service: Omit<BurstServiceOptions, 'apiKey'>;
  esm: { batchSize: number; maximumConcurrency: number };
  retryQueue: QueueSettings;
  /** From t0, in real ms: when the burst (or the outage) ends. */
  endMs: number;
  /** After `endMs`, in real ms: every user should be in by then. */
  boundMs: number;
  taskRoots: { trigger: string; worker: string };
  /** The functions' Lambda environments; the host adds the endpoints it starts. */
  env: { trigger: Env; worker: Env };
  /** The post-confirmation event each sign-up is made from. */
  event: { userPoolId: string; request: { userAttributes: Record<string, string> } } & Record<
    string,
    unknown
  >;
  /** The SQS record each record handed to the worker is built on. */
  record: Record<string, unknown>;
  apiKey: string;
}

/** One sign-up: sub, when Cognito invoked, when its container started it, when it answered, container, event returned (1/0). */
export type Invocation = [
  sub: string,
  arrivalAt: number,
  startedAt: number,
  doneAt: number,
  container: number,
  returned: number,
];

export interface HostReport {
  node: string;
  t0: number;
  endAt: number;
  finishedAt: number;
  stoppedBecause: 'all-in' | 'bound' | 'nothing-left';
  invocations: Invocation[];
  triggerErrors: string[];
  containersUsed: number;
  maxBusy: number;
  waitedForContainer: number;
  importMs: { trigger: number[]; worker: number[] };
  esm: {
    batches: number;
    records: number;
    reportedFailures: number;
    functionErrors: string[];
    deletes: number;
  };
  queues: {
    retry: { left: string[]; sends: number; receives: number; visibilityChanges: number; redriven: number };
    deadLetter: { subs: string[] };
  };
  aws: Record<string, number>;
  service: ServiceStats;
  xrayDatagrams: number;
}

const config = JSON.parse(process.env.BENCH_BURST ?? 'null') as HostConfig | null;
if (!config) throw new Error('BENCH_BURST is not set');

const clock = () => performance.timeOrigin + performance.now();
const say = (line: string) => process.stderr.write(`[burst ${config.scenario}] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// The User Service process.

class ServiceProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly origin: string,
  ) {}

  static async start(options: BurstServiceOptions): Promise<ServiceProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/burst-service.ts'], {
      env: { PATH: process.env.PATH ?? '', BENCH_BURST_SERVICE: JSON.stringify(options) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const [ready] = (await once(child, 'message')) as [{ origin: string }];
    return new ServiceProcess(child, ready.origin);
  }

  private async ask<T>(message: Record<string, unknown>): Promise<T> {
    const answer = once(this.child, 'message') as Promise<[T]>;
    this.child.send(message);
    return (await answer)[0];
  }

  start = (t0: number) => this.ask({ op: 'start', t0 });
  count = async () => (await this.ask<{ users: number }>({ op: 'count' })).users;
  stats = () => this.ask<ServiceStats>({ op: 'stats' });

  async stop() {
    const exited = once(this.child, 'exit');
    this.child.disconnect();
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Containers: one worker thread each, one invocation at a time.

interface Reply {
  startedAt: number;
  doneAt: number;
  result?: unknown;
  error?: string;
}

class Container {
  private next = 0;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  invocations = 0;

  private constructor(
    readonly index: number,
    private readonly worker: Worker,
    readonly importMs: number,
  ) {
    worker.on('message', (message: Reply & { id: number }) => {
      this.pending.get(message.id)?.(message);
      this.pending.delete(message.id);
    });
  }

  static async start(index: number, taskRoot: string, env: Env, timeoutMs: number): Promise<Container> {
    const worker = new Worker(new URL('./burst-container.mjs', import.meta.url), {
      workerData: { taskRoot, timeoutMs, name: env.AWS_LAMBDA_FUNCTION_NAME },
      env,
      // What the nodejs22.x bootstrap gives the heap of a 256 MB function.
      resourceLimits: { maxOldGenerationSizeMb: 231 },
      // The functions' log lines (thousands in a scenario) are written, as on Lambda, and let go:
      // they are not the benchmark's output. A container that fails says so through 'error'.
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.resume();
    const [ready] = (await Promise.race([
      once(worker, 'message'),
      once(worker, 'error').then(([error]) => {
        throw error;
      }),
    ])) as [{ importMs: number }];
    return new Container(index, worker, ready.importMs);
  }

  invoke(event: unknown): Promise<Reply> {
    const id = this.next++;
    this.invocations += 1;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, event });
    });
  }

  stop() {
    return this.worker.terminate();
  }
}

const startContainers = async (count: number, taskRoot: string, env: Env, timeoutMs: number) => {
  const containers: Container[] = [];
  // A few at a time: all at once, 50 imports would take as long, and time out nothing.
  for (let index = 0; index < count; index += 4) {
    const batch = Array.from({ length: Math.min(4, count - index) }, (_, n) =>
      Container.start(index + n, taskRoot, env, timeoutMs),
    );
    containers.push(...(await Promise.all(batch)));
  }
  return containers;
};

// ---------------------------------------------------------------------------------------------

const userPoolId = config.event.userPoolId;
const subs = Array.from({ length: config.users }, () => randomUUID());

const signUp = (sub: string) => {
  const event = structuredClone(config.event);
  const attributes = event.request.userAttributes;
  event.userName = sub;
  attributes.sub = sub;
  for (const key of ['email', 'cognito:email_alias']) {
    const value = attributes[key];
    if (typeof value === 'string') attributes[key] = value.replace('@', `+${sub}@`);
  }
  return event;
};

/** The record the event source mapping hands the worker for a message it received. */
const recordOf = (message: Message, queueArn: string) => ({
  ...config.record,
  messageId: message.id,
  receiptHandle: message.receipt,
  body: message.body,
  attributes: {
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(Math.floor(message.sentAt)),
    SenderId: 'AROAEXAMPLEROLEID:cognito-user-sync-post-confirmation',
    ApproximateFirstReceiveTimestamp: String(Math.floor(message.firstReceivedAt ?? message.sentAt)),
  },
  messageAttributes: Object.fromEntries(
    Object.entries(message.attributes).map(([name, value]) => [
      name,
      {
        stringValue: value.StringValue,
        stringListValues: [],
        binaryListValues: [],
        dataType: value.DataType,
      },
    ]),
  ),
  eventSourceARN: queueArn,
});

const subOf = (body: string): string => {
  try {
    const message = JSON.parse(body) as { body?: { cognitoSub?: unknown } };
    return String(message.body?.cognitoSub ?? '');
  } catch {
    return '';
  }
};

const main = async () => {
  const xray = createSocket('udp4');
  let xrayDatagrams = 0;
  xray.on('message', () => {
    xrayDatagrams += 1;
  });
  xray.bind(0, '127.0.0.1');
  await once(xray, 'listening');
  const xrayAddress = `127.0.0.1:${(xray.address() as AddressInfo).port}`;

  const aws: FakeAws = await startFakeAws({
    timeScale: config.timeScale,
    retryQueue: config.retryQueue,
    poolUsers: new Set(subs),
    userPoolId,
    apiKey: config.apiKey,
  });
  const service = await ServiceProcess.start({ ...config.service, apiKey: config.apiKey });
  const common = {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_XRAY_DAEMON_ADDRESS: xrayAddress,
    USER_SERVICE_API_KEY_SECRET_ID: aws.secretArn,
    RETRY_QUEUE_URL: aws.retryQueue.url,
    DEAD_LETTER_QUEUE_URL: aws.deadLetterQueue.url,
  };
  const triggerEnv = {
    ...config.env.trigger,
    ...common,
    USER_SERVICE_URL: `${service.origin}/trigger/api/v1/users`,
  };
  const workerEnv = {
    ...config.env.worker,
    ...common,
    USER_SERVICE_URL: `${service.origin}/worker/api/v1/users`,
  };

  say(
    `starting ${config.containers} post-confirmation and ${config.esm.maximumConcurrency} retry-worker containers`,
  );
  const triggers = await startContainers(config.containers, config.taskRoots.trigger, triggerEnv, 5000);
  const workers = await startContainers(
    config.esm.maximumConcurrency,
    config.taskRoots.worker,
    workerEnv,
    30_000,
  );

  // Each container answers one password reset first: the trigger skips it (no request, no secret,
  // its budget and breaker untouched), and the chain's code is compiled. Otherwise 50 containers
  // compiling it at once on two cores would make the first seconds of a burst the machine's: on
  // Lambda each container runs on its own share of a CPU.
  const reset = { ...structuredClone(config.event), triggerSource: 'PostConfirmation_ConfirmForgotPassword' };
  for (const container of triggers) {
    const reply = await container.invoke(reset);
    if (reply.error !== undefined) throw new Error(`a password reset failed: ${reply.error}`);
  }
  // Lets the machine settle after the imports.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const t0 = clock() + 100;
  await service.start(t0);
  const endAt = t0 + config.endMs;
  const giveUpAt = endAt + config.boundMs * 1.5;

  // --- Post-confirmation: arrivals, routed to the warmest idle container.
  const idle = [...triggers].reverse(); // a stack: pop() takes the container used last
  const waiting: { index: number; arrivalAt: number }[] = [];
  const invocations: Invocation[] = [];
  const triggerErrors: string[] = [];
  let busy = 0;
  let maxBusy = 0;
  let waitedForContainer = 0;
  let answered = 0;

  const run = (container: Container, index: number, arrivalAt: number) => {
    busy += 1;
    maxBusy = Math.max(maxBusy, busy);
    const sub = subs[index] ?? '';
    const event = signUp(sub);
    void container.invoke(event).then((reply) => {
      busy -= 1;
      answered += 1;
      const returned = reply.error === undefined && JSON.stringify(reply.result) === JSON.stringify(event);
      if (reply.error !== undefined && triggerErrors.length < 20) triggerErrors.push(reply.error);
      invocations.push([sub, arrivalAt, reply.startedAt, reply.doneAt, container.index, returned ? 1 : 0]);
      const next = waiting.shift();
      if (next) run(container, next.index, next.arrivalAt);
      else idle.push(container);
    });
  };
  const arrive = (index: number, arrivalAt: number) => {
    const container = idle.pop();
    if (container) run(container, index, arrivalAt);
    else {
      waitedForContainer += 1;
      waiting.push({ index, arrivalAt });
    }
  };

  const interval = 1000 / config.arrivalsPerSecond;
  let arrived = 0;
  const arrivals = new Promise<void>((resolve) => {
    const tick = () => {
      const at = clock();
      while (arrived < config.users && t0 + arrived * interval <= at) {
        arrive(arrived, t0 + arrived * interval);
        arrived += 1;
      }
      if (arrived < config.users) setTimeout(tick, Math.max(0, t0 + arrived * interval - clock()));
      else resolve();
    };
    setTimeout(tick, Math.max(0, t0 - clock()));
  });

  // --- The retry worker's event source mapping.
  let stopped = false;
  const esm = { batches: 0, records: 0, reportedFailures: 0, functionErrors: [] as string[], deletes: 0 };
  let inFlight = 0;
  const queueArn = `arn:aws:sqs:${process.env.AWS_REGION ?? 'eu-west-1'}:123456789012:bench-burst-retry`;
  const poll = async (container: Container) => {
    while (!stopped) {
      const messages = aws.retryQueue.receive(config.esm.batchSize);
      if (messages.length === 0) {
        await aws.retryQueue.waitForVisible(250);
        continue;
      }
      inFlight += 1;
      esm.batches += 1;
      esm.records += messages.length;
      const reply = await container.invoke({
        Records: messages.map((message) => recordOf(message, queueArn)),
      });
      inFlight -= 1;
      if (reply.error !== undefined) {
        // A failed invocation: the whole batch comes back after the visibility timeout.
        if (esm.functionErrors.length < 20) esm.functionErrors.push(reply.error);
        continue;
      }
      const failures = new Set(
        (
          (reply.result as { batchItemFailures?: { itemIdentifier: string }[] } | undefined)
            ?.batchItemFailures ?? []
        ).map((failure) => failure.itemIdentifier),
      );
      esm.reportedFailures += failures.size;
      for (const message of messages) {
        if (!failures.has(message.id) && message.receipt && aws.retryQueue.delete(message.receipt)) {
          esm.deletes += 1;
        }
      }
    }
  };
  const pollers = workers.map((container) => poll(container));

  // --- Until every user is in, or nothing more can happen, or long past the bound.
  let stoppedBecause: HostReport['stoppedBecause'] = 'bound';
  let lastProgress = clock();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const inService = await service.count();
    const at = clock();
    const allAnswered = arrived === config.users && answered === config.users;
    if (at - lastProgress >= 5000) {
      lastProgress = at;
      say(
        `t+${((at - t0) / 1000).toFixed(0)} s: ${arrived} signed up, ${answered} answered, ${inService} in the service, ` +
          `${aws.retryQueue.messages.size} on the retry queue, ${aws.deadLetterQueue.messages.size} dead-lettered`,
      );
    }
    if (allAnswered && inService === config.users) {
      stoppedBecause = 'all-in';
      break;
    }
    if (allAnswered && aws.retryQueue.messages.size === 0 && inFlight === 0) {
      stoppedBecause = 'nothing-left';
      break;
    }
    // Past the bound (by half again), once every sign-up is answered (Lambda's 5 s timeout would end one that is not).
    if (at > giveUpAt && (allAnswered || at > giveUpAt + 10_000)) break;
  }
  stopped = true;
  await arrivals;
  const finishedAt = clock();
  await Promise.all(pollers);

  const report: HostReport = {
    node: process.version,
    t0,
    endAt,
    finishedAt,
    stoppedBecause,
    invocations,
    triggerErrors,
    containersUsed: triggers.filter((container) => container.invocations > 1).length,
    maxBusy,
    waitedForContainer,
    importMs: {
      trigger: triggers.map((container) => container.importMs),
      worker: workers.map((container) => container.importMs),
    },
    esm,
    queues: {
      retry: {
        left: [...aws.retryQueue.messages.values()].map((message) => subOf(message.body)),
        sends: aws.retryQueue.sends,
        receives: aws.retryQueue.receives,
        visibilityChanges: aws.retryQueue.visibilityChanges,
        redriven: aws.retryQueue.redriven,
      },
      deadLetter: { subs: [...aws.deadLetterQueue.messages.values()].map((message) => subOf(message.body)) },
    },
    aws: aws.calls,
    service: await service.stats(),
    xrayDatagrams,
  };
  writeSync(3, JSON.stringify(report));

  await Promise.all([...triggers, ...workers].map((container) => container.stop()));
  await service.stop();
  await aws.close();
  xray.close();
};

await main();
// Keep-alive sockets would hold the process.
setTimeout(() => process.exit(0), 100);
