// The AWS client the Lambda zips bundle in place of the SDK's (src/stand-ins/aws-json-client.ts
// and its stand-ins in src/stand-ins/aws-sdk/), against servers on loopback: the signature, what
// it sends, the errors and names the code branches on, the retries, the timeouts and the aborts,
// and the SDK's environment. aws-sdk.differential.test.ts holds it to the real SDK call for call;
// the zips run it against moto in tests/package.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { addUserAgentMiddleware } from '@aws-lambda-powertools/commons';
import { AwsV4Signer } from 'aws4fetch';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AwsJsonService,
  resolveEndpoint,
  sha256Hex,
  signRequest,
} from '../../src/stand-ins/aws-json-client.js';
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  ListUsersCommand,
} from '../../src/stand-ins/aws-sdk/client-cognito-identity-provider.js';
import { DynamoDBClient, UpdateItemCommand } from '../../src/stand-ins/aws-sdk/client-dynamodb.js';
import {
  GetSecretValueCommand,
  SecretsManagerClient,
} from '../../src/stand-ins/aws-sdk/client-secrets-manager.js';
import {
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '../../src/stand-ins/aws-sdk/client-sqs.js';
import {
  type ReceivedRequest,
  type Responder,
  type ScriptedServer,
  startScriptedServer,
} from '../helpers/scripted-server.js';

// The AWS Signature Version 4 test suite (aws-sig-v4-test-suite, as the AWS SDK for JavaScript
// carries it in @aws-sdk/signature-v4's suite.fixture): its credentials, date, region and service.
const SUITE = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  service: 'service',
  date: new Date('2015-08-30T12:36:00Z'),
};
const SUITE_TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
interface Vector {
  name: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  sessionToken?: string;
  signedHeaders: string;
  signature: string;
}
const VECTORS: Vector[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    headers: {},
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    headers: {},
    signedHeaders: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'post-sts-header-before',
    method: 'POST',
    headers: {},
    sessionToken: SUITE_TOKEN,
    signedHeaders: 'host;x-amz-date;x-amz-security-token',
    signature: '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
  },
  {
    name: 'get-header-value-trim',
    method: 'GET',
    headers: { 'my-header1': 'value1', 'my-header2': '"a   b   c"' },
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'post-header-key-sort',
    method: 'POST',
    headers: { 'my-header1': 'value1' },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
  },
];

const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'secret-test',
  AWS_SESSION_TOKEN: 'token',
};

/** The AWS environment Lambda gives a function, pointed at `endpoint`. */
const awsEnv = (endpoint: string, extra: Record<string, string> = {}) => {
  for (const [name, value] of Object.entries({ AWS_REGION: 'eu-west-1', ...CREDENTIALS, ...extra })) {
    vi.stubEnv(name, value);
  }
  vi.stubEnv('AWS_ENDPOINT_URL', endpoint);
};

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Responder =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...headers });
    response.end(JSON.stringify(body));
  };
const silent: Responder = () => undefined;

/** The origin of a scripted server, as AWS_ENDPOINT_URL. */
const originOf = (server: ScriptedServer) => new URL(server.url).origin;

/** Checks a received request's signature the way AWS does, with aws4fetch's signer. */
const verifiedBy4fetch = async (request: ReceivedRequest, origin: string) => {
  const headers = Object.fromEntries(
    Object.entries(request.headers).filter(
      ([name]) => !['authorization', 'user-agent', 'x-amzn-trace-id', 'connection'].includes(name),
    ),
  ) as Record<string, string>;
  const [, credential = ''] = /Credential=([^,]+)/.exec(String(request.headers.authorization)) ?? [];
  const [accessKeyId, , region, service] = credential.split('/');
  const signer = new AwsV4Signer({
    url: `${origin}${request.path}`,
    method: request.method,
    headers,
    body: request.body,
    accessKeyId: accessKeyId ?? '',
    secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    sessionToken: CREDENTIALS.AWS_SESSION_TOKEN,
    region,
    service,
    datetime: String(request.headers['x-amz-date']),
    allHeaders: true,
  });
  const { headers: signed } = await signer.sign();
  return signed.get('authorization') === request.headers.authorization;
};

const servers: ScriptedServer[] = [];
const serve = async (...script: Responder[]) => {
  const server = await startScriptedServer(script);
  servers.push(server);
  return server;
};

beforeEach(() => {
  vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', undefined);
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', undefined);
  vi.stubEnv('AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER', undefined);
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', undefined);
  vi.stubEnv('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', undefined);
  vi.stubEnv('AWS_MAX_ATTEMPTS', undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('signRequest', () => {
  it.each(VECTORS)('signs the AWS SigV4 test suite request $name', (vector) => {
    const headers: Record<string, string> = { host: 'example.amazonaws.com', ...vector.headers };

    const signed = signRequest({
      method: vector.method,
      headers,
      payloadHash: sha256Hex(vector.body ?? ''),
      credentials: {
        ...SUITE.credentials,
        ...(vector.sessionToken && { sessionToken: vector.sessionToken }),
      },
      region: SUITE.region,
      service: SUITE.service,
      date: SUITE.date,
    });

    expect(signed.signedHeaders).toBe(vector.signedHeaders);
    expect(signed.signature).toBe(vector.signature);
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${vector.signedHeaders}, Signature=${vector.signature}`,
    );
  });
});

describe('the clients, over HTTP', () => {
  it('sends GetSecretValue as AWS JSON 1.1, signed as received (checked with aws4fetch)', async () => {
    const server = await serve(json(200, { Name: 'key', SecretString: 'k', CreatedDate: 1764151200.5 }));
    awsEnv(originOf(server));

    const output = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'key' }));

    const [request] = server.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
        'x-amz-security-token': 'token',
      },
      json: { SecretId: 'key' },
    });
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, /,
    );
    expect(await verifiedBy4fetch(request as ReceivedRequest, originOf(server))).toBe(true);
    expect(output).toMatchObject({
      SecretString: 'k',
      CreatedDate: new Date('2025-11-26T10:00:00.500Z'),
      $metadata: { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 },
    });
  });

  it('sends SQS calls as AWS JSON 1.0 to the queue URL’s host, and checks the MD5 of what it sent', async () => {
    const queue = await serve((request, response) => {
      const { MessageBody } = request.json as { MessageBody: string };
      json(200, { MessageId: 'm-1', MD5OfMessageBody: createHash('md5').update(MessageBody).digest('hex') })(
        request,
        response,
        0,
      );
    });
    const elsewhere = await serve(json(500, {}));
    awsEnv(originOf(elsewhere));
    const QueueUrl = `${originOf(queue)}/123456789012/retry`;

    const output = await new SQSClient({}).send(new SendMessageCommand({ QueueUrl, MessageBody: 'héllo' }));

    expect(elsewhere.requests).toHaveLength(0);
    expect(queue.requests[0]?.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonSQS.SendMessage',
      'x-amzn-query-mode': 'true',
    });
    expect(await verifiedBy4fetch(queue.requests[0] as ReceivedRequest, originOf(queue))).toBe(true);
    expect(output.MessageId).toBe('m-1');
  });

  it('sends DynamoDB calls as AWS JSON 1.0 (DynamoDB_20120810), and names a failed condition as the SDK does', async () => {
    const server = await serve(
      json(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed',
      }),
    );
    awsEnv(originOf(server));
    const input = {
      TableName: 'runs',
      Key: { userPoolId: { S: 'eu-west-1_Qx7Lm2Rt9' } },
      UpdateExpression: 'SET #lease = :lease',
      ConditionExpression: 'attribute_not_exists(#lease)',
      ExpressionAttributeNames: { '#lease': 'lease' },
      ExpressionAttributeValues: { ':lease': { S: 'l-1' } },
    };

    const failed = await new DynamoDBClient({}).send(new UpdateItemCommand(input)).catch((error) => error);

    expect(failed).toMatchObject({
      name: 'ConditionalCheckFailedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.UpdateItem',
      },
      json: input,
    });
    expect(server.requests[0]?.headers.authorization).toMatch(/\/eu-west-1\/dynamodb\/aws4_request, /);
    expect(await verifiedBy4fetch(server.requests[0] as ReceivedRequest, originOf(server))).toBe(true);
  });

  it('refuses an SQS answer whose MD5 is not that of what was sent, as the SDK does', async () => {
    const server = await serve(
      json(200, { Successful: [{ Id: '0', MessageId: 'm-1', MD5OfMessageBody: 'nope' }], Failed: [] }),
    );
    awsEnv(originOf(server));
    const QueueUrl = `${originOf(server)}/123456789012/retry`;

    await expect(
      new SQSClient({}).send(
        new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: '0', MessageBody: 'x' }] }),
      ),
    ).rejects.toThrow('Invalid MD5 checksum on messages: m-1');
  });

  it('gives Cognito timestamps as Dates', async () => {
    const server = await serve(
      json(200, { Users: [{ Username: 'u', UserCreateDate: 1764151200, UserLastModifiedDate: 1764151260 }] }),
      json(200, { UserPool: { Id: 'eu-west-1_x', CreationDate: 1764151200, EstimatedNumberOfUsers: 3 } }),
    );
    awsEnv(originOf(server));
    const client = new CognitoIdentityProviderClient({});

    const { Users } = await client.send(new ListUsersCommand({ UserPoolId: 'eu-west-1_x' }));
    const { UserPool } = await client.send(new DescribeUserPoolCommand({ UserPoolId: 'eu-west-1_x' }));

    expect(server.requests[0]?.headers['x-amz-target']).toBe('AWSCognitoIdentityProviderService.ListUsers');
    expect(Users?.[0]).toMatchObject({
      UserCreateDate: new Date('2025-11-26T10:00:00Z'),
      UserLastModifiedDate: new Date('2025-11-26T10:01:00Z'),
    });
    expect(UserPool).toMatchObject({
      CreationDate: new Date('2025-11-26T10:00:00Z'),
      EstimatedNumberOfUsers: 3,
    });
  });
});

describe('errors', () => {
  it('names an AWS error as the SDK does, with $fault, $metadata and the answer’s fields, and does not retry it', async () => {
    const server = await serve(
      json(
        400,
        { __type: 'com.amazonaws.cognito#UserNotFoundException', message: 'User does not exist.' },
        { 'x-amzn-requestid': 'req-1' },
      ),
    );
    awsEnv(originOf(server));

    const error = await new CognitoIdentityProviderClient({})
      .send(new ListUsersCommand({ UserPoolId: 'eu-west-1_x' }))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'UserNotFoundException',
      message: 'User does not exist.',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 },
      __type: 'com.amazonaws.cognito#UserNotFoundException',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('names an SQS error by its query code (x-amzn-query-error), as the SDK does', async () => {
    const server = await serve(
      json(
        400,
        { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' },
        { 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' },
      ),
    );
    awsEnv(originOf(server));

    const error = await new SQSClient({})
      .send(new SendMessageCommand({ QueueUrl: `${originOf(server)}/1/gone`, MessageBody: 'x' }))
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      name: 'QueueDoesNotExist',
      Code: 'AWS.SimpleQueueService.NonExistentQueue',
      Type: 'Sender',
      $fault: 'client',
    });
  });

  it('keeps the __type @middy/util reads to retry an InvalidSignatureException', async () => {
    const server = await serve(
      json(400, { __type: 'InvalidSignatureException', message: 'Signature expired' }),
    );
    awsEnv(originOf(server));

    const error = await new SecretsManagerClient({ maxAttempts: 1 })
      .send(new GetSecretValueCommand({ SecretId: 'key' }))
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'InvalidSignatureException', __type: 'InvalidSignatureException' });
  });
});

describe('retries, as the SDK’s standard strategy', () => {
  it('retries a 503 and answers with the attempts it took', async () => {
    const server = await serve(json(503, { __type: 'ServiceUnavailable' }), json(200, { SecretString: 'k' }));
    awsEnv(originOf(server));

    const output = await new SecretsManagerClient({ maxAttempts: 2 }).send(
      new GetSecretValueCommand({ SecretId: 'key' }),
    );

    expect(output.$metadata.attempts).toBe(2);
    expect(server.requests.map((request) => request.headers['amz-sdk-request'])).toEqual([
      'attempt=1; max=2',
      'attempt=2; max=2',
    ]);
    expect(new Set(server.requests.map((request) => request.headers['amz-sdk-invocation-id'])).size).toBe(1);
  });

  it('retries a throttle (TooManyRequestsException) and gives up after maxAttempts with it', async () => {
    const server = await serve(json(400, { __type: 'TooManyRequestsException', message: 'Rate exceeded' }));
    awsEnv(originOf(server));

    const error = await new CognitoIdentityProviderClient({ maxAttempts: 2 })
      .send(new ListUsersCommand({ UserPoolId: 'eu-west-1_x' }))
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'TooManyRequestsException', $metadata: { attempts: 2 } });
    expect(server.requests).toHaveLength(2);
  });

  it('retries an answer that is not JSON (a 502 from a proxy) and says what it was', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html>Bad Gateway</html>');
    });
    awsEnv(originOf(server));

    const error = await new SecretsManagerClient({ maxAttempts: 2 })
      .send(new GetSecretValueCommand({ SecretId: 'key' }))
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'SyntaxError', $metadata: { httpStatusCode: 502, attempts: 2 } });
  });

  it('takes its attempts from AWS_MAX_ATTEMPTS when the config has none', async () => {
    const server = await serve(json(500, { __type: 'InternalFailure' }));
    awsEnv(originOf(server), { AWS_MAX_ATTEMPTS: '1' });

    await expect(
      new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'key' })),
    ).rejects.toMatchObject({ name: 'InternalFailure', $fault: 'server' });
    expect(server.requests).toHaveLength(1);
  });
});

describe('timeouts and aborts', () => {
  const requestHandler = (requestTimeout: number, connectionTimeout = 1000) => ({
    connectionTimeout,
    requestTimeout,
    throwOnRequestTimeout: true as const,
  });

  it('gives up on a service that never answers after requestTimeout, each attempt (TimeoutError)', async () => {
    const server = await serve(silent);
    awsEnv(originOf(server));
    const started = performance.now();

    const error = await new SecretsManagerClient({ maxAttempts: 2, requestHandler: requestHandler(150) })
      .send(new GetSecretValueCommand({ SecretId: 'key' }))
      .catch((caught: unknown) => caught);

    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT', $metadata: { attempts: 2 } });
    expect(server.requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1000);
  });

  describe('a host that never accepts the connection', () => {
    let listener: ChildProcess;
    let fillers: Socket[];
    let origin: string;

    // A listener with a backlog of one in a process that never accepts: once two connections
    // wait in its queue, the kernel drops the next ones' SYN, and they never connect.
    beforeEach(async () => {
      listener = spawn(process.execPath, [
        '-e',
        `const server = require('node:net').createServer();
         server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
           console.log(server.address().port);
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000);
         });`,
      ]);
      const [data] = (await once(listener.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
      const port = Number(String(data).trim());
      origin = `http://127.0.0.1:${port}`;
      fillers = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
      await Promise.all(fillers.map((socket) => once(socket, 'connect')));
    });
    afterEach(() => {
      for (const socket of fillers) socket.destroy();
      listener.kill();
    });

    it('gives up after connectionTimeout, not requestTimeout (TimeoutError)', async () => {
      awsEnv(origin);
      const started = performance.now();

      const error = await new SecretsManagerClient({
        maxAttempts: 1,
        requestHandler: requestHandler(5000, 200),
      })
        .send(new GetSecretValueCommand({ SecretId: 'key' }))
        .catch((caught: unknown) => caught);

      expect(error).toMatchObject({ name: 'TimeoutError', message: expect.stringContaining('connection') });
      expect(performance.now() - started).toBeLessThan(1000);
    });
  });

  it('stops at once when the abortSignal fires, and does not retry (AbortError)', async () => {
    const server = await serve(silent);
    awsEnv(originOf(server));
    const started = performance.now();

    const error = await new SQSClient({ maxAttempts: 3, requestHandler: requestHandler(5000) })
      .send(new SendMessageCommand({ QueueUrl: `${originOf(server)}/1/q`, MessageBody: 'x' }), {
        abortSignal: AbortSignal.timeout(100),
      })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(server.requests).toHaveLength(1);
  });

  it('does not send when the signal has fired already', async () => {
    const server = await serve(json(200, {}));
    awsEnv(originOf(server));
    const controller = new AbortController();
    controller.abort();

    await expect(
      new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'key' }), {
        abortSignal: controller.signal,
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('the SDK’s environment', () => {
  const SECRETS_MANAGER = {
    serviceId: 'Secrets Manager',
    endpointPrefix: 'secretsmanager',
  } as AwsJsonService;

  it('sends to AWS_ENDPOINT_URL_<SERVICE> before AWS_ENDPOINT_URL', async () => {
    const specific = await serve(json(200, { SecretString: 'k' }));
    const general = await serve(json(500, {}));
    awsEnv(originOf(general), { AWS_ENDPOINT_URL_SECRETS_MANAGER: originOf(specific) });

    await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'key' }));

    expect(specific.requests).toHaveLength(1);
    expect(general.requests).toHaveLength(0);
  });

  it('resolves the endpoint of the region’s partition, unless told otherwise', async () => {
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' };

    expect(String(await resolveEndpoint(SECRETS_MANAGER, {}, 'eu-west-1', {}))).toBe(
      'https://secretsmanager.eu-west-1.amazonaws.com/',
    );
    expect(String(await resolveEndpoint(SECRETS_MANAGER, {}, 'cn-north-1', {}))).toBe(
      'https://secretsmanager.cn-north-1.amazonaws.com.cn/',
    );
    expect(String(await resolveEndpoint(SECRETS_MANAGER, {}, 'eu-west-1', env))).toBe(
      'https://secretsmanager.eu-west-1.amazonaws.com/',
    );
    expect(
      String(await resolveEndpoint(SECRETS_MANAGER, { endpoint: 'http://localhost:4566' }, 'eu-west-1', env)),
    ).toBe('http://localhost:4566/');
  });

  it('says what to set rather than send to a non-FIPS endpoint when FIPS is asked for', async () => {
    await expect(
      resolveEndpoint(SECRETS_MANAGER, {}, 'us-east-1', { AWS_USE_FIPS_ENDPOINT: 'true' }),
    ).rejects.toThrow(/AWS_ENDPOINT_URL_SECRETS_MANAGER/);
  });

  it('signs with the region and credentials of the environment, and fails as the SDK does without them', async () => {
    const server = await serve(json(200, {}));
    awsEnv(originOf(server), { AWS_REGION: 'ap-southeast-2' });
    await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'key' }));
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);

    const missing = await new SecretsManagerClient({})
      .send(new GetSecretValueCommand({ SecretId: 'key' }))
      .catch((caught: unknown) => caught);

    expect(server.requests[0]?.headers.authorization).toContain(
      '/ap-southeast-2/secretsmanager/aws4_request',
    );
    expect(missing).toMatchObject({ name: 'CredentialsProviderError' });
    expect(server.requests).toHaveLength(1);
  });
});

describe('the middleware stack', () => {
  it('takes the Powertools user agent and a build-step middleware, as the tracer adds them', async () => {
    const server = await serve(json(200, {}));
    awsEnv(originOf(server));
    const client = new SecretsManagerClient({});
    const seen: unknown[] = [];
    addUserAgentMiddleware(client, 'tracer');
    client.middlewareStack.use({
      applyToStack: (stack) =>
        stack.add(
          (next, context) => (args) => {
            seen.push(context);
            args.request.headers['X-Amzn-Trace-Id'] = 'Root=1-00000000-000000000000000000000000';
            return next(args);
          },
          { name: 'XRaySDKInstrumentation', step: 'build' },
        ),
    });

    await client.send(new GetSecretValueCommand({ SecretId: 'key' }));

    expect(client.middlewareStack.identify()).toEqual([
      'getUserAgentMiddleware - build',
      'addPowertoolsToUserAgent - after getUserAgentMiddleware',
      'recursionDetectionMiddleware - build',
      'XRaySDKInstrumentation - build',
    ]);
    expect(seen).toEqual([{ clientName: 'SecretsManagerClient', commandName: 'GetSecretValueCommand' }]);
    expect(server.requests[0]?.headers['user-agent']).toMatch(/ PT\/tracer\/\S+ PTEnv\//);
    expect(server.requests[0]?.headers['x-amzn-trace-id']).toBe('Root=1-00000000-000000000000000000000000');
    expect(await verifiedBy4fetch(server.requests[0] as ReceivedRequest, originOf(server))).toBe(true);
  });

  it('carries the invocation’s trace header in Lambda when nothing traces the call (recursion detection)', async () => {
    const server = await serve(json(200, {}));
    awsEnv(originOf(server), {
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    });

    await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'key' }));

    expect(server.requests[0]?.headers['x-amzn-trace-id']).toBe(
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    );
  });
});
