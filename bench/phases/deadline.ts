// Deadline adherence: the shipped handler against a User Service that accepts connections and
// never answers, once per SYNC_DEADLINE_MS; every user must reach the retry queue (a real send).

import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { createQueues, queueDepth } from '../lib/aws-fixtures.js';
import { invoke, type Setup } from '../lib/setup.js';
import { median } from '../lib/stats.js';

/** What bench/lib/invoke.mjs reports in BENCH_MODE=deadline. */
interface DeadlineFigures {
  node: string;
  importMs: number;
  iterations: number;
  returnedEvent: number;
  elapsedMs: number[];
}

export interface DeadlineRun {
  syncDeadlineMs: number;
  invocations: number;
  returnedEvent: number;
  maxMs: number;
  medianMs: number;
  /** The cold one: it fetches the secret too. */
  firstMs: number | undefined;
  queued: number;
  elapsedMs: number[];
}

export type DeadlineResult = DeadlineRun[];

const startBlackhole = async () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read the request, never answer
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/api/v1/users`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
};

export const deadline = async (
  setup: Setup,
  { deadlines, invocations }: { deadlines: number[]; invocations: number },
): Promise<DeadlineResult> => {
  const blackhole = await startBlackhole();
  try {
    // Each deadline in its own process, all at once: they spend their time waiting.
    return await Promise.all(
      deadlines.map(async (syncDeadlineMs) => {
        const queues = await createQueues(setup.moto, `bench-deadline-${syncDeadlineMs}`);
        const measured = await invoke<DeadlineFigures>(setup, 'shipped', {
          BENCH_MODE: 'deadline',
          BENCH_ITERATIONS: String(invocations),
          USER_SERVICE_URL: blackhole.url,
          SYNC_DEADLINE_MS: String(syncDeadlineMs),
          RETRY_QUEUE_URL: queues.retryQueueUrl,
          DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
        });
        const { elapsedMs } = measured.result;
        const queued = await queueDepth(setup.moto, queues.retryQueueUrl);
        if (queued !== invocations) {
          throw new Error(`${queued} of ${invocations} users queued:\n${measured.stdoutTail}`);
        }
        return {
          syncDeadlineMs,
          invocations: elapsedMs.length,
          returnedEvent: measured.result.returnedEvent,
          maxMs: Math.max(...elapsedMs),
          medianMs: median(elapsedMs),
          firstMs: elapsedMs[0],
          queued,
          elapsedMs,
        };
      }),
    );
  } finally {
    blackhole.close();
  }
};
