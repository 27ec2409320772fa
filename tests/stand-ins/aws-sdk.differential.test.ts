// The AWS client stand-ins the Lambda zips bundle (src/stand-ins/aws-sdk/, on
// src/stand-ins/aws-json-client.ts) against the real @aws-sdk clients they stand in for: every
// operation a zip calls is sent by both, with the same input and config, to the same loopback
// recorder, which gives both the same answers. What reaches the wire must be the same, attempt for
// attempt (the target, the headers, the body as JSON, the SigV4 signature), and so must what the
// caller sees: the output (dates as Dates), or the error (its name, `$fault`, `$metadata` with the
// status and the attempts, the answer's fields) after the same retries.
//
// The clock is pinned for both: vitest's fake timers fake Date alone (setTimeout stays real, so
// sockets and retries run as they do), both clients sign with `new Date(Date.now() + offset)`,
// and the recorder's answers carry that same time as their Date header, so neither corrects its
// clock unless a case asks for it. Math.random, the retry jitter of both, is pinned to 0: the
// retries wait 0 ms, and their `totalRetryDelay` can be compared.
//
// When it fails after an upgrade of the SDK (verified.ts and verified.test.ts say which versions
// it was last run against), the stand-in has drifted from the SDK: make the stand-in do what the
// SDK now does, or say in the stand-in why not.

import { createHash } from 'node:crypto';
import * as sdkCognito from '@aws-sdk/client-cognito-identity-provider';
import * as sdkDynamo from '@aws-sdk/client-dynamodb';
import * as sdkSecrets from '@aws-sdk/client-secrets-manager';
import * as sdkSqs from '@aws-sdk/client-sqs';
import { AwsV4Signer } from 'aws4fetch';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as standInCognito from '../../src/stand-ins/aws-sdk/client-cognito-identity-provider.js';
import * as standInDynamo from '../../src/stand-ins/aws-sdk/client-dynamodb.js';
import * as standInSecrets from '../../src/stand-ins/aws-sdk/client-secrets-manager.js';
import * as standInSqs from '../../src/stand-ins/aws-sdk/client-sqs.js';
import { type ReceivedRequest, type Responder, startScriptedServer } from '../helpers/scripted-server.js';

const NOW = new Date('2025-11-26T10:00:00Z');
const CREDENTIALS = {
  accessKeyId: 'AKIDDIFFERENTIAL',
  secretAccessKey: 'differential-secret-key',
  sessionToken: 'differential-session-token',
};
const REGION = 'eu-west-1';
const POOL = 'eu-west-1_Qx7Lm2Rt9';

/** The config both clients get. */
interface ClientConfig {
  region: string;
  credentials: typeof CREDENTIALS;
  maxAttempts: number;
  endpoint?: string;
}
const SILENT = { debug() {}, info() {}, warn() {}, error() {} };
/**
 * What the SDK gets besides: a quiet logger, and the standard retry mode pinned (the stand-in has
 * no other), so that neither AWS_RETRY_MODE nor a profile's retry_mode makes it adaptive.
 */
const sdkConfig = (config: ClientConfig) => ({ ...config, logger: SILENT, retryMode: 'standard' });

// ---------------------------------------------------------------------------------------------
// The recorder's answers

const HTTP_DATE = NOW.toUTCString();

/** An AWS JSON answer, dated NOW (Node would date it with the real clock). */
const answer =
  (status: number, body: unknown, headers: Record<string, string> = {}): Responder =>
  (_request, response, n) => {
    response.sendDate = false;
    response.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      date: HTTP_DATE,
      'x-amzn-requestid': `request-${n}`,
      ...headers,
    });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** SQS's answer to what was sent: the message ids and the MD5 of each body, as SQS computes them. */
const sqsAnswer: Responder = (request, response, n) => {
  const sent = request.json as { MessageBody?: string; Entries?: { Id: string; MessageBody: string }[] };
  const body =
    sent.Entries === undefined
      ? { MessageId: 'message-1', MD5OfMessageBody: md5(sent.MessageBody ?? '') }
      : {
          Successful: sent.Entries.map((entry, index) => ({
            Id: entry.Id,
            MessageId: `message-${index}`,
            MD5OfMessageBody: md5(entry.MessageBody),
          })),
          Failed: [],
        };
  answer(200, body)(request, response, n);
};

const throttled = (name: string) => answer(400, { __type: name, message: 'Rate exceeded' });
const internalError = answer(500, { __type: 'InternalFailure', message: 'Try again' });

// ---------------------------------------------------------------------------------------------
// What each side sent and saw

/** Headers that legitimately differ, each with why. Everything else must be the same. */
const EXCLUDED_HEADERS: Record<string, string> = {
  // Each names its own client; not signed.
  'user-agent': 'its own client name',
  // The SDK's user agent again, for browsers' sake; the stand-in does not send it.
  'x-amz-user-agent': 'SDK only',
  // Random for each call (checked below: one id per call, sent again with every attempt).
  'amz-sdk-invocation-id': 'random',
  // The SDK sends the payload's SHA-256 as a header as well (checked below: that of the body); the
  // stand-in signs the same hash in its canonical request without sending it. AWS JSON services
  // need no such header (S3 does; the zips never call it).
  'x-amz-content-sha256': 'SDK only',
  // Compared as a signature, below.
  authorization: 'compared as a signature',
};
const SDK_ONLY_SIGNED = new Set(['x-amz-user-agent', 'x-amz-content-sha256']);

const authorizationOf = (request: ReceivedRequest) => {
  const [, credential = '', signedHeaders = '', signature = ''] =
    /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/.exec(
      String(request.headers.authorization),
    ) ?? [];
  return { credential, signedHeaders: signedHeaders.split(';'), signature };
};

/** The SigV4 signature of `headers` and `body` as sent to `request`'s host, by aws4fetch's signer. */
const signatureOf = async (request: ReceivedRequest, headers: Record<string, string>, body: string) => {
  const [, , region, service] = authorizationOf(request).credential.split('/');
  const signer = new AwsV4Signer({
    url: `http://${request.headers.host}${request.path}`,
    method: request.method,
    headers,
    body,
    ...CREDENTIALS,
    region,
    service,
    datetime: String(request.headers['x-amz-date']),
    allHeaders: true,
  });
  const { headers: signed } = await signer.sign();
  return /Signature=([0-9a-f]+)$/.exec(signed.get('authorization') ?? '')?.[1];
};

const headerText = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join(', ') : value;

/** The request's signed headers, as sent. */
const signedHeadersOf = (request: ReceivedRequest) =>
  Object.fromEntries(
    authorizationOf(request).signedHeaders.map((name) => [name, headerText(request.headers[name]) ?? '']),
  );

/** JSON with its object keys sorted: the same text for the same JSON, whatever the order sent. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1)))
      : item,
  );

/**
 * One attempt on the wire, in what must be the same for both. The body is compared as JSON: the
 * SDK writes an input's members in its model's order, the stand-in in the input's, so the text
 * (and its hash) may differ where the JSON does not. The signature is checked twice: as sent (it
 * is the SigV4 signature of what was sent: `signatureValid`), and as it would be without what
 * legitimately differs (`signature`: the SDK-only headers left out, the invocation id and the
 * body's member order made the same, the body's length following): equal signatures there mean the
 * same key, scope, date, token and signed content.
 */
const wireOf = async (request: ReceivedRequest) => {
  const { credential, signature: sent } = authorizationOf(request);
  const signed = signedHeadersOf(request);
  const headers = Object.fromEntries(
    Object.entries(request.headers)
      .filter(([name]) => !(name in EXCLUDED_HEADERS))
      .map(([name, value]) => [name, headerText(value)]),
  );
  const body = canonicalJson(request.json);
  const comparable = Object.fromEntries(
    Object.entries(signed).filter(([name]) => !SDK_ONLY_SIGNED.has(name)),
  );
  Object.assign(comparable, {
    'amz-sdk-invocation-id': '00000000-0000-4000-8000-000000000000',
    'content-length': String(Buffer.byteLength(body)),
  });
  const payloadHash = request.headers['x-amz-content-sha256'];
  return {
    method: request.method,
    path: request.path,
    target: request.headers['x-amz-target'],
    headers,
    body: request.json,
    credential,
    signedHeaders: Object.keys(signed).filter((name) => !SDK_ONLY_SIGNED.has(name)),
    signatureValid: sent === (await signatureOf(request, signed, request.body)),
    signature: await signatureOf(request, comparable, body),
    payloadHashIsTheBodys: payloadHash === undefined || payloadHash === sha256(request.body),
  };
};

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** What the caller sees: the output, or the error's name, message and own (enumerable) fields. */
const outcomeOf = (settled: PromiseSettledResult<unknown>): Outcome => {
  if (settled.status === 'fulfilled') return { output: settled.value };
  const error: unknown = settled.reason;
  if (!(error instanceof Error)) return { thrown: error };
  return { error: { ...error, isError: true, name: error.name, message: error.message } };
};

interface Outcome {
  output?: unknown;
  error?: Record<string, unknown>;
  thrown?: unknown;
}

interface Side {
  outcome: Outcome;
  wire: Awaited<ReturnType<typeof wireOf>>[];
  invocationIds: number;
}

/** An operation as each client sends it: the same input, to the same recorder. */
interface Operation<Input> {
  sdk: (config: ClientConfig, input: Input) => Promise<unknown>;
  standIn: (config: ClientConfig, input: Input) => Promise<unknown>;
  /** SQS sends to the queue URL's host: no endpoint is configured, as in the functions. */
  queueUrlEndpoint?: boolean;
}

/**
 * Sends `input` with both clients, one after the other, to one recorder answering `script` (the
 * nth answer to the nth request of each side, the last to every later one).
 */
const sendWithBoth = async <Input>(
  operation: Operation<Input>,
  input: (origin: string) => Input,
  script: Responder[],
  { maxAttempts = 3 } = {},
): Promise<{ sdk: Side; standIn: Side }> => {
  let requests: ReceivedRequest[] = [];
  const server = await startScriptedServer([
    (request, response) => {
      const n = requests.push(request) - 1;
      script[Math.min(n, script.length - 1)]?.(request, response, n);
    },
  ]);
  const origin = new URL(server.url).origin;
  const config: ClientConfig = {
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts,
    ...(!operation.queueUrlEndpoint && { endpoint: origin }),
  };
  try {
    const sides: Partial<Record<'sdk' | 'standIn', Side>> = {};
    for (const side of ['sdk', 'standIn'] as const) {
      requests = [];
      const settled = (await Promise.allSettled([operation[side](config, input(origin))]))[0];
      if (settled === undefined) throw new Error('no outcome');
      sides[side] = {
        outcome: outcomeOf(settled),
        wire: await Promise.all(requests.map(wireOf)),
        invocationIds: new Set(requests.map((request) => request.headers['amz-sdk-invocation-id'])).size,
      };
    }
    const { sdk, standIn } = sides;
    if (sdk === undefined || standIn === undefined) throw new Error('a side did not run');
    return { sdk, standIn };
  } finally {
    await server.close();
  }
};

/**
 * Asserts that the two sides sent and saw the same, each request signed right; returns both, for
 * the case to say what that was (so that the two cannot agree on something wrong).
 */
const expectSame = (sides: { sdk: Side; standIn: Side }) => {
  const { sdk, standIn } = sides;
  expect(standIn.wire).toEqual(sdk.wire);
  expect(standIn.outcome).toEqual(sdk.outcome);
  for (const side of [sdk, standIn]) {
    expect(side.invocationIds).toBe(1);
    for (const attempt of side.wire) {
      expect(attempt.signatureValid).toBe(true);
      expect(attempt.payloadHashIsTheBodys).toBe(true);
    }
  }
  return sides;
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  vi.spyOn(Math, 'random').mockReturnValue(0);
  // The environment either client would read instead of its config.
  for (const name of [
    'AWS_ENDPOINT_URL',
    'AWS_ENDPOINT_URL_SQS',
    'AWS_MAX_ATTEMPTS',
    'AWS_REGION',
    'AWS_RETRY_MODE',
    'AWS_USE_FIPS_ENDPOINT',
    'AWS_USE_DUALSTACK_ENDPOINT',
  ]) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', undefined);
  vi.stubEnv('_X_AMZN_TRACE_ID', undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

// ---------------------------------------------------------------------------------------------
// Every operation the zips call, with what the functions send and what they read of the answer

const USER = {
  Username: '3c2f9a8e-1b7d-4e51-9f0a-6d2c8b4e7a13',
  UserStatus: 'CONFIRMED',
  Enabled: true,
  UserCreateDate: 1764151200.5,
  UserLastModifiedDate: 1764151260.25,
};
const ATTRIBUTES = [
  { Name: 'sub', Value: USER.Username },
  { Name: 'email', Value: 'ada@example.com' },
];
const QUEUE = (origin: string) => `${origin}/123456789012/cognito-user-sync-retry`;
const KEY = { userPoolId: { S: POOL } };

/**
 * An operation the zips call: how each client sends it, an input the functions send, and the
 * answer AWS gives it, with what the functions read of the output (`reads`).
 */
const operation = <Input>(
  spec: Operation<Input> & {
    input: (origin: string) => Input;
    answer: Responder;
    reads: Record<string, unknown>;
  },
) => ({
  ...spec,
  /** Sends the operation's input with both clients to a recorder answering `script`. */
  sendWithBoth: (script: Responder[] = [spec.answer], options?: { maxAttempts?: number }) =>
    sendWithBoth(spec, spec.input, script, options),
});

// From src/clients (cognito-users, credentials, user-queue, run-ledger), src/handlers/reconcile.ts
// and @middy/secrets-manager (GetSecretValue; DescribeSecret only with fetchRotationDate, unused).
const OPERATIONS = {
  AdminGetUser: operation<sdkCognito.AdminGetUserCommandInput>({
    sdk: (config, input) =>
      new sdkCognito.CognitoIdentityProviderClient(sdkConfig(config)).send(
        new sdkCognito.AdminGetUserCommand(input),
      ),
    standIn: (config, input) =>
      new standInCognito.CognitoIdentityProviderClient(config).send(
        new standInCognito.AdminGetUserCommand(input),
      ),
    input: () => ({ UserPoolId: POOL, Username: USER.Username }),
    answer: answer(200, { ...USER, UserAttributes: ATTRIBUTES }),
    reads: {
      UserAttributes: ATTRIBUTES,
      UserStatus: 'CONFIRMED',
      Enabled: true,
      UserCreateDate: new Date('2025-11-26T10:00:00.500Z'),
      UserLastModifiedDate: new Date('2025-11-26T10:01:00.250Z'),
    },
  }),
  ListUsers: operation<sdkCognito.ListUsersCommandInput>({
    sdk: (config, input) =>
      new sdkCognito.CognitoIdentityProviderClient(sdkConfig(config)).send(
        new sdkCognito.ListUsersCommand(input),
      ),
    standIn: (config, input) =>
      new standInCognito.CognitoIdentityProviderClient(config).send(
        new standInCognito.ListUsersCommand(input),
      ),
    input: () => ({ UserPoolId: POOL, Filter: 'sub ^= "3c"', Limit: 60, PaginationToken: 'page-2' }),
    answer: answer(200, { Users: [{ ...USER, Attributes: ATTRIBUTES }], PaginationToken: 'page-3' }),
    reads: {
      Users: [
        {
          Username: USER.Username,
          Attributes: ATTRIBUTES,
          UserCreateDate: new Date('2025-11-26T10:00:00.500Z'),
          UserLastModifiedDate: new Date('2025-11-26T10:01:00.250Z'),
        },
      ],
      PaginationToken: 'page-3',
    },
  }),
  DescribeUserPool: operation<sdkCognito.DescribeUserPoolCommandInput>({
    sdk: (config, input) =>
      new sdkCognito.CognitoIdentityProviderClient(sdkConfig(config)).send(
        new sdkCognito.DescribeUserPoolCommand(input),
      ),
    standIn: (config, input) =>
      new standInCognito.CognitoIdentityProviderClient(config).send(
        new standInCognito.DescribeUserPoolCommand(input),
      ),
    input: () => ({ UserPoolId: POOL }),
    answer: answer(200, {
      UserPool: {
        Id: POOL,
        EstimatedNumberOfUsers: 1234,
        CreationDate: 1764151200,
        LastModifiedDate: 1764151300,
      },
    }),
    reads: {
      UserPool: {
        EstimatedNumberOfUsers: 1234,
        CreationDate: new Date('2025-11-26T10:00:00Z'),
        LastModifiedDate: new Date('2025-11-26T10:01:40Z'),
      },
    },
  }),
  GetSecretValue: operation<sdkSecrets.GetSecretValueCommandInput>({
    sdk: (config, input) =>
      new sdkSecrets.SecretsManagerClient(sdkConfig(config)).send(
        new sdkSecrets.GetSecretValueCommand(input),
      ),
    standIn: (config, input) =>
      new standInSecrets.SecretsManagerClient(config).send(new standInSecrets.GetSecretValueCommand(input)),
    input: () => ({ SecretId: 'cognito-user-sync/api-key' }),
    answer: answer(200, {
      ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cognito-user-sync/api-key-AbCdEf',
      Name: 'cognito-user-sync/api-key',
      SecretString: '{"apiKey":"k"}',
      VersionId: 'v-1',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1764151200.125,
    }),
    reads: { SecretString: '{"apiKey":"k"}', CreatedDate: new Date('2025-11-26T10:00:00.125Z') },
  }),
  SendMessage: operation<sdkSqs.SendMessageCommandInput>({
    queueUrlEndpoint: true,
    sdk: (config, input) =>
      new sdkSqs.SQSClient(sdkConfig(config)).send(new sdkSqs.SendMessageCommand(input)),
    standIn: (config, input) =>
      new standInSqs.SQSClient(config).send(new standInSqs.SendMessageCommand(input)),
    input: (origin) => ({
      QueueUrl: QUEUE(origin),
      MessageBody: '{"version":1,"sub":"3c2f…","note":"héllo"}',
      DelaySeconds: 30,
      MessageAttributes: { reason: { DataType: 'String', StringValue: 'user-service-unavailable' } },
    }),
    answer: sqsAnswer,
    reads: { MessageId: 'message-1' },
  }),
  SendMessageBatch: operation<sdkSqs.SendMessageBatchCommandInput>({
    queueUrlEndpoint: true,
    sdk: (config, input) =>
      new sdkSqs.SQSClient(sdkConfig(config)).send(new sdkSqs.SendMessageBatchCommand(input)),
    standIn: (config, input) =>
      new standInSqs.SQSClient(config).send(new standInSqs.SendMessageBatchCommand(input)),
    input: (origin) => ({
      QueueUrl: QUEUE(origin),
      Entries: [
        { Id: '0', MessageBody: '{"action":"create"}' },
        { Id: '1', MessageBody: '{"action":"delete"}', DelaySeconds: 5 },
      ],
    }),
    answer: sqsAnswer,
    reads: { Successful: [{ Id: '0' }, { Id: '1' }], Failed: [] },
  }),
  ChangeMessageVisibility: operation<sdkSqs.ChangeMessageVisibilityCommandInput>({
    queueUrlEndpoint: true,
    sdk: (config, input) =>
      new sdkSqs.SQSClient(sdkConfig(config)).send(new sdkSqs.ChangeMessageVisibilityCommand(input)),
    standIn: (config, input) =>
      new standInSqs.SQSClient(config).send(new standInSqs.ChangeMessageVisibilityCommand(input)),
    input: (origin) => ({ QueueUrl: QUEUE(origin), ReceiptHandle: 'receipt-1', VisibilityTimeout: 120 }),
    answer: answer(200, {}),
    reads: {},
  }),
  GetItem: operation<sdkDynamo.GetItemCommandInput>({
    sdk: (config, input) =>
      new sdkDynamo.DynamoDBClient(sdkConfig(config)).send(new sdkDynamo.GetItemCommand(input)),
    standIn: (config, input) =>
      new standInDynamo.DynamoDBClient(config).send(new standInDynamo.GetItemCommand(input)),
    input: () => ({ TableName: 'runs', Key: KEY, ConsistentRead: true }),
    answer: answer(200, {
      Item: { ...KEY, runId: { S: 'run-1' }, nextSlice: { N: '3' }, handedOff: { BOOL: false } },
    }),
    reads: { Item: { ...KEY, runId: { S: 'run-1' }, nextSlice: { N: '3' }, handedOff: { BOOL: false } } },
  }),
  PutItem: operation<sdkDynamo.PutItemCommandInput>({
    sdk: (config, input) =>
      new sdkDynamo.DynamoDBClient(sdkConfig(config)).send(new sdkDynamo.PutItemCommand(input)),
    standIn: (config, input) =>
      new standInDynamo.DynamoDBClient(config).send(new standInDynamo.PutItemCommand(input)),
    input: () => ({
      TableName: 'runs',
      Item: {
        ...KEY,
        runId: { S: 'run-2' },
        counts: { M: { created: { N: '0' } } },
        handedOff: { BOOL: false },
      },
      ConditionExpression: 'attribute_not_exists(#runId) OR #runId = :replacing',
      ExpressionAttributeNames: { '#runId': 'runId' },
      ExpressionAttributeValues: { ':replacing': { S: 'run-1' } },
    }),
    answer: answer(200, {}),
    reads: {},
  }),
  UpdateItem: operation<sdkDynamo.UpdateItemCommandInput>({
    sdk: (config, input) =>
      new sdkDynamo.DynamoDBClient(sdkConfig(config)).send(new sdkDynamo.UpdateItemCommand(input)),
    standIn: (config, input) =>
      new standInDynamo.DynamoDBClient(config).send(new standInDynamo.UpdateItemCommand(input)),
    input: () => ({
      TableName: 'runs',
      Key: KEY,
      UpdateExpression: 'SET #lease = :lease, #leaseUntil = :leaseUntil',
      ConditionExpression: 'attribute_not_exists(#lease) OR #leaseUntil < :now',
      ExpressionAttributeNames: { '#lease': 'lease', '#leaseUntil': 'leaseUntil' },
      ExpressionAttributeValues: {
        ':lease': { S: 'lease-1' },
        ':leaseUntil': { N: '1764151260000' },
        ':now': { N: '1764151200000' },
      },
      ReturnValues: 'ALL_NEW',
    }),
    answer: answer(200, { Attributes: { ...KEY, lease: { S: 'lease-1' } } }),
    reads: { Attributes: { ...KEY, lease: { S: 'lease-1' } } },
  }),
};

const NAMES = Object.keys(OPERATIONS) as (keyof typeof OPERATIONS)[];

/** The modelled error each service gives an operation's ordinary failure, and its throttle. */
const THROTTLES: Record<keyof typeof OPERATIONS, string> = {
  AdminGetUser: 'TooManyRequestsException',
  ListUsers: 'TooManyRequestsException',
  DescribeUserPool: 'TooManyRequestsException',
  GetSecretValue: 'ThrottlingException',
  SendMessage: 'ThrottlingException',
  SendMessageBatch: 'ThrottlingException',
  ChangeMessageVisibility: 'ThrottlingException',
  GetItem: 'ProvisionedThroughputExceededException',
  PutItem: 'ProvisionedThroughputExceededException',
  UpdateItem: 'ThrottlingException',
};

describe('the AWS client stand-ins, against the AWS SDK clients on the same recorder', () => {
  it.each(NAMES)('%s: the same request, signature and output, its dates as Dates', async (name) => {
    const { sdk } = expectSame(await OPERATIONS[name].sendWithBoth());

    expect(sdk.wire).toHaveLength(1);
    expect(sdk.outcome.output).toMatchObject({
      ...OPERATIONS[name].reads,
      $metadata: { httpStatusCode: 200, requestId: 'request-0', attempts: 1, totalRetryDelay: 0 },
    });
  });

  it.each(NAMES)('%s: a throttle retried, then the answer', async (name) => {
    const { sdk } = expectSame(
      await OPERATIONS[name].sendWithBoth([throttled(THROTTLES[name]), OPERATIONS[name].answer]),
    );

    expect(sdk.wire.map((attempt) => attempt.headers['amz-sdk-request'])).toEqual([
      'attempt=1; max=3',
      'attempt=2; max=3',
    ]);
    expect(sdk.outcome.output).toMatchObject({ $metadata: { attempts: 2, totalRetryDelay: 0 } });
  });

  it.each(NAMES)('%s: a 500 retried until maxAttempts, then thrown', async (name) => {
    const { sdk } = expectSame(await OPERATIONS[name].sendWithBoth([internalError], { maxAttempts: 3 }));

    expect(sdk.wire).toHaveLength(3);
    expect(sdk.outcome.error).toMatchObject({
      name: 'InternalFailure',
      $fault: 'server',
      $metadata: { httpStatusCode: 500, requestId: 'request-2', attempts: 3 },
    });
  });

  describe('a modelled error (400): named, shaped and not retried as the SDK does', () => {
    it('UserNotFoundException (AdminGetUser)', async () => {
      const { sdk } = expectSame(
        await OPERATIONS.AdminGetUser.sendWithBoth([
          answer(400, { __type: 'UserNotFoundException', message: 'User does not exist.' }),
        ]),
      );

      expect(sdk.outcome.error).toMatchObject({
        name: 'UserNotFoundException',
        message: 'User does not exist.',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
    });

    it('ConditionalCheckFailedException (UpdateItem), named from its namespaced __type', async () => {
      const { sdk } = expectSame(
        await OPERATIONS.UpdateItem.sendWithBoth([
          answer(400, {
            __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
            message: 'The conditional request failed',
          }),
        ]),
      );

      expect(sdk.outcome.error).toMatchObject({
        name: 'ConditionalCheckFailedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
    });

    it('QueueDoesNotExist (SendMessage), named from SQS’s query-compatible error header', async () => {
      const { sdk } = expectSame(
        await OPERATIONS.SendMessage.sendWithBoth([
          answer(
            400,
            { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' },
            {
              'content-type': 'application/x-amz-json-1.0',
              'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender',
            },
          ),
        ]),
      );

      expect(sdk.outcome.error).toMatchObject({
        name: 'QueueDoesNotExist',
        Code: 'AWS.SimpleQueueService.NonExistentQueue',
        Type: 'Sender',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
    });

    it('ResourceNotFoundException (GetSecretValue), its message under Message', async () => {
      const { sdk } = expectSame(
        await OPERATIONS.GetSecretValue.sendWithBoth([
          answer(400, {
            __type: 'ResourceNotFoundException',
            Message: "Secrets Manager can't find the specified secret.",
          }),
        ]),
      );

      expect(sdk.outcome.error).toMatchObject({
        name: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { attempts: 1 },
      });
    });
  });

  it('a clock 10 minutes slow: the expired signature retried, signed at the server’s time', async () => {
    const later = new Date(NOW.getTime() + 600_000).toUTCString();
    const { sdk } = expectSame(
      await OPERATIONS.GetSecretValue.sendWithBoth([
        answer(
          400,
          {
            __type: 'InvalidSignatureException',
            message: 'Signature expired: 20251126T100000Z is now earlier than …',
          },
          { date: later },
        ),
        answer(200, { SecretString: 'k' }, { date: later }),
      ]),
    );

    expect(sdk.wire.map((attempt) => attempt.headers['x-amz-date'])).toEqual([
      '20251126T100000Z',
      '20251126T101000Z',
    ]);
    expect(sdk.outcome.output).toMatchObject({ SecretString: 'k', $metadata: { attempts: 2 } });
  });

  describe('the MD5 the SQS client checks of what it sent', () => {
    it('SendMessage: refused when the answer’s is not the body’s', async () => {
      const { sdk } = expectSame(
        await OPERATIONS.SendMessage.sendWithBoth([
          answer(200, { MessageId: 'message-1', MD5OfMessageBody: md5('another body') }),
        ]),
      );

      expect(sdk.outcome.error).toMatchObject({ message: 'InvalidChecksumError' });
    });

    it('SendMessageBatch: refused, naming the messages whose is not', async () => {
      const { sdk } = expectSame(
        await OPERATIONS.SendMessageBatch.sendWithBoth([
          answer(200, {
            Successful: [
              { Id: '0', MessageId: 'message-0', MD5OfMessageBody: md5('another body') },
              { Id: '1', MessageId: 'message-1', MD5OfMessageBody: md5('{"action":"delete"}') },
            ],
            Failed: [],
          }),
        ]),
      );

      expect(sdk.outcome.error).toMatchObject({ message: 'Invalid MD5 checksum on messages: message-0' });
    });
  });
});
