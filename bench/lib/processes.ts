// The processes around a measurement: the Node 22 binary, a Lambda-like environment, a measured
// child whose stdout is a drained pipe and whose figures come back on fd 3, the User Service
// process, and a UDP sink standing in for the X-Ray daemon.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { REGION } from './aws-fixtures.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The node@22 binary npx caches; spawned directly, a process starts in tens of ms, not seconds. */
export const resolveNode22 = (): { path: string; version: string } => {
  const path = execFileSync('npx', ['-y', 'node@22', '-p', 'process.execPath'], { encoding: 'utf8' }).trim();
  const version = execFileSync(path, ['-v'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v22.')) throw new Error(`npx node@22 gave ${path}, which is ${version}`);
  return { path, version };
};

/** What the nodejs22.x runtime's bootstrap passes to node for a 256 MB function. */
export const lambdaNodeFlags = (memoryMb = 256): string[] => {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    '--expose-gc',
    '--max-http-header-size=81920',
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
};

export type Env = Record<string, string>;

/**
 * The environment Lambda gives a nodejs22.x function with active tracing, plus the role's
 * credentials (fake ones, for moto). No NODE_OPTIONS, as the template and the Terraform module
 * set none: --enable-source-maps stays off (a logged error's stack is mapped by the handler
 * itself, src/stack-traces.ts). Nothing is inherited from the benchmark's own environment but PATH.
 */
export const lambdaEnv = (
  {
    functionName,
    taskRoot,
    xrayDaemon,
    awsEndpoint,
  }: {
    functionName: string;
    taskRoot: string;
    xrayDaemon: string;
    awsEndpoint: string;
  },
  extra: Env,
): Env => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  LANG: 'en_US.UTF-8',
  TZ: ':UTC',
  LAMBDA_TASK_ROOT: taskRoot,
  LAMBDA_RUNTIME_DIR: '/var/runtime',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: functionName,
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
  AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
  AWS_REGION: REGION,
  AWS_DEFAULT_REGION: REGION,
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: 'testing',
  AWS_ENDPOINT_URL: awsEndpoint,
  _HANDLER: 'index.handler',
  _X_AMZN_TRACE_ID: 'Root=1-6745f1a0-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1',
  AWS_XRAY_DAEMON_ADDRESS: xrayDaemon,
  AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  ...extra,
});

export interface MeasuredRun<T> {
  /** What the process wrote to fd 3. */
  result: T;
  /** The handler's log output, drained and counted, not kept. */
  stdoutBytes: number;
  stdoutLines: number;
  /** The last few KB of it, to say what went wrong. */
  stdoutTail: string;
  stderr: string;
  /** From spawn to exit, as the parent saw it (process start-up included). */
  wallMs: number;
}

const drain = (stream: Readable | null, onChunk: (chunk: Buffer) => void) => stream?.on('data', onChunk);

/** Runs `script` under `node` with `env`; rejects when it fails or reports nothing on fd 3. */
export const runMeasured = async <T>(
  node: string,
  script: string,
  {
    env,
    cwd,
    args = [],
    nodeFlags = [],
    onStderr,
  }: {
    env: Env;
    cwd: string;
    args?: string[];
    nodeFlags?: string[];
    /** Each chunk of its stderr as it comes (its progress lines), besides the tail kept. */
    onStderr?: (chunk: Buffer) => void;
  },
): Promise<MeasuredRun<T>> => {
  const started = performance.now();
  const child = spawn(node, [...nodeFlags, script, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let stdoutBytes = 0;
  let stdoutLines = 0;
  let stdoutTail = '';
  let stderr = '';
  const figures: Buffer[] = [];
  drain(child.stdout, (chunk) => {
    stdoutBytes += chunk.length;
    for (const byte of chunk) if (byte === 10) stdoutLines += 1;
    stdoutTail = (stdoutTail + chunk.toString('utf8')).slice(-4000);
  });
  drain(child.stderr, (chunk) => {
    onStderr?.(chunk);
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  drain(child.stdio[3] as Readable, (chunk) => figures.push(chunk));
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  const wallMs = performance.now() - started;
  const text = Buffer.concat(figures).toString('utf8');
  if (code !== 0 || text === '') {
    throw new Error(`${script} exited with ${code ?? signal}:\n${stderr.slice(-4000)}`);
  }
  return { result: JSON.parse(text) as T, stdoutBytes, stdoutLines, stdoutTail, stderr, wallMs };
};

/** One X-Ray segment document as the SDK sends it (only what the benchmark reads). */
export interface XraySegment {
  name: string;
  start_time: number;
  end_time?: number;
  namespace?: string;
  aws?: { operation?: string };
  http?: { request?: { url?: string } };
  subsegments?: XraySegment[];
}

/** Stands in for the X-Ray daemon: counts the UDP datagrams the tracer sends, keeps them on demand. */
export class XraySink {
  private constructor(
    private readonly socket: Socket,
    readonly address: string,
  ) {}

  datagrams = 0;
  private kept: XraySegment[] = [];
  keep = false;

  static async start(): Promise<XraySink> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const { port } = socket.address() as AddressInfo;
    const sink = new XraySink(socket, `127.0.0.1:${port}`);
    socket.on('message', (message) => {
      sink.datagrams += 1;
      if (!sink.keep) return;
      // A header line, then the segment document.
      const body = message.toString('utf8').split('\n')[1];
      try {
        if (body) sink.kept.push(JSON.parse(body) as XraySegment);
      } catch {
        // not a segment: ignore
      }
    });
    return sink;
  }

  /** The segments kept since the last call. */
  take(): XraySegment[] {
    const segments = this.kept;
    this.kept = [];
    return segments;
  }

  close(): void {
    this.socket.close();
  }
}

export interface UserServiceStats {
  users: number;
  requests: number;
  statuses: Record<string, number>;
}

/** The dev User Service in its own Node 22 process (through tsx), asked for counts over IPC. */
export class UserServiceProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly node: string,
  ) {}

  static async start(node: string, apiKey: string): Promise<UserServiceProcess> {
    const child = spawn(node, ['--import', 'tsx', 'bench/lib/user-service.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', BENCH_API_KEY: apiKey },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const [ready] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(() => {
        throw new Error('the User Service process exited at start');
      }),
    ])) as [{ url: string; node: string }];
    return new UserServiceProcess(child, ready.url, ready.node);
  }

  private async ask<T>(op: string): Promise<T> {
    const answer = once(this.child, 'message') as Promise<[T]>;
    this.child.send({ op });
    return (await answer)[0];
  }

  stats(): Promise<UserServiceStats> {
    return this.ask<UserServiceStats>('stats');
  }

  async reset(): Promise<void> {
    await this.ask('reset');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.disconnect();
    await exited;
  }
}
