// The User Service of the benchmark, in its own process (run by bench/run.ts under Node 22 with
// tsx): the project's dev User Service, requiring an API key, with keep-alive (Node's default).
// The parent reads its URL and asks for counts or a reset over the IPC channel.

import { startDevUserService } from '../../src/dev/user-service.js';

const apiKey = process.env.BENCH_API_KEY;
if (!apiKey) throw new Error('BENCH_API_KEY is not set');

const service = await startDevUserService({ apiKeys: [apiKey] });

process.on('message', (message: { op: string }) => {
  if (message.op === 'stats') {
    const statuses: Record<string, number> = {};
    for (const { status } of service.requests) statuses[status] = (statuses[status] ?? 0) + 1;
    process.send?.({ op: 'stats', users: service.users.size, requests: service.requests.length, statuses });
  } else if (message.op === 'reset') {
    service.users.clear();
    service.requests.length = 0;
    process.send?.({ op: 'reset' });
  }
});
process.on('disconnect', () => {
  void service.close().then(() => process.exit(0));
});
process.send?.({ op: 'ready', url: service.url, node: process.version });
