// The X-Ray SDK stand-in the Lambda zips bundle (src/stand-ins/xray-sdk.ts) against the real
// aws-xray-sdk-core: the same scenario (tests/fixtures/xray-scenario.ts: the Powertools tracer,
// middy, the zips' AWS clients and fetch) is bundled over each and run as Lambda runs a function,
// and what reaches the X-Ray daemon must be the same document for document, as must the trace
// headers sent downstream. Only ids (random) and times differ; they are checked for shape.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LAMBDA_ONLY } from '../../scripts/package.mjs';
import {
  after,
  type Responder,
  type ScriptedServer,
  startScriptedServer,
} from '../helpers/scripted-server.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const SCENARIO = new URL('../fixtures/xray-scenario.ts', import.meta.url).pathname;
const ROOT = '1-6745f1a0-0123456789abcdef01234567';
const header = (root: string, rest: string) => `Root=${root};${rest}`;

/** The invocations: each with the trace header Lambda would give it. */
const INVOCATIONS = [
  {
    traceHeader: header(ROOT, 'Parent=53995c3f42cd8ad8;Sampled=1'),
    steps: ['annotate', 'secret:ok', 'fetch:ok', 'sqs:send'],
  },
  {
    traceHeader: header(
      '1-6745f1a1-00000000000000000000000a',
      'Parent=1111111111111111;Sampled=1;Lineage=a87bd80c:0',
    ),
    steps: ['secret:missing', 'fetch:missing', 'secret:throttled', 'secret:broken'],
  },
  {
    traceHeader: header('1-6745f1a2-00000000000000000000000b', 'Parent=2222222222222222;Sampled=1'),
    steps: ['nested', 'throw'],
  },
  {
    traceHeader: header('1-6745f1a2-000000000000000000000010', 'Parent=2222222222222223;Sampled=1'),
    steps: ['nested:throws'],
  },
  // Not sampled: nothing is sent, and downstream is told so.
  {
    traceHeader: header('1-6745f1a3-00000000000000000000000c', 'Parent=3333333333333333;Sampled=0'),
    steps: ['secret:ok', 'fetch:ok'],
  },
  // A root alone: the SDK's no-op segment, which sends no trace header downstream.
  { traceHeader: 'Root=1-6745f1a4-00000000000000000000000d', steps: ['secret:ok'] },
  // No trace header at all (tracing off for this invocation): the context missing strategy speaks.
  { traceHeader: undefined, steps: ['secret:ok'] },
  {
    traceHeader: header('1-6745f1a5-00000000000000000000000e', 'Parent=5555555555555555;Sampled=1'),
    steps: ['abandon'],
  },
  {
    traceHeader: header('1-6745f1a6-00000000000000000000000f', 'Parent=6666666666666666;Sampled=1'),
    steps: ['secret:ok'],
  },
];

const awsJson = (status: number, body: unknown, requestId: string) => (response: ServerResponse) => {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId });
  response.end(JSON.stringify(body));
};

/** Requests answered in this run: the request ids AWS gives, the same in both runs. */
let answered = 0;

/** AWS (Secrets Manager and SQS over AWS JSON) and the User Service, on one loopback server. */
const answer: Responder = (request, response, n) => {
  const target = String(request.headers['x-amz-target'] ?? '');
  const input = (request.json ?? {}) as Record<string, unknown>;
  const requestId = `request-${answered++}`;
  if (target === 'secretsmanager.GetSecretValue') {
    const reply = {
      ok: awsJson(200, { Name: 'ok', SecretString: '{"apiKey":"k"}' }, requestId),
      slow: awsJson(200, { Name: 'slow', SecretString: '{}' }, requestId),
      missing: awsJson(400, { __type: 'ResourceNotFoundException', message: 'no such secret' }, requestId),
      throttled: awsJson(400, { __type: 'ThrottlingException', message: 'Rate exceeded' }, requestId),
      broken: awsJson(500, { __type: 'InternalServiceError', message: 'try again' }, requestId),
    }[String(input.SecretId)];
    if (input.SecretId === 'slow') after(150, (_req, res) => reply?.(res))(request, response, n);
    else reply?.(response);
    return;
  }
  if (target === 'AmazonSQS.SendMessage') {
    const md5 = createHash('md5').update(String(input.MessageBody)).digest('hex');
    awsJson(200, { MessageId: 'message-1', MD5OfMessageBody: md5 }, requestId)(response);
    return;
  }
  const found = request.path.endsWith('/ok');
  response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
  response.end(found ? '{"ok":true}' : '{"error":"not_found"}');
};

interface Outcome {
  documents: Record<string, unknown>[];
  traceHeaders: string[];
  stderr: string;
}

/** Bundles the scenario over `xray` (the real SDK, or the stand-in) and runs it as Lambda would. */
const runScenario = async (
  dir: string,
  server: ScriptedServer,
  xray: 'real' | 'stand-in',
): Promise<Outcome> => {
  const { 'aws-xray-sdk-core': standIn, ...alias } = LAMBDA_ONLY.alias ?? {};
  if (standIn === undefined) throw new Error('the zips no longer bundle an X-Ray SDK stand-in');
  const outfile = join(dir, xray, 'index.cjs');
  await build({
    entryPoints: [SCENARIO],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    mainFields: ['module', 'main'],
    logLevel: 'warning',
    alias: xray === 'real' ? alias : { ...alias, 'aws-xray-sdk-core': standIn },
    plugins: LAMBDA_ONLY.plugins,
  });
  const firstRequest = server.requests.length;
  answered = 0;
  const daemon = createSocket('udp4');
  const documents: Record<string, unknown>[] = [];
  daemon.on('message', (message) => {
    const [protocolHeader, document] = message.toString('utf8').split('\n');
    expect(protocolHeader).toBe('{"format":"json","version":1}');
    documents.push(JSON.parse(document ?? 'null'));
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  try {
    const { stderr } = await run(process.execPath, [outfile], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        LAMBDA_TASK_ROOT: join(dir, xray),
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        AWS_LAMBDA_FUNCTION_NAME: 'xray-scenario',
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as AddressInfo).port}`,
        _HANDLER: 'index.handler',
        SCENARIO_ENDPOINT: new URL(server.url).origin,
        SCENARIO_INVOCATIONS: JSON.stringify(INVOCATIONS),
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const traceHeaders = server.requests
      .slice(firstRequest)
      .map((request) => String(request.headers['x-amzn-trace-id'] ?? '-'));
    return { documents, traceHeaders, stderr };
  } finally {
    daemon.close();
  }
};

/**
 * Ids become their order of first appearance (documents first, then headers), times are dropped
 * once checked, and an exception's stack is kept as its first frame's function (line numbers
 * differ between the two bundles).
 */
const normalize = ({ documents, traceHeaders }: Outcome) => {
  const ids = new Map<string, string>();
  const idOf = (id: string) => {
    if (!ids.has(id)) ids.set(id, `id-${ids.size}`);
    return ids.get(id);
  };
  const walk = (value: unknown, key?: string): unknown => {
    if (Array.isArray(value)) {
      if (key === 'stack')
        return { frames: value.length > 0, first: (value[0] as { label?: string })?.label };
      return value.map((item) => walk(item));
    }
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value).filter(([name]) => name !== 'start_time' && name !== 'end_time');
      return Object.fromEntries(entries.map(([name, item]) => [name, walk(item, name)]));
    }
    if (typeof value === 'string' && (key === 'id' || key === 'parent_id')) return idOf(value);
    return value;
  };
  const normalized = documents.map((document) => walk(document));
  return {
    documents: normalized,
    traceHeaders: traceHeaders.map((value) =>
      value.replace(/Parent=([0-9a-f]{16})/, (_all, id) => `Parent=${idOf(id)}`),
    ),
  };
};

describe('the X-Ray SDK stand-in, against aws-xray-sdk-core under the Powertools tracer', () => {
  let dir: string;
  let server: ScriptedServer;
  let real: Outcome;
  let standIn: Outcome;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xray-sdk-'));
    // One server for both runs: the same endpoint, so the same queue URL in the documents.
    server = await startScriptedServer([answer]);
    real = await runScenario(dir, server, 'real');
    standIn = await runScenario(dir, server, 'stand-in');
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the daemon the same documents, in the same order', () => {
    // The scenario is not empty: handler subsegments, AWS calls, fetches, nested and failed ones.
    const names = real.documents.map((document) => document.name);
    expect(names).toEqual(
      expect.arrayContaining(['## index.handler', 'SecretsManager', 'SQS', '127.0.0.1', '### inner']),
    );
    expect(normalize(standIn).documents).toEqual(normalize(real).documents);
    // Metadata JSON cannot hold as such (a BigInt) is written as the SDK writes it.
    expect(JSON.stringify(standIn.documents)).toContain('"size":"12345678901234567890"');
  });

  it('sends downstream the same trace headers (none when the segment is a no-op)', () => {
    expect(real.traceHeaders).toContain('-');
    expect(real.traceHeaders.some((value) => value.includes(';Lineage=a87bd80c:0'))).toBe(true);
    expect(normalize(standIn).traceHeaders).toEqual(normalize(real).traceHeaders);
  });

  it('records the AWS fields, flags and errors X-Ray shows for each call', () => {
    interface Document {
      name: string;
      aws?: unknown;
      http?: { response?: unknown };
      cause?: { exceptions?: { type: string }[] };
    }
    const documents = standIn.documents as unknown as Document[];
    const send = documents.find((document) => document.name === 'SQS');
    expect(send?.aws).toEqual({
      operation: 'SendMessage',
      region: 'eu-west-1',
      request_id: expect.any(String),
      retries: 1,
      delay_seconds: 5,
      queue_url: expect.stringMatching(/\/123456789012\/retry$/),
      message_attribute_names: ['kind'],
      message_id: 'message-1',
    });
    const flagsOf = (id: string) =>
      documents
        .filter((document) => document.name === 'SecretsManager')
        .find((document) => document.http?.response && document.cause?.exceptions?.[0]?.type === id);
    expect(flagsOf('ResourceNotFoundException')).toMatchObject({ error: true, fault: true });
    expect(flagsOf('ThrottlingException')).toMatchObject({ throttle: true, error: true });
    expect(flagsOf('InternalServiceError')).toMatchObject({ fault: true });
  });

  it('keeps ids and times in the shape X-Ray takes', () => {
    for (const document of standIn.documents) {
      expect(document).toMatchObject({ type: 'subsegment', id: expect.stringMatching(/^[0-9a-f]{16}$/) });
      expect(document.end_time as number).toBeGreaterThanOrEqual(document.start_time as number);
    }
  });

  it('sends nothing for an unsampled invocation, and says when there is no trace header', () => {
    const traces = new Set(standIn.documents.map((document) => document.trace_id));
    expect(traces).not.toContain('1-6745f1a3-00000000000000000000000c');
    expect(traces).not.toContain('1-6745f1a4-00000000000000000000000d');
    for (const outcome of [real, standIn])
      expect(outcome.stderr).toContain('Missing AWS Lambda trace data for X-Ray');
  });
});

describe('the X-Ray SDK stand-in on its own', () => {
  it('captures for SQS what the SDK’s whitelist names, entry for entry', async () => {
    const { WHITELIST } = await import('../../src/stand-ins/xray-sdk.js');
    const sdk = JSON.parse(
      await readFile(require.resolve('aws-xray-sdk-core/dist/lib/resources/aws_whitelist.json'), 'utf8'),
    );
    expect(WHITELIST.sqs).toEqual(sdk.services.sqs);
  });

  it('sends to the UDP address of a "tcp:… udp:…" AWS_XRAY_DAEMON_ADDRESS', async () => {
    const daemon = createSocket('udp4');
    const received = new Promise<string>((resolve) =>
      daemon.once('message', (message) => resolve(message.toString())),
    );
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    const { port } = daemon.address() as AddressInfo;
    vi.resetModules();
    vi.stubEnv('LAMBDA_TASK_ROOT', '/var/task');
    vi.stubEnv('AWS_XRAY_DAEMON_ADDRESS', `tcp:127.0.0.1:2000 udp:127.0.0.1:${port}`);
    vi.stubEnv('_X_AMZN_TRACE_ID', `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`);
    try {
      const xray = await import('../../src/stand-ins/xray-sdk.js');
      const segment = xray.getSegment();
      expect(segment).toBeInstanceOf(xray.Segment);
      segment?.addNewSubsegment('## index.handler').close();
      expect(JSON.parse((await received).split('\n')[1] ?? '')).toMatchObject({
        name: '## index.handler',
        trace_id: ROOT,
        parent_id: '53995c3f42cd8ad8',
      });
    } finally {
      daemon.close();
    }
  });

  it('logs a document too large for a datagram, and goes on sending the next ones', async () => {
    const daemon = createSocket('udp4');
    const received: string[] = [];
    daemon.on('message', (message) => received.push(message.toString()));
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    vi.resetModules();
    vi.stubEnv('LAMBDA_TASK_ROOT', '/var/task');
    vi.stubEnv('AWS_XRAY_DAEMON_ADDRESS', `127.0.0.1:${(daemon.address() as AddressInfo).port}`);
    vi.stubEnv('_X_AMZN_TRACE_ID', `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`);
    try {
      const xray = await import('../../src/stand-ins/xray-sdk.js');
      const errors: unknown[] = [];
      xray.setLogger({ error: (...args: unknown[]) => errors.push(args), warn() {}, info() {}, debug() {} });
      const segment = xray.getSegment();
      const huge = segment?.addNewSubsegment('huge');
      huge?.addMetadata('blob', 'x'.repeat(70_000));
      huge?.close();
      segment?.addNewSubsegment('after').close();
      await vi.waitFor(() =>
        expect(received.some((datagram) => datagram.includes('"name":"after"'))).toBe(true),
      );
      expect(received.some((datagram) => datagram.includes('"name":"huge"'))).toBe(false);
      expect(JSON.stringify(errors)).toContain('too large to send');
    } finally {
      daemon.close();
    }
  });

  it('refuses a daemon address without a port, as the SDK does', async () => {
    vi.resetModules();
    vi.stubEnv('AWS_XRAY_DAEMON_ADDRESS', '127.0.0.1');
    await expect(import('../../src/stand-ins/xray-sdk.js')).rejects.toThrow(
      'You must specify an ip and port',
    );
  });
});
