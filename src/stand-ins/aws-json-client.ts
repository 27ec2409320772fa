// The AWS client the Lambda zips bundle in place of the AWS SDK's Secrets Manager, SQS, Cognito
// user pools and DynamoDB clients (./aws-sdk/*.ts give each the SDK's names). All four speak an
// AWS JSON protocol: a signed POST of the input as JSON, the output or an error as JSON. The
// SDK clients cost the functions ~200 KiB of bundle and ~20 ms of every cold start for that
// (bench/). Signed with node:crypto: aws4fetch signs with WebCrypto, whose first use costs ~2 ms.
//
// What the code branches on behaves as the SDK 3.1164 it stands in for does (the versions it was
// verified against: ./verified.ts; tests/stand-ins/aws-sdk.differential.test.ts compares the two):
// - `send(command, { abortSignal, requestTimeout })`; the config's `region`, `credentials`,
//   `endpoint`, `maxAttempts` and `requestHandler` ({ connectionTimeout, requestTimeout,
//   throwOnRequestTimeout }); else the environment: AWS_REGION, the credentials Lambda sets
//   (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), AWS_ENDPOINT_URL_<SERVICE> and
//   AWS_ENDPOINT_URL (unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), AWS_MAX_ATTEMPTS.
// - node:http(s) with a keep-alive agent, as the SDK's Node handler (fetch measured slower in a
//   cold start, and has no connection timeout), and its timeouts: connectionTimeout until the
//   socket connects, requestTimeout from the start (here: until the answer is read, where the SDK
//   stops at its headers; AWS JSON answers are small), both a `TimeoutError`.
// - The standard retry strategy of this SDK version: throttles and transient errors (timeouts,
//   connection resets, 500/502/503/504) retried up to maxAttempts with its backoff and retry
//   quota; an abort is never retried; clock skew corrected from the answers' Date header.
// - Errors named as the SDK names them (`UserNotFoundException`, `QueueDoesNotExist`…), with
//   `$fault`, `$metadata` (status, request id, attempts, totalRetryDelay) and the answer's
//   fields (`__type`, which @middy/util reads, `Code` for SQS…); outputs with `$metadata`,
//   timestamps as Dates and blobs as bytes.
// - A middleware stack with what the Powertools tracer (captureAWSv3Client: the X-Ray
//   subsegment of each call, its user agent) and @middy/util use: add, addRelativeTo, use,
//   remove, identify; middlewares get `{ clientName, commandName }` and `{ input, request }`.
// Not here: FIPS and dual-stack endpoints (AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT:
// an error says to set AWS_ENDPOINT_URL_<SERVICE>), the adaptive retry mode (standard is used),
// credentials other than the config's and the environment's (Lambda needs no other).

import { createHash, createHmac, randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isRecord } from '../guards.js';

// ---------------------------------------------------------------------------------------------
// Types: the part of the SDK's configuration, commands and middleware stack the functions use

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

type Provider<T> = T | (() => T | Promise<T>);

/** An endpoint as the SDK takes it: a URL, `{ url }`, or its parts. */
export type EndpointOption =
  | string
  | URL
  | { url: string | URL }
  | { protocol?: string; hostname: string; port?: number | string; path?: string };

/** The SDK client configuration the client reads; the rest is ignored. */
export interface AwsJsonClientConfig {
  region?: Provider<string>;
  credentials?: Provider<AwsCredentials>;
  endpoint?: Provider<EndpointOption>;
  maxAttempts?: number;
  requestHandler?: { connectionTimeout?: number; requestTimeout?: number; throwOnRequestTimeout?: boolean };
  useFipsEndpoint?: boolean;
  useDualstackEndpoint?: boolean;
  /** SQS: false skips the MD5 check of what was sent. */
  md5?: boolean;
}

/** What tells one AWS JSON service from another (each ./aws-sdk/ client has its own). */
export interface AwsJsonService {
  clientName: string;
  serviceId: string;
  endpointPrefix: string;
  signingName: string;
  target: string;
  jsonVersion: '1.0' | '1.1';
  queryCompatible?: boolean;
  errorNames?: Record<string, string>;
  queueUrlEndpoint?: boolean;
}

export interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string | undefined;
  extendedRequestId?: string | undefined;
  cfId?: string | undefined;
  attempts?: number;
  totalRetryDelay?: number;
  clockSkewCorrected?: boolean;
}

export interface SendOptions {
  abortSignal?: AbortSignal | undefined;
  requestTimeout?: number | undefined;
}

/** A command's operation, and what its output converts (paths such as `Users[].UserCreateDate`). */
export interface CommandClass<Input extends object, Output extends object> {
  new (input: Input): Command<Input, Output>;
  readonly operation: string;
  readonly dates: readonly string[];
  readonly blobs: readonly string[];
  /** Checks the output against the input (SQS's MD5s); throws when they disagree. */
  readonly check?: ((input: Input, output: Output) => void) | undefined;
}

export interface Command<Input extends object, Output extends object> {
  readonly input: Input;
  /** Its class: the client reads the operation there, as the SDK's commands carry theirs. */
  readonly constructor: CommandClass<Input, Output>;
}

/** A request as the middlewares see it: headers by name, the body as JSON text. */
export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** An answer, read whole. */
export interface HttpAnswer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An output before the client gives it the command's type: JSON, and its `$metadata`. */
type RawOutput = Record<string, unknown> & { $metadata: ResponseMetadata };

export interface HandlerArgs {
  input: object;
  request: HttpRequest;
}

export interface HandlerResult {
  response: HttpAnswer;
  output: RawOutput;
}

export type Handler = (args: HandlerArgs) => Promise<HandlerResult>;

export interface HandlerContext {
  clientName: string;
  commandName: string;
}

export type Middleware = (next: Handler, context: HandlerContext) => Handler;

/** The SDK's steps, outermost first. */
type Step = 'initialize' | 'serialize' | 'build' | 'finalizeRequest' | 'deserialize';

/** An error as the SDK throws it: an Error with `$fault`, `$metadata`, the answer's fields. */
export interface AwsError extends Error {
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean } | undefined;
  $metadata?: ResponseMetadata;
  $response?: HttpAnswer;
  code?: string;
}

// ---------------------------------------------------------------------------------------------
// Signature Version 4

const UNSIGNABLE_HEADERS = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
export const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');

// The signing key of a day, region and service: derived once a day, as the SDK's signer caches it.
const signingKeys = new Map<string, Buffer>();
const signingKey = (secretAccessKey: string, day: string, region: string, service: string) => {
  const cacheKey = `${day}\u0000${region}\u0000${service}\u0000${secretAccessKey}`;
  let key = signingKeys.get(cacheKey);
  if (key === undefined) {
    key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
    if (signingKeys.size > 50) signingKeys.clear();
    signingKeys.set(cacheKey, key);
  }
  return key;
};

const encodeRfc3986 = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

/** The canonical URI of a path: escaped once more, as the SDK's signer does for every service but S3. */
const canonicalPath = (path: string) => path.split('/').map(encodeRfc3986).join('/');

const canonicalQuery = (query: [string, string][] = []) =>
  query
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');

/** 20150830T123600Z (sliced, not a regular expression: this runs in every cold start). */
const amzDateOf = (date: Date) => {
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
};

export interface SignableRequest {
  method: string;
  path?: string;
  query?: [string, string][];
  headers: Record<string, string>;
  payloadHash: string;
  credentials: AwsCredentials;
  region: string;
  service: string;
  date: Date;
}

/**
 * Signs a request with AWS Signature Version 4, in its headers: adds `x-amz-date`,
 * `x-amz-security-token` (with a session token) and `authorization` to `headers` (names in lower
 * case; `host` among them). Signs every header but those the SDK leaves unsigned (user-agent,
 * x-amzn-trace-id, …). Returns what it signed, for tests.
 */
export const signRequest = ({
  method,
  path = '/',
  query,
  headers,
  payloadHash,
  credentials,
  region,
  service,
  date,
}: SignableRequest) => {
  const amzDate = amzDateOf(date);
  const day = amzDate.slice(0, 8);
  headers['x-amz-date'] = amzDate;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  // Names in lower case for the signature only: the headers keep theirs (the X-Ray SDK's HTTP
  // capture overwrites X-Amzn-Trace-Id by that spelling).
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!UNSIGNABLE_HEADERS.has(lower)) values.set(lower, String(value).trim().replace(/\s+/g, ' '));
  }
  const names = [...values.keys()].sort();
  const canonicalHeaders = names.map((name) => `${name}:${values.get(name)}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = hmac(
    signingKey(credentials.secretAccessKey, day, region, service),
    stringToSign,
  ).toString('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { canonicalRequest, stringToSign, signedHeaders, signature };
};

// ---------------------------------------------------------------------------------------------
// Configuration, as the SDK reads it

type Env = Record<string, string | undefined>;

const isTrue = (value: string | undefined) => value?.toLowerCase() === 'true';

const isProvider = <T>(option: Provider<T>): option is () => T | Promise<T> => typeof option === 'function';

const resolveOption = async <T>(option: Provider<T>): Promise<T> => (isProvider(option) ? option() : option);

// Each partition's DNS suffix (the SDK's partitions.json); every other region is in `aws`.
const DNS_SUFFIXES: [RegExp, string][] = [
  [/^cn-\w+-\d+$/, 'amazonaws.com.cn'],
  [/^eusc-de-\w+-\d+$/, 'amazonaws.eu'],
  [/^us-iso-\w+-\d+$/, 'c2s.ic.gov'],
  [/^us-isob-\w+-\d+$/, 'sc2s.sgov.gov'],
  [/^eu-isoe-\w+-\d+$/, 'cloud.adc-e.uk'],
  [/^us-isof-\w+-\d+$/, 'csp.hci.ic.gov'],
];

const configError = (message: string) => Object.assign(new Error(message), { name: 'ConfigurationError' });

/**
 * Where a service's requests go: the config's endpoint, else AWS_ENDPOINT_URL_<SERVICE_ID>, else
 * AWS_ENDPOINT_URL (neither with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else the region's
 * endpoint in its partition.
 */
export const resolveEndpoint = async (
  service: Pick<AwsJsonService, 'serviceId' | 'endpointPrefix'>,
  config: AwsJsonClientConfig,
  region: string,
  env: Env = process.env,
): Promise<URL> => {
  const configured = config.endpoint === undefined ? undefined : await resolveOption(config.endpoint);
  if (configured !== undefined) {
    if (typeof configured === 'string' || configured instanceof URL) return new URL(configured);
    if ('url' in configured) return new URL(configured.url);
    const { protocol = 'https:', hostname, port, path = '/' } = configured;
    return new URL(`${protocol}//${hostname}${port ? `:${port}` : ''}${path}`);
  }
  if (!isTrue(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)) {
    const fromEnv =
      env[`AWS_ENDPOINT_URL_${service.serviceId.toUpperCase().replace(/ /g, '_')}`] || env.AWS_ENDPOINT_URL;
    if (fromEnv) return new URL(fromEnv);
  }
  for (const variable of ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT'] as const) {
    if (
      isTrue(env[variable]) ||
      config[variable === 'AWS_USE_FIPS_ENDPOINT' ? 'useFipsEndpoint' : 'useDualstackEndpoint']
    ) {
      throw configError(
        `${variable} is not supported by the AWS client of the Lambda zips: set AWS_ENDPOINT_URL_${service.serviceId.toUpperCase().replace(/ /g, '_')} to the endpoint instead`,
      );
    }
  }
  const suffix = DNS_SUFFIXES.find(([pattern]) => pattern.test(region))?.[1] ?? 'amazonaws.com';
  return new URL(`https://${service.endpointPrefix}.${region}.${suffix}`);
};

const resolveRegion = async (config: AwsJsonClientConfig, env: Env = process.env) => {
  const region =
    (config.region === undefined ? undefined : await resolveOption(config.region)) ?? env.AWS_REGION;
  if (!region) throw configError('Region is missing');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(region)) throw configError(`Invalid region: ${region}`);
  return region;
};

const resolveCredentials = async (config: AwsJsonClientConfig, env: Env = process.env) => {
  if (config.credentials !== undefined) return resolveOption(config.credentials);
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!accessKeyId || !secretAccessKey) {
    throw Object.assign(new Error('Unable to find environment variable credentials.'), {
      name: 'CredentialsProviderError',
    });
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
  };
};

const resolveMaxAttempts = (config: AwsJsonClientConfig, env: Env = process.env) => {
  const attempts = config.maxAttempts ?? (env.AWS_MAX_ATTEMPTS ? Number(env.AWS_MAX_ATTEMPTS) : 3);
  if (!Number.isInteger(attempts) || attempts < 1) throw configError(`Invalid maxAttempts: ${attempts}`);
  return attempts;
};

// ---------------------------------------------------------------------------------------------
// The middleware stack: what the X-Ray SDK, the Powertools and middy use of the SDK's

const STEPS: Step[] = ['initialize', 'serialize', 'build', 'finalizeRequest', 'deserialize'];

interface StackEntry {
  middleware: Middleware;
  name?: string | undefined;
  step?: Step;
  relation?: 'before' | 'after';
  toMiddleware?: string;
}

const hasStep = (entry: StackEntry): entry is StackEntry & { step: Step } => entry.step !== undefined;

class MiddlewareStack {
  #entries: StackEntry[] = [];

  add(middleware: Middleware, { name, step = 'initialize' }: { name?: string; step?: Step } = {}): void {
    if (name !== undefined) this.remove(name);
    this.#entries.push({ middleware, name, step });
  }

  addRelativeTo(
    middleware: Middleware,
    { name, relation, toMiddleware }: { name?: string; relation: 'before' | 'after'; toMiddleware: string },
  ): void {
    if (name !== undefined) this.remove(name);
    this.#entries.push({ middleware, name, relation, toMiddleware });
  }

  use(plugin: { applyToStack(stack: MiddlewareStack): void }): void {
    plugin.applyToStack(this);
  }

  remove(toRemove: string | Middleware): boolean {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((entry) => entry.name !== toRemove && entry.middleware !== toRemove);
    return this.#entries.length < before;
  }

  /** Outermost first: by step, then in the order added; a relative entry beside its target. */
  #ordered(): StackEntry[] {
    const ordered: StackEntry[] = this.#entries
      .filter(hasStep)
      .sort((a, b) => STEPS.indexOf(a.step) - STEPS.indexOf(b.step));
    for (const entry of this.#entries.filter((candidate) => candidate.step === undefined)) {
      const at = ordered.findIndex((target) => target.name === entry.toMiddleware);
      if (at < 0)
        throw new Error(`${entry.toMiddleware} is not found when adding ${entry.name ?? 'anonymous'}`);
      ordered.splice(entry.relation === 'before' ? at : at + 1, 0, entry);
    }
    return ordered;
  }

  identify(): string[] {
    return this.#ordered().map(
      (entry) => `${entry.name ?? 'anonymous'} - ${entry.step ?? `${entry.relation} ${entry.toMiddleware}`}`,
    );
  }

  resolve(handler: Handler, context: HandlerContext): Handler {
    return this.#ordered().reduceRight<Handler>((next, entry) => entry.middleware(next, context), handler);
  }
}

export type { MiddlewareStack };

// ---------------------------------------------------------------------------------------------
// One attempt over HTTP, with the SDK's Node handler's timeouts

// Error codes the SDK's handler renames TimeoutError (and its retry strategy retries).
const TIMEOUT_CODES: readonly unknown[] = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'];
const NETWORK_CODES: readonly unknown[] = ['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'];

const abortErrorOf = (signal: AbortSignal | undefined) => {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error)
    return Object.assign(new Error('Request aborted'), { name: 'AbortError', cause: reason });
  return Object.assign(new Error(reason ? String(reason) : 'Request aborted'), { name: 'AbortError' });
};

const timeoutError = (message: string, code?: string) =>
  Object.assign(new Error(message), { name: 'TimeoutError', ...(code && { code }) });

interface Transport {
  agent?: HttpAgent;
  connectionTimeout?: number | undefined;
  requestTimeout?: number | undefined;
  throwOnRequestTimeout?: boolean | undefined;
  abortSignal?: AbortSignal | undefined;
}

const exchange = (
  url: URL,
  { method, headers, body }: { method: string; headers: Record<string, string>; body: string },
  { agent, connectionTimeout, requestTimeout, throwOnRequestTimeout, abortSignal }: Transport,
) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    if (abortSignal?.aborted) {
      reject(abortErrorOf(abortSignal));
      return;
    }
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    const settle = <T>(callback: (value: T) => void, value: T) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      abortSignal?.removeEventListener('abort', onAbort);
      callback(value);
    };
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: url.pathname + url.search,
      method,
      headers,
      agent,
    });
    const fail = (error: Error) => {
      request.destroy();
      settle(reject, error);
    };
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => settle(reject, error));
      response.on('end', () =>
        settle(resolve, {
          statusCode: response.statusCode ?? -1,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (TIMEOUT_CODES.includes(error.code)) error.name = 'TimeoutError';
      settle(reject, error);
    });
    const onAbort = () => fail(abortErrorOf(abortSignal));
    abortSignal?.addEventListener('abort', onAbort, { once: true });
    if (connectionTimeout) {
      request.on('socket', (socket) => {
        if (settled || !socket.connecting) return;
        const timer = setTimeout(
          () =>
            fail(
              timeoutError(
                `The request socket did not establish a connection with the server within the configured timeout of ${connectionTimeout} ms.`,
              ),
            ),
          connectionTimeout,
        );
        timers.push(timer);
        socket.once('connect', () => clearTimeout(timer));
      });
    }
    if (requestTimeout) {
      timers.push(
        setTimeout(() => {
          const message = `A request has exceeded the configured ${requestTimeout} ms requestTimeout.`;
          if (throwOnRequestTimeout) fail(timeoutError(message, 'ETIMEDOUT'));
          else
            console.warn(
              `${message} Init client requestHandler with throwOnRequestTimeout=true to turn this into an error.`,
            );
        }, requestTimeout),
      );
    }
    request.end(body);
  });

// ---------------------------------------------------------------------------------------------
// Answers and errors

/** A header's value (Node gives arrays only for set-cookie, which AWS JSON answers do not send). */
const headerOf = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

const metadataOf = ({ statusCode, headers }: HttpAnswer): ResponseMetadata => ({
  httpStatusCode: statusCode,
  requestId:
    headerOf(headers, 'x-amzn-requestid') ??
    headerOf(headers, 'x-amzn-request-id') ??
    headerOf(headers, 'x-amz-request-id'),
  extendedRequestId: headerOf(headers, 'x-amz-id-2'),
  cfId: headerOf(headers, 'x-amz-cf-id'),
});

/** The error the SDK throws for an AWS error answer: its own fields, then the answer's. */
class ServiceException extends Error implements AwsError {
  [field: string]: unknown;
  declare $fault: 'client' | 'server';
  declare $retryable: undefined;
  declare $metadata: ResponseMetadata;
}

const sanitizeErrorCode = (raw: unknown) => {
  let code = String(raw);
  if (code.includes(',')) code = code.split(',')[0] ?? code;
  if (code.includes(':')) code = code.split(':')[0] ?? code;
  if (code.includes('#')) code = code.split('#')[1] ?? code;
  return code;
};

const findKey = (object: Record<string, unknown>, key: string) =>
  Object.keys(object).find((candidate) => candidate.toLowerCase() === key);

const errorCodeOf = (response: HttpAnswer, data: Record<string, unknown>, queryCompatible?: boolean) => {
  for (const location of queryCompatible ? ['code', 'header', 'type'] : ['type', 'code', 'header']) {
    if (location === 'header' && response.headers['x-amzn-errortype'] !== undefined)
      return sanitizeErrorCode(response.headers['x-amzn-errortype']);
    const codeKey = location === 'code' && findKey(data, 'code');
    if (codeKey && data[codeKey] !== undefined) return sanitizeErrorCode(data[codeKey]);
    if (location === 'type' && data.__type !== undefined) return sanitizeErrorCode(data.__type);
  }
  return 'Unknown';
};

/** What a body that is not JSON becomes: the SDK's deserialization error, with the status. */
const parseJson = (response: HttpAnswer): unknown => {
  if (response.body.length === 0) return {};
  try {
    return JSON.parse(response.body);
  } catch (caught) {
    const error: AwsError = caught instanceof Error ? caught : new Error(String(caught));
    error.message += '\n  Deserialization error: the answer was not JSON.';
    error.$metadata = metadataOf(response);
    Object.defineProperty(error, '$response', { value: response, enumerable: false });
    throw error;
  }
};

/** The answer as a JSON object: one that is not an object (`[]`, `null`) has no fields. */
const parseJsonObject = (response: HttpAnswer): Record<string, unknown> => {
  const parsed = parseJson(response);
  return isRecord(parsed) ? parsed : {};
};

const errorOf = (service: AwsJsonService, response: HttpAnswer) => {
  const data = parseJsonObject(response);
  const queryError = service.queryCompatible ? headerOf(response.headers, 'x-amzn-query-error') : undefined;
  if (queryError !== undefined) {
    const [Code, Type] = queryError.split(';');
    const details: Record<string, unknown> = { Code, Type };
    for (const [key, value] of Object.entries(data))
      if (key !== '__type') details[key === 'message' ? 'Message' : key] = value;
    Object.assign(data, { Code, Type, Error: details });
  }
  const code = errorCodeOf(response, data, service.queryCompatible);
  const message = String(data.message ?? data.Message ?? 'UnknownError');
  // Shaped as the SDK's: these own, enumerable fields first, then the answer's.
  const error = Object.assign(new ServiceException(), {
    $fault: response.statusCode < 500 ? ('client' as const) : ('server' as const),
    $retryable: undefined,
    $metadata: metadataOf(response),
    name: service.errorNames?.[code] ?? code,
    message,
  });
  Object.defineProperty(error, '$response', { value: response, enumerable: false });
  for (const [key, value] of Object.entries(data)) {
    if (
      value !== undefined &&
      key !== 'message' &&
      key !== 'Message' &&
      (error[key] === undefined || error[key] === '')
    )
      error[key] = value;
  }
  if (service.queryCompatible) {
    // As the SDK's query-compatible errors: an `Error` with the query code, type and message,
    // undefined when the answer had no x-amzn-query-error (@aws-sdk/core, decorateServiceException).
    const details = isRecord(error.Error) ? error.Error : {};
    error.Error = Object.assign(details, {
      Type: details.Type,
      Code: details.Code,
      Message: details.message ?? details.Message ?? data.Message,
    });
    if (error.$metadata.requestId) error.RequestId = error.$metadata.requestId;
  }
  return error;
};

/** Input as the JSON protocols serialize it: timestamps in epoch seconds, blobs in base64. */
const serialize = (input: object | undefined) =>
  JSON.stringify(input ?? {}, function replacer(this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (raw instanceof Date) return raw.getTime() / 1000;
    if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
    return value;
  });

/** Applies `convert` at each path of `value` (`Users[].UserCreateDate`, `UserPool.CreationDate`). */
const convertAt = (value: unknown, path: string, convert: (raw: unknown) => unknown): void => {
  const [head, ...rest] = path.split('.');
  if (!isRecord(value) || head === undefined) return;
  const each = head.endsWith('[]');
  const key = each ? head.slice(0, -2) : head;
  const member = value[key];
  if (member === undefined || member === null) return;
  if (rest.length === 0 && !each) value[key] = convert(member);
  else if (each && Array.isArray(member)) {
    for (const item of member) if (rest.length > 0) convertAt(item, rest.join('.'), convert);
  } else convertAt(member, rest.join('.'), convert);
};

const toDate = (value: unknown) =>
  typeof value === 'number' ? new Date(Math.round(value * 1000)) : new Date(String(value));
const toBytes = (value: unknown) => new Uint8Array(Buffer.from(String(value), 'base64'));

// ---------------------------------------------------------------------------------------------
// Retries: the standard strategy of the SDK version the zips stand in for

const THROTTLING_CODES = [
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
];
const TRANSIENT_CODES: readonly unknown[] = ['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'];
const TRANSIENT_STATUSES: readonly unknown[] = [500, 502, 503, 504];
const RETRY = {
  delay: 50,
  throttlingDelay: 1000,
  maxDelay: 20_000,
  cost: 14,
  throttlingCost: 5,
  tokens: 500,
};

const isThrottle = (error: AwsError) =>
  error.$metadata?.httpStatusCode === 429 ||
  THROTTLING_CODES.includes(error.name) ||
  error.$retryable?.throttling === true;

const isTransient = (error: unknown, depth = 0): boolean => {
  if (!isRecord(error)) return false;
  const { name, message, code, cause, $retryable, $metadata } = error;
  return (
    name !== 'AbortError' &&
    ($retryable !== undefined ||
      (isRecord($metadata) && $metadata.clockSkewCorrected === true) ||
      (name === 'InvalidSignatureException' &&
        typeof message === 'string' &&
        message.includes('Signature expired')) ||
      TRANSIENT_CODES.includes(name) ||
      TIMEOUT_CODES.includes(code) ||
      NETWORK_CODES.includes(code) ||
      TRANSIENT_STATUSES.includes(isRecord($metadata) ? $metadata.httpStatusCode : undefined) ||
      (cause !== undefined && depth <= 10 && isTransient(cause, depth + 1)))
  );
};

/** How long the answer asks to wait: Retry-After (seconds or a date) or x-amz-retry-after (ms). */
const retryAfterOf = (error: AwsError) => {
  const headers = error.$response?.headers;
  if (!headers) return undefined;
  const amzRetryAfter = headerOf(headers, 'x-amz-retry-after');
  if (amzRetryAfter !== undefined) {
    const ms = Number(amzRetryAfter);
    return Number.isNaN(ms) ? undefined : Date.now() + ms;
  }
  const value = headerOf(headers, 'retry-after');
  if (value === undefined) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isNaN(seconds) ? undefined : Date.now() + seconds * 1000;
};

const wait = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortErrorOf(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortErrorOf(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

// ---------------------------------------------------------------------------------------------
// The client

const USER_AGENT = `cognito-user-sync-aws-json-client/1 lang/js md/nodejs#${process.versions.node} os/${process.platform}${
  process.env.AWS_EXECUTION_ENV ? ` exec-env/${process.env.AWS_EXECUTION_ENV}` : ''
}`;

/**
 * A command of an operation: `new GetSecretValueCommand({ SecretId })`, typed with the SDK's own
 * input and output. `dates` and `blobs` are the output's timestamp and blob members (paths),
 * converted as the SDK converts them.
 */
export const defineCommand = <Input extends object, Output extends object>(
  operation: string,
  {
    dates = [],
    blobs = [],
    check,
  }: {
    dates?: readonly string[];
    blobs?: readonly string[];
    check?: (input: Input, output: Output) => void;
  } = {},
): CommandClass<Input, Output> => {
  const Command = class {
    // biome-ignore lint/complexity/useLiteralKeys: a class field named constructor is written computed
    declare readonly ['constructor']: CommandClass<Input, Output>;
    readonly input: Input;
    constructor(input: Input) {
      this.input = input ?? {};
    }
  };
  return Object.assign(Command, { operation, dates, blobs, check });
};

export class AwsJsonClient {
  readonly #service: AwsJsonService;
  readonly #config: AwsJsonClientConfig;
  #maxAttempts: number | undefined;
  #agents: Record<string, HttpAgent> = {};
  #retryTokens = RETRY.tokens;
  #clockOffset = 0;
  readonly middlewareStack: MiddlewareStack;
  /** The SDK's resolved config exposes providers; the X-Ray SDK awaits `config.region()`. */
  readonly config: AwsJsonClientConfig & { region: () => Promise<string>; serviceId: string };

  constructor(service: AwsJsonService, config: AwsJsonClientConfig = {}) {
    this.#service = service;
    this.#config = config;
    this.middlewareStack = new MiddlewareStack();
    this.middlewareStack.add(
      (next) => (args) => {
        args.request.headers['user-agent'] = USER_AGENT;
        return next(args);
      },
      { name: 'getUserAgentMiddleware', step: 'build' },
    );
    // The SDK's recursion detection: in Lambda, the invocation's trace header goes with every call
    // (Lambda stops Lambda → SQS → Lambda loops by it); the X-Ray SDK's, when tracing, wins.
    this.middlewareStack.add(
      (next) => (args) => {
        const { headers } = args.request;
        const { AWS_LAMBDA_FUNCTION_NAME: functionName, _X_AMZN_TRACE_ID: traceId } = process.env;
        const present = Object.keys(headers).some((name) => name.toLowerCase() === 'x-amzn-trace-id');
        if (!present && functionName && traceId) headers['X-Amzn-Trace-Id'] = traceId;
        return next(args);
      },
      { name: 'recursionDetectionMiddleware', step: 'build' },
    );
    this.config = { ...config, region: () => resolveRegion(config), serviceId: service.serviceId };
  }

  async send<Input extends object, Output extends object>(
    command: Command<Input, Output>,
    options: SendOptions = {},
  ): Promise<Output> {
    const Command = command.constructor;
    const service = this.#service;
    const region = await resolveRegion(this.#config);
    let url = await resolveEndpoint(service, this.#config, region);
    // The SQS client sends to the queue's own host, unless given an endpoint (useQueueUrlAsEndpoint).
    const queueUrl: unknown = 'QueueUrl' in command.input ? command.input.QueueUrl : undefined;
    if (service.queueUrlEndpoint && this.#config.endpoint === undefined && typeof queueUrl === 'string') {
      try {
        url = new URL(new URL(queueUrl).origin);
      } catch {
        // Not a URL: the SDK, too, keeps its endpoint (and SQS answers that the queue does not exist).
      }
    }
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    const request: HttpRequest = {
      method: 'POST',
      url,
      headers: {
        'content-type': `application/x-amz-json-${service.jsonVersion}`,
        'x-amz-target': `${service.target}.${Command.operation}`,
        ...(service.queryCompatible && { 'x-amzn-query-mode': 'true' }),
      },
      body: serialize(command.input),
    };
    const context = { clientName: service.clientName, commandName: `${Command.operation}Command` };
    const handler = this.middlewareStack.resolve(
      (args) => this.#withRetries(args.request, Command, region, options),
      context,
    );
    const { output } = await handler({ input: command.input, request });
    // The answer is the service's, trusted as the SDK trusts it: its deserializers check no more
    // than this client does (JSON, the command's dates and blobs converted).
    const typed = output as unknown as Output;
    if (this.#config.md5 !== false) Command.check?.(command.input, typed);
    return typed;
  }

  destroy(): void {
    for (const agent of Object.values(this.#agents)) agent.destroy();
  }

  async #withRetries<Input extends object, Output extends object>(
    request: HttpRequest,
    Command: CommandClass<Input, Output>,
    region: string,
    { abortSignal, requestTimeout }: SendOptions,
  ): Promise<HandlerResult> {
    this.#maxAttempts ??= resolveMaxAttempts(this.#config);
    const maxAttempts = this.#maxAttempts;
    const handlerOptions = this.#config.requestHandler ?? {};
    request.headers['amz-sdk-invocation-id'] = randomUUID();
    let retries = 0;
    let retryCost: number | undefined;
    let totalRetryDelay = 0;
    for (;;) {
      request.headers['amz-sdk-request'] = `attempt=${retries + 1}; max=${maxAttempts}`;
      try {
        const result = await this.#attempt(request, Command, region, {
          abortSignal,
          connectionTimeout: handlerOptions.connectionTimeout,
          requestTimeout: requestTimeout ?? handlerOptions.requestTimeout,
          throwOnRequestTimeout: handlerOptions.throwOnRequestTimeout,
        });
        this.#retryTokens = Math.min(RETRY.tokens, this.#retryTokens + (retryCost ?? 1));
        Object.assign(result.output.$metadata, { attempts: retries + 1, totalRetryDelay });
        return result;
      } catch (caught) {
        const error: AwsError =
          caught instanceof Error ? caught : Object.assign(new Error(String(caught)), caught);
        const throttle = isThrottle(error);
        const cost = throttle ? RETRY.throttlingCost : RETRY.cost;
        const retryable = throttle || isTransient(error);
        if (abortSignal?.aborted || !retryable || retries + 1 >= maxAttempts || this.#retryTokens < cost) {
          error.$metadata ??= {};
          Object.assign(error.$metadata, { attempts: retries + 1, totalRetryDelay });
          throw error;
        }
        const base = throttle ? RETRY.throttlingDelay : RETRY.delay;
        let delay = Math.floor(Math.random() * Math.min(base * 2 ** retries, RETRY.maxDelay));
        const retryAfter = retryAfterOf(error);
        if (retryAfter !== undefined)
          delay = Math.max(delay, Math.min(retryAfter - Date.now(), delay + 5000));
        this.#retryTokens -= cost;
        retryCost = cost;
        await wait(delay, abortSignal);
        totalRetryDelay += delay;
        retries += 1;
      }
    }
  }

  async #attempt<Input extends object, Output extends object>(
    request: HttpRequest,
    Command: CommandClass<Input, Output>,
    region: string,
    transport: Transport,
  ): Promise<HandlerResult> {
    const { url, method, body } = request;
    const headers = { ...request.headers };
    headers.host = url.host;
    headers['content-length'] = String(Buffer.byteLength(body));
    const offsetBefore = this.#clockOffset;
    const sentAt = Date.now();
    signRequest({
      method,
      path: url.pathname,
      headers,
      payloadHash: sha256Hex(body),
      credentials: await resolveCredentials(this.#config),
      region,
      service: this.#service.signingName,
      date: new Date(sentAt + offsetBefore),
    });
    // The SDK's Node handler's agents: keep-alive, 50 sockets.
    let agent = this.#agents[url.protocol];
    if (agent === undefined) {
      agent = new (url.protocol === 'https:' ? HttpsAgent : HttpAgent)({ keepAlive: true, maxSockets: 50 });
      this.#agents[url.protocol] = agent;
    }
    const response = await exchange(url, { method, headers, body }, { ...transport, agent });
    this.#correctClock(response, sentAt);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const error = errorOf(this.#service, response);
      if (Math.abs(this.#clockOffset) >= 240_000 && this.#clockOffset !== offsetBefore)
        error.$metadata.clockSkewCorrected = true;
      throw error;
    }
    const json = parseJsonObject(response);
    for (const path of Command.dates) convertAt(json, path, toDate);
    for (const path of Command.blobs) convertAt(json, path, toBytes);
    const output: RawOutput = Object.assign(json, { $metadata: metadataOf(response) });
    return { response, output };
  }

  /** The SDK's clock skew correction: signing time follows the answers' Date header. */
  #correctClock({ headers }: HttpAnswer, sentAt: number): void {
    const date = headerOf(headers, 'date');
    if (headers.age !== undefined || date === undefined) return;
    const serverTime = Date.parse(date);
    const now = Date.now();
    if (Number.isNaN(serverTime) || now - sentAt > 900_000) return;
    this.#clockOffset = serverTime - now;
  }
}
