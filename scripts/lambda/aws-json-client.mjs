// The AWS client the Lambda zips bundle in place of the AWS SDK's Secrets Manager, SQS and Cognito
// user pools clients (scripts/lambda/aws-sdk/*.mjs give each the SDK's names). All three speak
// an AWS JSON protocol: a signed POST of the input as JSON, the output or an error as JSON. The
// SDK clients cost the functions ~200 KiB of bundle and ~20 ms of every cold start for that
// (bench/). Signed with node:crypto: aws4fetch signs with WebCrypto, whose first use costs ~2 ms.
//
// What the code branches on behaves as the SDK 3.1164 it stands in for does:
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
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

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

const hmac = (key, data) => createHmac('sha256', key).update(data, 'utf8').digest();
export const sha256Hex = (data) => createHash('sha256').update(data, 'utf8').digest('hex');

// The signing key of a day, region and service: derived once a day, as the SDK's signer caches it.
const signingKeys = new Map();
const signingKey = (secretAccessKey, day, region, service) => {
  const cacheKey = `${day}\u0000${region}\u0000${service}\u0000${secretAccessKey}`;
  let key = signingKeys.get(cacheKey);
  if (key === undefined) {
    key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
    if (signingKeys.size > 50) signingKeys.clear();
    signingKeys.set(cacheKey, key);
  }
  return key;
};

const encodeRfc3986 = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

/** The canonical URI of a path: escaped once more, as the SDK's signer does for every service but S3. */
const canonicalPath = (path) => path.split('/').map(encodeRfc3986).join('/');

const canonicalQuery = (query = []) =>
  query
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');

/** 20150830T123600Z (sliced, not a regular expression: this runs in every cold start). */
const amzDateOf = (date) => {
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
};

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
}) => {
  const amzDate = amzDateOf(date);
  const day = amzDate.slice(0, 8);
  headers['x-amz-date'] = amzDate;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  // Names in lower case for the signature only: the headers keep theirs (the X-Ray SDK's HTTP
  // capture overwrites X-Amzn-Trace-Id by that spelling).
  const values = new Map();
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

const isTrue = (value) => value?.toLowerCase() === 'true';

const resolveOption = async (option) => (typeof option === 'function' ? option() : option);

// Each partition's DNS suffix (the SDK's partitions.json); every other region is in `aws`.
const DNS_SUFFIXES = [
  [/^cn-\w+-\d+$/, 'amazonaws.com.cn'],
  [/^eusc-de-\w+-\d+$/, 'amazonaws.eu'],
  [/^us-iso-\w+-\d+$/, 'c2s.ic.gov'],
  [/^us-isob-\w+-\d+$/, 'sc2s.sgov.gov'],
  [/^eu-isoe-\w+-\d+$/, 'cloud.adc-e.uk'],
  [/^us-isof-\w+-\d+$/, 'csp.hci.ic.gov'],
];

const configError = (message) => Object.assign(new Error(message), { name: 'ConfigurationError' });

/**
 * Where a service's requests go: the config's endpoint, else AWS_ENDPOINT_URL_<SERVICE_ID>, else
 * AWS_ENDPOINT_URL (neither with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else the region's
 * endpoint in its partition.
 */
export const resolveEndpoint = async (service, config, region, env = process.env) => {
  const configured = await resolveOption(config.endpoint);
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
  for (const variable of ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT']) {
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

const resolveRegion = async (config, env = process.env) => {
  const region = (await resolveOption(config.region)) ?? env.AWS_REGION;
  if (!region) throw configError('Region is missing');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(region)) throw configError(`Invalid region: ${region}`);
  return region;
};

const resolveCredentials = async (config, env = process.env) => {
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

const resolveMaxAttempts = (config, env = process.env) => {
  const attempts = config.maxAttempts ?? (env.AWS_MAX_ATTEMPTS ? Number(env.AWS_MAX_ATTEMPTS) : 3);
  if (!Number.isInteger(attempts) || attempts < 1) throw configError(`Invalid maxAttempts: ${attempts}`);
  return attempts;
};

// ---------------------------------------------------------------------------------------------
// The middleware stack: what the X-Ray SDK, the Powertools and middy use of the SDK's

const STEPS = ['initialize', 'serialize', 'build', 'finalizeRequest', 'deserialize'];

class MiddlewareStack {
  #entries = [];

  add(middleware, { name, step = 'initialize' } = {}) {
    if (name !== undefined) this.remove(name);
    this.#entries.push({ middleware, name, step });
  }

  addRelativeTo(middleware, { name, relation, toMiddleware }) {
    if (name !== undefined) this.remove(name);
    this.#entries.push({ middleware, name, relation, toMiddleware });
  }

  use(plugin) {
    plugin.applyToStack(this);
  }

  remove(toRemove) {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((entry) => entry.name !== toRemove && entry.middleware !== toRemove);
    return this.#entries.length < before;
  }

  /** Outermost first: by step, then in the order added; a relative entry beside its target. */
  #ordered() {
    const ordered = this.#entries
      .filter((entry) => entry.step !== undefined)
      .sort((a, b) => STEPS.indexOf(a.step) - STEPS.indexOf(b.step));
    for (const entry of this.#entries.filter((candidate) => candidate.step === undefined)) {
      const at = ordered.findIndex((target) => target.name === entry.toMiddleware);
      if (at < 0)
        throw new Error(`${entry.toMiddleware} is not found when adding ${entry.name ?? 'anonymous'}`);
      ordered.splice(entry.relation === 'before' ? at : at + 1, 0, entry);
    }
    return ordered;
  }

  identify() {
    return this.#ordered().map(
      (entry) => `${entry.name ?? 'anonymous'} - ${entry.step ?? `${entry.relation} ${entry.toMiddleware}`}`,
    );
  }

  resolve(handler, context) {
    return this.#ordered().reduceRight((next, entry) => entry.middleware(next, context), handler);
  }
}

// ---------------------------------------------------------------------------------------------
// One attempt over HTTP, with the SDK's Node handler's timeouts

// Error codes the SDK's handler renames TimeoutError (and its retry strategy retries).
const TIMEOUT_CODES = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'];
const NETWORK_CODES = ['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'];

const abortErrorOf = (signal) => {
  const reason = signal?.reason;
  if (reason instanceof Error)
    return Object.assign(new Error('Request aborted'), { name: 'AbortError', cause: reason });
  return Object.assign(new Error(reason ? String(reason) : 'Request aborted'), { name: 'AbortError' });
};

const timeoutError = (message, code) =>
  Object.assign(new Error(message), { name: 'TimeoutError', ...(code && { code }) });

const exchange = (
  url,
  { method, headers, body },
  { agent, connectionTimeout, requestTimeout, throwOnRequestTimeout, abortSignal },
) =>
  new Promise((resolve, reject) => {
    if (abortSignal?.aborted) {
      reject(abortErrorOf(abortSignal));
      return;
    }
    const timers = [];
    let settled = false;
    const settle = (callback, value) => {
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
    const fail = (error) => {
      request.destroy();
      settle(reject, error);
    };
    request.on('response', (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('error', (error) => settle(reject, error));
      response.on('end', () =>
        settle(resolve, {
          statusCode: response.statusCode ?? -1,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.on('error', (error) => {
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

const metadataOf = ({ statusCode, headers }) => ({
  httpStatusCode: statusCode,
  requestId: headers['x-amzn-requestid'] ?? headers['x-amzn-request-id'] ?? headers['x-amz-request-id'],
  extendedRequestId: headers['x-amz-id-2'],
  cfId: headers['x-amz-cf-id'],
});

/** The error the SDK throws for an AWS error answer. */
class ServiceException extends Error {}

const sanitizeErrorCode = (raw) => {
  let code = String(raw);
  if (code.includes(',')) code = code.split(',')[0];
  if (code.includes(':')) code = code.split(':')[0];
  if (code.includes('#')) code = code.split('#')[1];
  return code;
};

const findKey = (object, key) => Object.keys(object).find((candidate) => candidate.toLowerCase() === key);

const errorCodeOf = (response, data, queryCompatible) => {
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
const parseJson = (response) => {
  if (response.body.length === 0) return {};
  try {
    return JSON.parse(response.body);
  } catch (error) {
    error.message += '\n  Deserialization error: the answer was not JSON.';
    error.$metadata = metadataOf(response);
    Object.defineProperty(error, '$response', { value: response, enumerable: false });
    throw error;
  }
};

const errorOf = (service, response) => {
  const data = parseJson(response);
  const queryError = service.queryCompatible ? response.headers['x-amzn-query-error'] : undefined;
  if (queryError !== undefined) {
    const [Code, Type] = queryError.split(';');
    const details = { Code, Type };
    for (const [key, value] of Object.entries(data))
      if (key !== '__type') details[key === 'message' ? 'Message' : key] = value;
    Object.assign(data, { Code, Type, Error: details });
  }
  const code = errorCodeOf(response, data, service.queryCompatible);
  const message = data.message ?? data.Message ?? 'UnknownError';
  // Shaped as the SDK's: these own, enumerable fields first, then the answer's.
  const error = Object.assign(new ServiceException(), {
    $fault: response.statusCode < 500 ? 'client' : 'server',
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
  if (service.queryCompatible && error.$metadata.requestId) error.RequestId = error.$metadata.requestId;
  return error;
};

/** Input as the JSON protocols serialize it: timestamps in epoch seconds, blobs in base64. */
const serialize = (input) =>
  JSON.stringify(input ?? {}, function replacer(key, value) {
    const raw = this[key];
    if (raw instanceof Date) return raw.getTime() / 1000;
    if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
    return value;
  });

/** Applies `convert` at each path of `value` (`Users[].UserCreateDate`, `UserPool.CreationDate`). */
const convertAt = (value, path, convert) => {
  const [head, ...rest] = path.split('.');
  if (value === null || typeof value !== 'object' || head === undefined) return;
  const each = head.endsWith('[]');
  const key = each ? head.slice(0, -2) : head;
  if (value[key] === undefined || value[key] === null) return;
  if (rest.length === 0 && !each) value[key] = convert(value[key]);
  else if (each && Array.isArray(value[key])) {
    for (const item of value[key]) if (rest.length > 0) convertAt(item, rest.join('.'), convert);
  } else convertAt(value[key], rest.join('.'), convert);
};

const toDate = (value) => (typeof value === 'number' ? new Date(Math.round(value * 1000)) : new Date(value));
const toBytes = (value) => new Uint8Array(Buffer.from(value, 'base64'));

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
const TRANSIENT_CODES = ['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'];
const TRANSIENT_STATUSES = [500, 502, 503, 504];
const RETRY = {
  delay: 50,
  throttlingDelay: 1000,
  maxDelay: 20_000,
  cost: 14,
  throttlingCost: 5,
  tokens: 500,
};

const isThrottle = (error) =>
  error.$metadata?.httpStatusCode === 429 ||
  THROTTLING_CODES.includes(error.name) ||
  error.$retryable?.throttling === true;

const isTransient = (error, depth = 0) =>
  error?.name !== 'AbortError' &&
  (error.$retryable !== undefined ||
    error.$metadata?.clockSkewCorrected === true ||
    (error.name === 'InvalidSignatureException' && error.message?.includes('Signature expired')) ||
    TRANSIENT_CODES.includes(error.name) ||
    TIMEOUT_CODES.includes(error?.code) ||
    NETWORK_CODES.includes(error?.code) ||
    TRANSIENT_STATUSES.includes(error.$metadata?.httpStatusCode) ||
    (error.cause !== undefined && depth <= 10 && isTransient(error.cause, depth + 1)));

/** How long the answer asks to wait: Retry-After (seconds or a date) or x-amz-retry-after (ms). */
const retryAfterOf = (error) => {
  const headers = error.$response?.headers;
  if (!headers) return undefined;
  if (headers['x-amz-retry-after'] !== undefined) {
    const ms = Number(headers['x-amz-retry-after']);
    return Number.isNaN(ms) ? undefined : Date.now() + ms;
  }
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isNaN(seconds) ? undefined : Date.now() + seconds * 1000;
};

const wait = (ms, signal) =>
  new Promise((resolve, reject) => {
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
 * A command of an operation: `new GetSecretValueCommand({ SecretId })`. `dates` and `blobs` are
 * the output's timestamp and blob members (paths), converted as the SDK converts them.
 */
export const defineCommand = (operation, { dates = [], blobs = [], check } = {}) => {
  const Command = class {
    constructor(input) {
      this.input = input ?? {};
    }
  };
  Object.assign(Command, { operation, dates, blobs, check });
  return Command;
};

export class AwsJsonClient {
  #service;
  #config;
  #maxAttempts;
  #agents = {};
  #retryTokens = RETRY.tokens;
  #clockOffset = 0;

  /**
   * @param service `{ clientName, serviceId, endpointPrefix, signingName, target, jsonVersion,
   *   queryCompatible?, errorNames?, queueUrlEndpoint? }`
   */
  constructor(service, config = {}) {
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
    // The SDK's resolved config exposes providers; the X-Ray SDK awaits `config.region()`.
    this.config = { ...config, region: () => resolveRegion(config), serviceId: service.serviceId };
  }

  async send(command, options = {}) {
    const Command = command.constructor;
    const service = this.#service;
    const region = await resolveRegion(this.#config);
    let url = await resolveEndpoint(service, this.#config, region);
    // The SQS client sends to the queue's own host, unless given an endpoint (useQueueUrlAsEndpoint).
    if (
      service.queueUrlEndpoint &&
      this.#config.endpoint === undefined &&
      typeof command.input.QueueUrl === 'string'
    ) {
      try {
        url = new URL(new URL(command.input.QueueUrl).origin);
      } catch {
        // Not a URL: the SDK, too, keeps its endpoint (and SQS answers that the queue does not exist).
      }
    }
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    const request = {
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
    if (this.#config.md5 !== false) Command.check?.(command.input, output);
    return output;
  }

  destroy() {
    for (const agent of Object.values(this.#agents)) agent.destroy();
  }

  async #withRetries(request, Command, region, { abortSignal, requestTimeout }) {
    this.#maxAttempts ??= resolveMaxAttempts(this.#config);
    const maxAttempts = this.#maxAttempts;
    const handlerOptions = this.#config.requestHandler ?? {};
    request.headers['amz-sdk-invocation-id'] = randomUUID();
    let retries = 0;
    let retryCost;
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
        const error = caught instanceof Error ? caught : Object.assign(new Error(String(caught)), caught);
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

  async #attempt(request, Command, region, transport) {
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
    this.#agents[url.protocol] ??= new (url.protocol === 'https:' ? HttpsAgent : HttpAgent)({
      keepAlive: true,
      maxSockets: 50,
    });
    const agent = this.#agents[url.protocol];
    const response = await exchange(url, { method, headers, body }, { ...transport, agent });
    this.#correctClock(response, sentAt);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const error = errorOf(this.#service, response);
      if (Math.abs(this.#clockOffset) >= 240_000 && this.#clockOffset !== offsetBefore)
        error.$metadata.clockSkewCorrected = true;
      throw error;
    }
    const output = parseJson(response);
    for (const path of Command.dates) convertAt(output, path, toDate);
    for (const path of Command.blobs) convertAt(output, path, toBytes);
    output.$metadata = metadataOf(response);
    return { response, output };
  }

  /** The SDK's clock skew correction: signing time follows the answers' Date header. */
  #correctClock({ headers }, sentAt) {
    if (headers.age !== undefined || headers.date === undefined) return;
    const serverTime = Date.parse(headers.date);
    const now = Date.now();
    if (Number.isNaN(serverTime) || now - sentAt > 900_000) return;
    this.#clockOffset = serverTime - now;
  }
}
