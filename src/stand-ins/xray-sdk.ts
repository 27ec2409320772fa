// Bundled in place of aws-xray-sdk-core (3.12, under the Powertools tracer) in the Lambda zips. The
// SDK is written for every host X-Ray knows (servers with a daemon, centralized sampling, EC2/ECS
// plugins, Express middleware, SQL, AWS SDK v2, the http module patch); a Lambda function uses a
// sliver of it and paid for all of it: ~45 KiB of bundle and ~9 ms of every cold start (bench/:
// `npm run bench -- --only cold`, and bench/README.md). This is that sliver, written from the
// SDK's own modules (named below) and kept equal to them by tests/stand-ins/xray-sdk.test.ts,
// which runs the Powertools tracer over both and compares every document sent to the daemon (the
// versions it was verified against: ./verified.ts). The command line and the tests run the real SDK.
//
// As the SDK does on Lambda (env/aws_lambda.js):
// - one facade segment stands for Lambda's own: its trace id, parent id and sampling decision are
//   read from the invocation's trace header (_X_AMZN_TRACE_ID, or the invoke store's) whenever
//   it is the current segment and the header changed; without a sampled header nothing is sent;
// - subsegments (segments/attributes/subsegment.js) are streamed as they close, each as its own
//   document (the SDK's streaming threshold is 0 on Lambda), over UDP to AWS_XRAY_DAEMON_ADDRESS,
//   through one socket for the container (below: where this differs from the SDK, and why);
// - the current sub/segment follows the async context (cls-hooked there, AsyncLocalStorage here);
// - captureAWSv3Client (patchers/aws3_p.js): a subsegment per call, named for the service, with
//   the SDK's `aws` fields (operation, region, request id, retries, and the parameters its
//   whitelist names: SQS's, the only listed service the functions call), `http` fields, flags
//   and error, and the call's trace header;
// - captureAsyncFunc and captureFunc (capture.js), the context missing strategies
//   (AWS_XRAY_CONTEXT_MISSING wins over setContextMissingStrategy), setDaemonAddress, setLogger
//   and the SDK's logger (AWS_XRAY_LOG_LEVEL, AWS_XRAY_DEBUG_MODE; errors only by default).
// Not here: the AWS SDK v2 patchers (captureAWS, captureAWSClient) and getNamespace throw if
// called. captureHTTPsGlobal patches nothing: the zips' HTTP goes through fetch (the tracer traces
// it from undici's diagnostics channel) or through their AWS client (traced per call above), whose
// requests carry an X-Amzn-Trace-Id header, which the SDK's patch leaves alone (patchers/http_p.js).

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomFillSync } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isThrottlingError } from '@smithy/service-error-classification';
import { isRecord } from '../guards.js';
import type { HandlerResult, Middleware, MiddlewareStack } from './aws-json-client.js';

// Ids are 64 random bits in hex, as the SDK's; drawn from a pool filled 4 KiB at a time rather
// than with one call into the system's generator per id.
const idPool = Buffer.alloc(4096);
let idOffset = idPool.length;
const newId = () => {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  idOffset += 8;
  return idPool.toString('hex', idOffset - 8, idOffset);
};
const now = () => Date.now() / 1000;

// ---------------------------------------------------------------------------------------------
// The SDK's logger (logger.js): console, errors only unless AWS_XRAY_LOG_LEVEL or AWS_XRAY_DEBUG_MODE

/** The SDK's Logger: what setLogger takes. */
export interface Logger {
  error(message?: string, meta?: unknown): void;
  warn(message?: string, meta?: unknown): void;
  info(message?: string, meta?: unknown): void;
  debug(message?: string, meta?: unknown): void;
}

type Level = 'error' | 'info' | 'warn' | 'debug';

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'];
const levelOf = (name: string | undefined) => {
  const index = LEVELS.indexOf(String(name ?? '').toLowerCase());
  return index >= 0 ? index : LEVELS.indexOf('error');
};
const logLevel = levelOf(process.env.AWS_XRAY_DEBUG_MODE ? 'debug' : process.env.AWS_XRAY_LOG_LEVEL);
const logAt = (level: Level): Logger[Level] =>
  LEVELS.indexOf(level) >= logLevel
    ? (message, meta) => {
        if (!message && !meta) return;
        const metaText = !meta ? '' : typeof meta === 'string' ? meta : JSON.stringify(meta);
        console[level]([message ?? '', metaText].filter((part) => part.length > 0).join('\n  '));
      }
    : () => {};
const consoleLogger: Logger = {
  error: logAt('error'),
  info: logAt('info'),
  warn: logAt('warn'),
  debug: logAt('debug'),
};
let logger: Logger = consoleLogger;

export const setLogger = (logObject: Logger): void => {
  logger = logObject;
};

// ---------------------------------------------------------------------------------------------
// Context missing strategies (context_utils.js)

type ContextMissingStrategy = (message: string) => void;

const STRATEGIES = {
  RUNTIME_ERROR: (message) => {
    throw new Error(message);
  },
  LOG_ERROR: (message) => logger.error(new Error(message).stack),
  IGNORE_ERROR: () => {},
} satisfies Record<string, ContextMissingStrategy>;
const strategyNamed: Record<string, ContextMissingStrategy | undefined> = STRATEGIES;
let contextMissing: ContextMissingStrategy = STRATEGIES.LOG_ERROR;
let contextOverride = false;

export const setContextMissingStrategy = (strategy: string | ContextMissingStrategy): void => {
  if (contextOverride) {
    logger.warn(
      'Ignoring call to setContextMissingStrategy as AWS_XRAY_CONTEXT_MISSING is set. ' +
        'The current context missing strategy will not be changed.',
    );
    return;
  }
  if (typeof strategy === 'string') {
    const found = strategyNamed[strategy.toUpperCase()];
    if (!found) {
      throw new Error(
        `Invalid context missing strategy: ${strategy}. Valid values are ${Object.keys(STRATEGIES)}.`,
      );
    }
    contextMissing = found;
  } else if (typeof strategy === 'function') {
    contextMissing = strategy;
  } else {
    throw new Error('Context missing strategy must be either a string or a custom function.');
  }
};
if (process.env.AWS_XRAY_CONTEXT_MISSING) {
  setContextMissingStrategy(process.env.AWS_XRAY_CONTEXT_MISSING);
  contextOverride = true;
}

// ---------------------------------------------------------------------------------------------
// The daemon (daemon_config.js) and the emitter (segment_emitter.js)

// The port stays as given in an address without protocols, as the SDK keeps it (a string).
const daemon: { ip: string; port: number | string } = { ip: '127.0.0.1', port: 2000 };

const setAddress = (address: string) => {
  if (!address.includes(':')) throw new Error('Invalid Daemon Address. You must specify an ip and port.');
  const parts = address.split(' ');
  if (parts.length === 1) {
    if (address.includes('udp') || address.includes('tcp'))
      throw new Error('Invalid Daemon Address. You must specify both tcp and udp addresses.');
    const [ip, port] = address.split(':');
    if (!ip) throw new Error('Invalid Daemon Address. You must specify an ip.');
    Object.assign(daemon, { ip, port });
  } else if (parts.length === 2) {
    const byProtocol = Object.fromEntries(parts.map((part) => [part.split(':')[0], part.split(':')]));
    const [, ip, port = ''] = byProtocol.udp ?? [];
    if (ip === undefined || !Number.parseInt(port, 10) || !Number.parseInt(byProtocol.tcp?.[2] ?? '', 10))
      throw new Error('Invalid Daemon Address. You must specify port number.');
    Object.assign(daemon, { ip, port: Number.parseInt(port, 10) });
  }
};
if (process.env.AWS_XRAY_DAEMON_ADDRESS) setAddress(process.env.AWS_XRAY_DAEMON_ADDRESS);

export const setDaemonAddress = (address: string): void => {
  if (process.env.AWS_XRAY_DAEMON_ADDRESS) {
    logger.warn(
      'Ignoring call to setDaemonAddress as AWS_XRAY_DAEMON_ADDRESS is set. ' +
        'The current daemon address will not be changed.',
    );
    return;
  }
  setAddress(address);
  logger.info(`Configured daemon address to ${address}.`);
};

const PROTOCOL_HEADER = '{"format":"json","version":1}\n';

// One UDP socket for the container, made at the first send and unreferenced (it never keeps the
// process alive), as the SDK's emitter does off Lambda, and as the X-Ray SDKs for Python and Java
// do on Lambda too (UDPEmitter in aws_xray_sdk/core/emitters/udp_emitter.py and in
// com.amazonaws.xray.emitters keeps one socket). The Node SDK, on Lambda only, opens and closes a
// socket for each batch of sends made in the same tick: about 0.1 ms of every invocation, for
// nothing the daemon sees. A socket that fails is dropped; the next send opens another.
let socket: Socket | undefined;

const daemonSocket = (): Socket => {
  if (socket === undefined) {
    const opened = createSocket('udp4').unref();
    opened.bind({ port: 0, exclusive: true });
    opened.on('error', (error) => {
      logger.error('Error occured sending segment: ', error);
      if (socket === opened) socket = undefined;
      try {
        opened.close();
      } catch {
        // Closed already.
      }
    });
    socket = opened;
  }
  return socket;
};

const emit = (subsegment: Subsegment) => {
  const message = Buffer.from(PROTOCOL_HEADER + subsegment.format());
  const onSent = (error: NodeJS.ErrnoException | null) => {
    if (!error) return;
    if (error.code === 'EMSGSIZE') {
      const short = `{"trace_id:"${subsegment.trace_id}","id":"${subsegment.id}"}`;
      logger.error(`Subsegment too large to send: ${short} (${message.length} bytes).`);
    } else {
      logger.error('Error occured sending segment: ', error);
    }
  };
  daemonSocket().send(message, 0, message.length, Number(daemon.port), daemon.ip, onSent);
};

// ---------------------------------------------------------------------------------------------
// Exceptions (segments/attributes/captured_exception.js)

/** What the SDK reads of an error it records: an Error, or anything shaped like one. */
interface ErrorLike {
  message?: unknown;
  name?: unknown;
  stack?: unknown;
}

interface StackFrame {
  path: string | undefined;
  line: number;
  label: string;
}

class CapturedException {
  declare message: unknown;
  declare type: unknown;
  declare stack: StackFrame[];
  declare remote: boolean;
  declare id: string;

  constructor(err: object | string, remote?: boolean) {
    const e: ErrorLike =
      typeof err === 'string' || err instanceof String
        ? { message: err, name: '' }
        : isRecord(err)
          ? err
          : {};
    this.message = e.message;
    this.type = e.name;
    this.stack = [];
    this.remote = !!remote;
    this.id = newId();
    if (typeof e.stack !== 'string') return;
    for (const stackLine of e.stack.split('\n').slice(1)) {
      let line = stackLine.trim().replace(/\(|\)/g, '');
      line = line.substring(line.indexOf(' ') + 1);
      const label = line.lastIndexOf(' ') >= 0 ? line.slice(0, line.lastIndexOf(' ')) : null;
      const path = line.slice(line.lastIndexOf(' ') + 1).split(':');
      this.stack.push({
        path: path[0],
        line: Number.parseInt(path[1] ?? '', 10),
        label: label || 'anonymous',
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Subsegments (segments/attributes/subsegment.js)

const OMITTED = new Set(['segment', 'parent', 'counter']);
const bigIntAsString = (_key: string, value: unknown) =>
  typeof value === 'bigint' ? value.toString() : value;

/** What a segment and a subsegment share: children, added (with or without sampling) and removed. */
abstract class Parent {
  declare name: string;
  declare subsegments?: Subsegment[];

  abstract addSubsegment(subsegment: Subsegment): void;

  addNewSubsegment(name: string): Subsegment {
    const subsegment = new Subsegment(name);
    this.addSubsegment(subsegment);
    return subsegment;
  }

  addSubsegmentWithoutSampling(subsegment: Subsegment): void {
    this.addSubsegment(subsegment);
    subsegment.notTraced = true;
  }

  addNewSubsegmentWithoutSampling(name: string): Subsegment {
    const subsegment = new Subsegment(name);
    this.addSubsegment(subsegment);
    subsegment.notTraced = true;
    return subsegment;
  }

  removeSubsegment(subsegment: Subsegment): void {
    if (!(subsegment instanceof Subsegment))
      throw new Error(
        `Failed to remove subsegment:${subsegment} from subsegment "${this.name}".  Not a subsegment.`,
      );
    const index = this.subsegments?.indexOf(subsegment) ?? -1;
    if (index >= 0) this.subsegments?.splice(index, 1);
  }
}

/** The cause of a fault: the exceptions recorded here, or the id of the subsegment that has them. */
interface Cause {
  id?: string;
  working_directory?: string;
  exceptions: CapturedException[];
}

export class Subsegment extends Parent {
  // Fields the SDK adds when it records them (addAttribute adds any other: `aws`, `http`,
  // `namespace`…). Declared only: a subsegment's own keys are what its document holds.
  [attribute: string]: unknown;
  declare id: string;
  declare start_time: number;
  declare end_time?: number;
  declare in_progress: boolean | undefined;
  declare counter: number;
  declare notTraced: boolean | undefined;
  declare noOp?: boolean | undefined;
  declare segment?: Segment | undefined;
  declare parent?: Subsegment | Segment;
  declare type?: 'subsegment';
  declare parent_id?: string;
  declare trace_id?: string;
  declare precursor_ids?: unknown[];
  declare annotations?: Record<string, unknown>;
  declare metadata?: Record<string, Record<string, unknown>>;
  declare sql?: unknown;
  declare cause?: Cause;
  declare fault?: boolean;
  declare error?: boolean;
  declare throttle?: boolean;

  constructor(name: string) {
    super();
    if (typeof name !== 'string') throw new Error('Subsegment name must be of type string.');
    this.id = newId();
    this.name = name;
    this.start_time = now();
    this.in_progress = true;
    this.counter = 0;
    this.notTraced = false;
  }

  addSubsegment(subsegment: Subsegment): void {
    if (!(subsegment instanceof Subsegment))
      throw new Error(
        `Failed to add subsegment:${subsegment} to subsegment "${this.name}".  Not a subsegment.`,
      );
    this.subsegments ??= [];
    subsegment.segment = this.segment;
    subsegment.parent = this;
    subsegment.notTraced = this.notTraced;
    subsegment.noOp = this.noOp;
    if (subsegment.end_time === undefined) this.incrementCounter(subsegment.counter);
    this.subsegments.push(subsegment);
  }

  addAttribute(name: string, data: unknown): void {
    this[name] = data;
  }

  addPrecursorId(id: unknown): void {
    if (typeof id !== 'string')
      logger.error(
        `Failed to add id:${id} to subsegment ${this.name}.  Precursor Ids must be of type string.`,
      );
    this.precursor_ids ??= [];
    this.precursor_ids.push(id);
  }

  addAnnotation(key: unknown, value: unknown): void {
    const where = `Failed to add annotation key: ${key} value: ${value} to subsegment ${this.name}.`;
    if (typeof value !== 'boolean' && typeof value !== 'string' && !Number.isFinite(Number(value))) {
      logger.error(`${where} Value must be of type string, number or boolean.`);
      return;
    }
    if (typeof key !== 'string') {
      logger.error(`${where} Key must be of type string.`);
      return;
    }
    this.annotations ??= {};
    this.annotations[key] = value;
  }

  addMetadata(key: unknown, value: unknown, namespace?: unknown): void {
    const where = `Failed to add metadata key: ${key} value: ${value} to subsegment ${this.name}.`;
    if (typeof key !== 'string') {
      logger.error(`${where} Key must be of type string.`);
      return;
    }
    if (namespace && typeof namespace !== 'string') {
      logger.error(`${where} Namespace must be of type string.`);
      return;
    }
    const ns = typeof namespace === 'string' && namespace ? namespace : 'default';
    this.metadata ??= {};
    this.metadata[ns] ??= {};
    if (ns !== '__proto__') this.metadata[ns][key] = value !== null && value !== undefined ? value : '';
  }

  addSqlData(sqlData: unknown): void {
    this.sql = sqlData;
  }

  addError(err: unknown, remote?: boolean): void {
    if (err == null || (typeof err !== 'object' && typeof err !== 'string')) {
      logger.error(
        `Failed to add error:${err} to subsegment "${this.name}".  Not an object or string literal.`,
      );
      return;
    }
    this.addFaultFlag();
    if (this.segment?.exception) {
      // The error a child already recorded: pointed to, not recorded twice.
      if (err === this.segment.exception.ex) {
        this.fault = true;
        this.cause = { id: this.segment.exception.cause, exceptions: [] };
        return;
      }
      delete this.segment.exception;
    }
    if (this.segment) this.segment.exception = { ex: err, cause: this.id };
    this.cause ??= { working_directory: process.cwd(), exceptions: [] };
    this.cause.exceptions.unshift(new CapturedException(err, remote));
  }

  addFaultFlag(): void {
    this.fault = true;
  }

  addErrorFlag(): void {
    this.error = true;
  }

  addThrottleFlag(): void {
    this.throttle = true;
  }

  close(err?: unknown, remote?: boolean): void {
    const root = this.segment;
    this.end_time = now();
    // The SDK deletes the flag; undefined leaves it out of the document just the same, and keeps
    // the object's shape (a deleted property turns it into a slow dictionary).
    this.in_progress = undefined;
    if (err) this.addError(err, remote);
    this.parent?.decrementCounter();
    // The facade's counter never drops below 1, above Lambda's streaming threshold of 0.
    if (root && root.counter > 0 && this.streamSubsegments() && this.parent)
      this.parent.removeSubsegment(this);
  }

  incrementCounter(additional?: number): void {
    this.counter = additional ? this.counter + additional + 1 : this.counter + 1;
    this.parent?.incrementCounter(additional);
  }

  decrementCounter(): void {
    this.counter--;
    this.parent?.decrementCounter();
  }

  isClosed(): boolean {
    return !this.in_progress;
  }

  flush(): void {
    if (!this.parent || !this.segment) {
      logger.error(
        `Failed to flush subsegment: ${this.name}. Subsegment must be added to a segment chain to flush.`,
      );
      return;
    }
    if (!this.segment.trace_id) {
      logger.debug(`Ignoring flush on subsegment ${this.id}. Associated segment is missing a trace ID.`);
    } else if (this.segment.notTraced !== true && !this.notTraced) {
      emit(this);
    } else {
      logger.debug(`Ignoring flush on subsegment ${this.id}. Associated segment is marked as not sampled.`);
    }
  }

  streamSubsegments(): true | undefined {
    if (this.isClosed() && this.counter <= 0) {
      this.flush();
      return true;
    }
    if (this.subsegments && this.subsegments.length > 0)
      this.subsegments = this.subsegments.filter((child) => !child.streamSubsegments());
    return undefined;
  }

  format(): string {
    this.type = 'subsegment';
    if (this.parent) this.parent_id = this.parent.id;
    if (this.segment) this.trace_id = this.segment.trace_id;
    return this.serialize();
  }

  override toString(): string {
    return this.serialize();
  }

  toJSON(): Record<string, unknown> {
    const copy: Record<string, unknown> = {};
    for (const key in this) {
      if (!Object.hasOwn(this, key) || OMITTED.has(key)) continue;
      const value = this[key];
      if (key === 'subsegments' && !(Array.isArray(value) && value.length > 0)) continue;
      copy[key] = value;
    }
    return copy;
  }

  serialize(object?: unknown): string {
    // The SDK's replacer turns BigInts into strings; JSON.stringify refuses them otherwise. A
    // replacer is called for every key, so it is used only when a document holds one.
    try {
      return JSON.stringify(object ?? this);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      return JSON.stringify(object ?? this, bigIntAsString);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The facade segment (env/aws_lambda.js, segments/attributes/trace_id.js, utils.js)

const INVALID_TRACE_ID = '1-00000000-000000000000000000000000';

const randomTraceId = () =>
  `1-${Math.round(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

/** The SDK's TraceID.FromString: a malformed root gets a new random trace id (and an error logged). */
const normalizeTraceId = (raw: string) => {
  const parts = raw.trim().split('-');
  if (parts.length !== 3) {
    logger.error('Unrecognized trace ID format');
    return randomTraceId();
  }
  const version = Number.parseInt(parts[0] ?? '', 10);
  if (Number.isNaN(version) || version < 1) {
    logger.error('Trace ID version must be positive integer');
    return randomTraceId();
  }
  const timestamp = Number.parseInt(parts[1] ?? '', 16).toString(16);
  if (timestamp === 'NaN') {
    logger.error('Trace ID timestamp must be a hex-encoded value');
    return randomTraceId();
  }
  return `${version}-${timestamp.padStart(8, '0')}-${parts[2]}`;
};

const TRACE_FIELDS: readonly string[] = ['root', 'parent', 'sampled', 'self'];
type TraceField = 'root' | 'parent' | 'sampled' | 'self';
const isTraceField = (key: string): key is TraceField => TRACE_FIELDS.includes(key);

type TraceHeaderFields = Partial<Record<TraceField, string>> & { data?: Record<string, string> };

/** `Root=…;Parent=…;Sampled=…` and up to 256 bytes of other fields, as the SDK reads them. */
const parseTraceHeader = (header: unknown): TraceHeaderFields => {
  const fields: TraceHeaderFields = {};
  const data: Record<string, string> = {};
  let remainingBytes = 256;
  if (!(typeof header === 'string' && header)) return fields;
  for (const part of header.split(';')) {
    const [rawKey, rawValue] = part.split('=');
    if (!rawKey || !rawValue) continue;
    const key = rawKey.trim();
    const value = rawValue.trim();
    const lower = key.toLowerCase();
    if (isTraceField(lower)) fields[lower] = value;
    else if (remainingBytes - (lower.length + value.length) >= 0) {
      data[key] = value;
      remainingBytes -= key.length + value.length;
    }
  }
  fields.data = data;
  return fields;
};

const isValidTraceHeader = (header: unknown) => {
  const fields = parseTraceHeader(header);
  return Boolean(fields.root && fields.parent && fields.sampled);
};

/** LambdaUtils.populateTraceData: true when the header was complete and well formed. */
const populateTraceData = (segment: Segment, header: unknown) => {
  const fields = parseTraceHeader(header);
  let valid = false;
  if (fields.root && !fields.parent && !fields.sampled) {
    segment.noOp = true;
    valid = true;
  } else if (!fields.root || !fields.parent || !fields.sampled) {
    logger.error('_X_AMZN_TRACE_ID is missing required information');
  } else {
    valid = true;
  }
  if (fields.root) segment.trace_id = normalizeTraceId(fields.root);
  else {
    logger.error('Empty or non-string trace ID provided');
    segment.trace_id = randomTraceId();
  }
  segment.id = fields.parent || newId();
  if (fields.root && segment.trace_id !== fields.root) {
    logger.error('_X_AMZN_TRACE_ID contains invalid trace ID');
    valid = false;
  }
  if (!Number.parseInt(fields.sampled ?? '', 10)) segment.notTraced = true;
  else delete segment.notTraced;
  if (fields.data) segment.additionalTraceData = fields.data;
  return valid;
};

const facadeWarning = (name: string) => () => {
  logger.warn(
    `Function "${name}" cannot be called on an AWS Lambda segment. Please use a subsegment to record data.`,
  );
};

/**
 * The invocation's trace header in Lambda's invoke store (globalThis.awslambda.InvokeStore, in the
 * Node runtimes that have one: @aws/lambda-invoke-store), read as the SDK reads it.
 */
const lambdaGlobal: { awslambda?: unknown } = globalThis;
const invokeStoreTraceId = (): unknown => {
  const runtime = lambdaGlobal.awslambda;
  const store = isRecord(runtime) ? runtime.InvokeStore : undefined;
  return isRecord(store) && typeof store.getXRayTraceId === 'function' ? store.getXRayTraceId() : undefined;
};

/** Lambda's segment, as the function sees it: subsegments can be added to it, nothing else. */
export class Segment extends Parent {
  declare trace_id: string;
  declare id: string;
  declare in_progress: boolean;
  declare counter: number;
  // Deleted when a sampled header is read, as the SDK does.
  declare notTraced?: boolean;
  declare facade: boolean;
  declare noOp?: boolean;
  declare additionalTraceData?: Record<string, string>;
  /** The error a subsegment recorded last, and that subsegment's id. */
  declare exception?: { ex: unknown; cause: string };

  constructor(name = 'facade') {
    super();
    this.name = name;
    this.trace_id = INVALID_TRACE_ID;
    this.id = '00000000';
    this.in_progress = false;
    this.counter = 1;
    this.notTraced = true;
    this.facade = true;
  }

  addSubsegment(subsegment: Subsegment): void {
    if (!(subsegment instanceof Subsegment))
      throw new Error(`Cannot add subsegment: ${subsegment}. Not a subsegment.`);
    this.subsegments ??= [];
    subsegment.segment = this;
    subsegment.parent = this;
    subsegment.notTraced = this.notTraced;
    subsegment.noOp = this.noOp;
    this.subsegments.push(subsegment);
    // A traced invocation sends its first document when a subsegment closes: the socket is bound
    // now (binding loads what dgram needs), while the invocation waits on its first calls.
    if (!this.notTraced) daemonSocket();
  }

  override toString(): string {
    return JSON.stringify(this, (key, value) => (key === 'exception' ? undefined : value));
  }

  // Silent on the facade: Lambda opens, closes and sends the function's segment.
  incrementCounter(): void {}
  decrementCounter(): void {}
  isClosed(): boolean {
    return true;
  }
  close(): void {}
  format(): void {}
  flush(): void {}

  reset(): void {
    this.trace_id = INVALID_TRACE_ID;
    this.id = '00000000';
    delete this.subsegments;
    this.notTraced = true;
  }

  /** Reads the invocation's trace header, when it changed since the last one read. */
  resolveLambdaTraceData(): void {
    const header = invokeStoreTraceId() ?? process.env._X_AMZN_TRACE_ID;
    if (!header) {
      this.reset();
      contextMissing(
        'Missing AWS Lambda trace data for X-Ray. ' +
          'Ensure Active Tracing is enabled and no subsegments are created outside the function handler.',
      );
      return;
    }
    if (header !== lastTraceHeader) {
      this.reset();
      if (populateTraceData(this, header)) lastTraceHeader = header;
    }
  }
}
// What the SDK's segment has and the facade only warns about (Reflect.set: they are not typed).
for (const name of [
  'addIncomingRequestData',
  'addAnnotation',
  'setUser',
  'addMetadata',
  'setSDKData',
  'setMatchedSamplingRule',
  'setServiceData',
  'addPluginData',
  'addError',
  'addFaultFlag',
  'addErrorFlag',
  'addThrottleFlag',
  'serialize',
]) {
  Reflect.set(Segment.prototype, name, facadeWarning(name));
}

let lastTraceHeader: unknown = null;
let facade: Segment | undefined;
const facadeSegment = () => {
  if (facade === undefined) {
    facade = new Segment('facade');
    const header = process.env._X_AMZN_TRACE_ID;
    if (isValidTraceHeader(header) && populateTraceData(facade, header)) lastTraceHeader = header;
  }
  return facade;
};

// ---------------------------------------------------------------------------------------------
// The current sub/segment (context_utils.js): the facade until the function sets another

interface Context {
  segment?: Segment | Subsegment | undefined;
}

const storage = new AsyncLocalStorage<Context>();
let rootContext: Context | undefined;
const activeContext = (): Context => {
  const store = storage.getStore();
  if (store !== undefined) return store;
  rootContext ??= { segment: facadeSegment() };
  return rootContext;
};

export const getSegment = (): Segment | Subsegment | undefined => {
  const segment = activeContext().segment;
  if (!segment) contextMissing('Failed to get the current sub/segment from the context.');
  else if (segment instanceof Segment && process.env.LAMBDA_TASK_ROOT && segment.facade === true)
    segment.resolveLambdaTraceData();
  return segment;
};

export const setSegment = (segment: Segment | Subsegment | undefined): void => {
  activeContext().segment = segment;
};

/** capture.js's captureFcn: runs `fcn` with `subsegment` as the current segment of its context. */
const runWith = <T>(subsegment: Subsegment, fcn: (subsegment?: Subsegment) => T): T => {
  // A context that inherits the current one: what the function sets stays inside it.
  return storage.run(Object.create(activeContext()), () => {
    setSegment(subsegment);
    return fcn(subsegment);
  });
};

const validate = (name: unknown, fcn: unknown) => {
  let error: string | undefined;
  if (!name || typeof name !== 'string') error = 'Param "name" must be a non-empty string.';
  else if (typeof fcn !== 'function') error = 'Param "fcn" must be a function.';
  if (error === undefined) return;
  logger.error(error);
  throw new Error(error);
};

// `parent` is the SDK's manual mode's; in automatic mode (Lambda's) the SDK ignores it, as here.
export const captureFunc = <T>(name: string, fcn: (subsegment?: Subsegment) => T, _parent?: unknown): T => {
  validate(name, fcn);
  const parentSegment = getSegment();
  if (!parentSegment) {
    logger.warn('Failed to capture function.');
    return fcn();
  }
  const current = parentSegment.addNewSubsegment(name);
  try {
    const response = runWith(current, fcn);
    current.close();
    return response;
  } catch (error) {
    current.close(error);
    throw error;
  }
};

export const captureAsyncFunc = <T>(
  name: string,
  fcn: (subsegment?: Subsegment) => T,
  _parent?: unknown,
): T => {
  validate(name, fcn);
  const parentSegment = getSegment();
  if (!parentSegment) {
    logger.warn('Failed to capture async function.');
    return fcn();
  }
  const current = parentSegment.addNewSubsegment(name);
  try {
    return runWith(current, fcn);
  } catch (error) {
    current.close(error);
    throw error;
  }
};

// ---------------------------------------------------------------------------------------------
// AWS SDK v3 clients (patchers/aws3_p.js, segments/attributes/aws.js, patchers/call_capturer.js)

/** How the SDK's whitelist captures a member: its count, its keys, under another name. */
interface Descriptor {
  list?: boolean;
  get_count?: boolean;
  get_keys?: boolean;
  rename_to?: string;
}

/** What the SDK's whitelist captures of one operation's call. */
interface CallCapture {
  request_parameters?: string[];
  request_descriptors?: Record<string, Descriptor>;
  response_parameters?: string[];
  response_descriptors?: Record<string, Descriptor>;
}

// The SDK's whitelist (resources/aws_whitelist.json) for the one listed service the functions call.
const SQS_WHITELIST: Record<string, CallCapture> = {
  addPermission: { request_parameters: ['Label', 'QueueUrl'] },
  changeMessageVisibility: { request_parameters: ['QueueUrl', 'VisibilityTimeout'] },
  changeMessageVisibilityBatch: { request_parameters: ['QueueUrl'], response_parameters: ['Failed'] },
  createQueue: { request_parameters: ['Attributes', 'QueueName'] },
  deleteMessage: { request_parameters: ['QueueUrl'] },
  deleteMessageBatch: { request_parameters: ['QueueUrl'], response_parameters: ['Failed'] },
  deleteQueue: { request_parameters: ['QueueUrl'] },
  getQueueAttributes: { request_parameters: ['QueueUrl'], response_parameters: ['Attributes'] },
  getQueueUrl: {
    request_parameters: ['QueueName', 'QueueOwnerAWSAccountId'],
    response_parameters: ['QueueUrl'],
  },
  listDeadLetterSourceQueues: { request_parameters: ['QueueUrl'], response_parameters: ['QueueUrls'] },
  listQueues: {
    request_parameters: ['QueueNamePrefix'],
    response_descriptors: { QueueUrls: { list: true, get_count: true, rename_to: 'queue_count' } },
  },
  purgeQueue: { request_parameters: ['QueueUrl'] },
  receiveMessage: {
    request_parameters: [
      'AttributeNames',
      'MaxNumberOfMessages',
      'MessageAttributeNames',
      'QueueUrl',
      'VisibilityTimeout',
      'WaitTimeSeconds',
    ],
    response_descriptors: { Messages: { list: true, get_count: true, rename_to: 'message_count' } },
  },
  removePermission: { request_parameters: ['QueueUrl'] },
  sendMessage: {
    request_parameters: ['DelaySeconds', 'QueueUrl'],
    request_descriptors: { MessageAttributes: { get_keys: true, rename_to: 'message_attribute_names' } },
    response_parameters: ['MessageId'],
  },
  sendMessageBatch: {
    request_parameters: ['QueueUrl'],
    request_descriptors: { Entries: { list: true, get_count: true, rename_to: 'message_count' } },
    response_descriptors: {
      Failed: { list: true, get_count: true, rename_to: 'failed_count' },
      Successful: { list: true, get_count: true, rename_to: 'successful_count' },
    },
  },
  setQueueAttributes: {
    request_parameters: ['QueueUrl'],
    request_descriptors: { Attributes: { get_keys: true, rename_to: 'attribute_names' } },
  },
};
export const WHITELIST: Record<string, { operations: Record<string, CallCapture> }> = {
  sqs: { operations: SQS_WHITELIST },
};

const toSnakeCase = (name: string) =>
  name === 'IPAddress'
    ? 'ip_address'
    : name
        .split(/(?=[A-Z])/)
        .join('_')
        .toLowerCase();

type Fields = Record<string, unknown>;

const captureParameters = (names: string[], source: Fields, into: Fields) => {
  for (const name of names) if (source[name] !== undefined) into[toSnakeCase(name)] = source[name];
};

/** A list's length (the SDK's `get_count`); 0 for what has none. */
const countOf = (value: unknown) => (Array.isArray(value) || typeof value === 'string' ? value.length : 0);

const captureDescriptors = (descriptors: Record<string, Descriptor>, source: Fields, into: Fields) => {
  for (const [name, attributes] of Object.entries(descriptors)) {
    const member = source[name];
    if (member === undefined) continue;
    const value =
      attributes.list && attributes.get_count
        ? countOf(member)
        : attributes.get_keys === true
          ? Object.keys(isRecord(member) || Array.isArray(member) ? member : {})
          : member;
    into[typeof attributes.rename_to === 'string' ? attributes.rename_to : toSnakeCase(name)] = value;
  }
};

/** What the X-Ray SDK reads of a call's `$metadata` (the output's, or the error's). */
interface CallMetadata {
  httpStatusCode?: unknown;
  requestId?: unknown;
  extendedRequestId?: unknown;
  attempts?: unknown;
}

/** The `aws` fields of a call's subsegment (aws.js, call_capturer.js). */
const awsFields = (
  service: string,
  operation: string,
  region: string,
  input: Fields,
  output: Fields | undefined,
  metadata: CallMetadata,
) => {
  const fields: Fields = { operation: operation.charAt(0).toUpperCase() + operation.slice(1) };
  if (region) fields.region = region;
  if (metadata.requestId) fields.request_id = metadata.requestId;
  fields.retries = metadata.attempts || 0;
  if (metadata.extendedRequestId && service.toLowerCase() === 's3') fields.id_2 = metadata.extendedRequestId;
  const call = WHITELIST[service.toLowerCase()]?.operations[operation];
  if (call === undefined) return fields;
  if (call.request_parameters) captureParameters(call.request_parameters, input, fields);
  if (call.request_descriptors) captureDescriptors(call.request_descriptors, input, fields);
  if (call.response_parameters && output) captureParameters(call.response_parameters, output, fields);
  if (call.response_descriptors && output) captureDescriptors(call.response_descriptors, output, fields);
  return fields;
};

const safeParseInt = (value: unknown) =>
  !value || Number.isNaN(Number(value)) ? 0 : Number.parseInt(String(value), 10);

interface HttpFields {
  response?: { status?: unknown; content_length?: number };
}

const httpFields = (metadata: CallMetadata, response: HandlerResult['response'] | undefined) => {
  const http: HttpFields = {};
  if (metadata.httpStatusCode) http.response = { status: metadata.httpStatusCode };
  const length = response?.headers?.['content-length'];
  if (length !== undefined) {
    http.response ??= {};
    http.response.content_length = safeParseInt(length);
  }
  return http;
};

const addFlags = (http: HttpFields, subsegment: Subsegment, error?: Fields) => {
  const status = safeParseInt(http.response?.status);
  // The SDK passes the error as the AWS client threw it: an Error, as every error of ours is.
  if (error instanceof Error && isThrottlingError(error)) subsegment.addThrottleFlag();
  else if (
    status === 429 ||
    safeParseInt(isRecord(error?.$metadata) && error.$metadata.httpStatusCode) === 429
  )
    subsegment.addThrottleFlag();
  if (/^5\d\d$/.test(String(status))) subsegment.addFaultFlag();
  else if (/^4\d\d$/.test(String(status))) subsegment.addErrorFlag();
};

const XRAY_PLUGIN_NAME = 'XRaySDKInstrumentation';

/** What captureAWSv3Client uses of a client: its middleware stack, and its region. */
interface AwsClient {
  middlewareStack: MiddlewareStack;
  config: { region: () => Promise<string> };
}

const xrayMiddleware =
  (config: AwsClient['config']): Middleware =>
  (next, context) =>
  async (args) => {
    const segment = getSegment();
    const { clientName, commandName } = context;
    const input = isRecord(args?.input) ? args.input : {};
    const commandOperation = commandName.slice(0, -'Command'.length);
    const operation = commandOperation.charAt(0).toLowerCase() + commandOperation.slice(1);
    const service = clientName.slice(0, -'Client'.length);
    if (!segment) {
      logger.info(
        `Call ${service}.${operation} is missing the sub/segment context for automatic mode. Ignoring.`,
      );
      return next(args);
    }
    const subsegment = segment.notTraced
      ? segment.addNewSubsegmentWithoutSampling(service)
      : segment.addNewSubsegment(service);
    subsegment.addAttribute('namespace', 'aws');
    // The facade: a subsegment's own segment, or the segment itself.
    const root = segment instanceof Subsegment ? segment.segment : segment;
    let traceHeader = `Root=${root?.trace_id};Parent=${subsegment.id};Sampled=${subsegment.notTraced ? '0' : '1'}`;
    const data = root?.additionalTraceData;
    if (data != null) for (const [key, value] of Object.entries(data)) traceHeader += `;${key}=${value}`;
    if (!segment.noOp) args.request.headers['X-Amzn-Trace-Id'] = traceHeader;
    const record = async (result: HandlerResult | undefined, error?: Fields) => {
      const metadata: CallMetadata =
        result?.output?.$metadata ?? (isRecord(error?.$metadata) ? error.$metadata : {});
      const region = await config.region();
      subsegment.addAttribute('aws', awsFields(service, operation, region, input, result?.output, metadata));
      const http = httpFields(metadata, result?.response);
      subsegment.addAttribute('http', http);
      addFlags(http, subsegment, error);
    };
    try {
      const result = await next(args);
      if (!result) throw new Error('Failed to get response from instrumented AWS Client.');
      await record(result);
      subsegment.close();
      return result;
    } catch (caught) {
      const error: Fields = isRecord(caught) ? caught : {};
      if (error.$metadata) await record(undefined, error);
      subsegment.close(
        { message: error.message, name: error.name, stack: error.stack || new Error().stack },
        true,
      );
      throw caught;
    }
  };

export const captureAWSv3Client = <Client extends AwsClient>(client: Client): Client => {
  client.middlewareStack.remove(XRAY_PLUGIN_NAME);
  client.middlewareStack.use({
    applyToStack: (stack) =>
      stack.add(xrayMiddleware(client.config), { name: XRAY_PLUGIN_NAME, step: 'build' }),
  });
  return client;
};

// ---------------------------------------------------------------------------------------------
// What the functions never call

export const captureHTTPsGlobal = (): void => {};

const notBundled = (name: string, instead?: string) => (): never => {
  throw new Error(
    `${name} is not bundled in cognito-user-sync's Lambda zips${instead ? `; ${instead}` : ''}`,
  );
};
export const captureAWS = notBundled('captureAWS (AWS SDK v2)', 'use captureAWSv3Client');
export const captureAWSClient = notBundled('captureAWSClient (AWS SDK v2)', 'use captureAWSv3Client');
export const getNamespace = notBundled('getNamespace (the cls-hooked namespace)');

export default {
  Segment,
  Subsegment,
  captureAWS,
  captureAWSClient,
  captureAWSv3Client,
  captureAsyncFunc,
  captureFunc,
  captureHTTPsGlobal,
  getNamespace,
  getSegment,
  setSegment,
  setContextMissingStrategy,
  setDaemonAddress,
  setLogger,
};
