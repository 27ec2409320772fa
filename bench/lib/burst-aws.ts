// The AWS the burst phase's functions talk to, in memory, on loopback: what the shipped zips' AWS
// client sends (AWS JSON protocol: a POST with x-amz-target) is answered here.
// - SQS: a retry queue and its dead-letter queue, as SQS standard queues behave for what the
//   functions and the event source mapping do: DelaySeconds on send, a receive that hides a
//   message for the queue's VisibilityTimeout and counts its receives, ChangeMessageVisibility on
//   the receipt handle of the latest receive, delete, and the redrive to the dead-letter queue once
//   a message is received more than maxReceiveCount times. Not modelled: message loss, duplicate
//   deliveries, SQS's own latency. The queue's clock runs `timeScale` times faster: every delay and
//   visibility (the queue's, and each ChangeMessageVisibility, hence the worker's backoff schedule)
//   lasts 1/timeScale of what was asked, so that an hour-long schedule fits in the phase.
// - Cognito's AdminGetUser: every user of the scenario is in the pool (the worker asks before it
//   creates one).
// - Secrets Manager's GetSecretValue: the User Service's API key, as the deployed functions read it.
// moto is not used here: it cannot run a queue's clock faster, and its ReceiveMessage slows down
// with the queue's depth.

import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

export interface QueueSettings {
  delaySeconds: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount?: number | undefined;
}

export interface Message {
  id: string;
  body: string;
  attributes: Record<string, { DataType: string; StringValue?: string }>;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receipt?: string;
}

const now = () => performance.timeOrigin + performance.now();

export class Queue {
  readonly messages = new Map<string, Message>();
  private readonly receipts = new Map<string, string>();
  private waiters: (() => void)[] = [];
  sends = 0;
  receives = 0;
  visibilityChanges = 0;
  deletes = 0;
  redriven = 0;

  constructor(
    readonly url: string,
    private readonly settings: QueueSettings,
    private readonly timeScale: number,
    private readonly deadLetter?: Queue,
  ) {}

  /** Seconds on the queue's clock, in real ms. */
  private scaled(seconds: number) {
    return (seconds * 1000) / this.timeScale;
  }

  send(body: string, attributes: Message['attributes'], delaySeconds = this.settings.delaySeconds): Message {
    const at = now();
    const message: Message = {
      id: randomUUID(),
      body,
      attributes,
      sentAt: at,
      visibleAt: at + this.scaled(delaySeconds),
      receiveCount: 0,
    };
    this.messages.set(message.id, message);
    this.sends += 1;
    this.wake();
    return message;
  }

  /** Up to `max` visible messages, oldest visible first; each hidden for the visibility timeout. */
  receive(max: number): Message[] {
    const at = now();
    const visible = [...this.messages.values()]
      .filter((message) => message.visibleAt <= at)
      .sort((a, b) => a.visibleAt - b.visibleAt);
    const taken: Message[] = [];
    for (const message of visible) {
      if (taken.length === max) break;
      const { maxReceiveCount } = this.settings;
      if (this.deadLetter && maxReceiveCount !== undefined && message.receiveCount >= maxReceiveCount) {
        // SQS moves it when a receive would exceed maxReceiveCount.
        this.remove(message);
        this.deadLetter.send(message.body, message.attributes, 0);
        this.redriven += 1;
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= at;
      if (message.receipt) this.receipts.delete(message.receipt);
      message.receipt = randomUUID();
      this.receipts.set(message.receipt, message.id);
      message.visibleAt = at + this.scaled(this.settings.visibilityTimeoutSeconds);
      taken.push(message);
    }
    this.receives += taken.length;
    return taken;
  }

  private byReceipt(receipt: string): Message | undefined {
    const id = this.receipts.get(receipt);
    return id === undefined ? undefined : this.messages.get(id);
  }

  /** False when the receipt is not the message's latest, or the message is not in flight. */
  changeVisibility(receipt: string, seconds: number): boolean {
    const message = this.byReceipt(receipt);
    const at = now();
    if (!message || message.visibleAt <= at) return false;
    message.visibleAt = at + this.scaled(seconds);
    this.visibilityChanges += 1;
    this.wake();
    return true;
  }

  delete(receipt: string): boolean {
    const message = this.byReceipt(receipt);
    if (!message) return false;
    this.remove(message);
    this.deletes += 1;
    return true;
  }

  private remove(message: Message) {
    this.messages.delete(message.id);
    if (message.receipt) this.receipts.delete(message.receipt);
  }

  /** Resolves when a message may have become visible, or after `maxWaitMs` (a long poll's return). */
  waitForVisible(maxWaitMs: number): Promise<void> {
    const at = now();
    let next = at + maxWaitMs;
    for (const message of this.messages.values()) next = Math.min(next, message.visibleAt);
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(1, next - at));
      this.waiters.push(done);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

export interface FakeAwsOptions {
  timeScale: number;
  retryQueue: QueueSettings;
  /** The users the pool holds, by sub. */
  poolUsers: ReadonlySet<string>;
  userPoolId: string;
  apiKey: string;
}

export interface FakeAws {
  endpoint: string;
  retryQueue: Queue;
  deadLetterQueue: Queue;
  secretArn: string;
  /** Calls by operation. */
  calls: Record<string, number>;
  close(): Promise<void>;
}

type Answer = { status: number; body: unknown };

const error = (status: number, type: string, message: string): Answer => ({
  status,
  body: { __type: type, message },
});

export const startFakeAws = async (options: FakeAwsOptions): Promise<FakeAws> => {
  const calls: Record<string, number> = {};
  const server: Server = createServer();
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const deadLetterQueue = new Queue(
    `${endpoint}/${ACCOUNT}/bench-burst-dead-letter`,
    { delaySeconds: 0, visibilityTimeoutSeconds: 30 },
    options.timeScale,
  );
  const retryQueue = new Queue(
    `${endpoint}/${ACCOUNT}/bench-burst-retry`,
    options.retryQueue,
    options.timeScale,
    deadLetterQueue,
  );
  const queues = new Map([retryQueue, deadLetterQueue].map((queue) => [queue.url, queue]));
  const secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:bench/user-service-api-key-AbCdEf`;
  const epochSeconds = Math.floor(Date.now() / 1000);

  const operations: Record<string, (input: Record<string, unknown>) => Answer> = {
    'AmazonSQS.SendMessage': (input) => {
      const queue = queues.get(String(input.QueueUrl));
      if (!queue) return error(400, 'com.amazonaws.sqs#QueueDoesNotExist', 'no such queue');
      const body = String(input.MessageBody);
      const message = queue.send(
        body,
        (input.MessageAttributes ?? {}) as Message['attributes'],
        typeof input.DelaySeconds === 'number' ? input.DelaySeconds : undefined,
      );
      return { status: 200, body: { MessageId: message.id, MD5OfMessageBody: md5(body) } };
    },
    'AmazonSQS.ChangeMessageVisibility': (input) => {
      const queue = queues.get(String(input.QueueUrl));
      if (!queue) return error(400, 'com.amazonaws.sqs#QueueDoesNotExist', 'no such queue');
      return queue.changeVisibility(String(input.ReceiptHandle), Number(input.VisibilityTimeout))
        ? { status: 200, body: {} }
        : error(400, 'com.amazonaws.sqs#MessageNotInflight', 'the message is not in flight');
    },
    'AWSCognitoIdentityProviderService.AdminGetUser': (input) => {
      const sub = String(input.Username);
      if (input.UserPoolId !== options.userPoolId || !options.poolUsers.has(sub)) {
        return error(400, 'UserNotFoundException', 'User does not exist.');
      }
      return {
        status: 200,
        body: {
          Username: sub,
          UserAttributes: [
            { Name: 'sub', Value: sub },
            { Name: 'email', Value: `${sub}@example.com` },
          ],
          UserStatus: 'CONFIRMED',
          Enabled: true,
          UserCreateDate: epochSeconds,
          UserLastModifiedDate: epochSeconds,
        },
      };
    },
    'secretsmanager.GetSecretValue': () => ({
      status: 200,
      body: {
        ARN: secretArn,
        Name: 'bench/user-service-api-key',
        SecretString: JSON.stringify({ apiKey: options.apiKey }),
        VersionId: 'b9c4a0c0-0000-4000-8000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: epochSeconds,
      },
    }),
  };

  const respond = (response: ServerResponse, { status, body }: Answer, target: string) => {
    const text = JSON.stringify(body);
    const json = target.startsWith('AmazonSQS.') ? '1.0' : '1.1';
    response.writeHead(status, {
      'content-type': `application/x-amz-json-${json}`,
      'x-amzn-requestid': randomUUID(),
      ...(status >= 300 &&
        target.startsWith('AmazonSQS.') && {
          'x-amzn-query-error': `${String((body as { __type: string }).__type).split('#')[1]};Sender`,
        }),
    });
    response.end(text);
  };

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      calls[target] = (calls[target] ?? 0) + 1;
      const operation = operations[target];
      if (!operation) {
        respond(response, error(400, 'UnknownOperationException', `not faked: ${target}`), target);
        return;
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        respond(response, error(400, 'SerializationException', 'not JSON'), target);
        return;
      }
      respond(response, operation(input), target);
    });
  });

  return {
    endpoint,
    retryQueue,
    deadLetterQueue,
    secretArn,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
