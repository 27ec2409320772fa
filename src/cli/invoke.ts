// `invoke [event.json]`: runs the real post-confirmation handler chain on an event, against
// USER_SERVICE_URL or, when that is unset, an embedded dev User Service, and prints what
// happened and the user the service stored.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type DevUserService, startDevUserService } from '../dev/user-service.js';
import { decide } from '../domain/cognito-event.js';
import { UsageError } from '../errors.js';
import { command } from './flags.js';
import { createLambdaContext } from './lambda-context.js';
import type { Io } from './usage.js';

const INVOKE = command({
  synopsis: 'Usage: cognito-user-sync invoke [event.json]',
  about: `Runs the post-confirmation handler, with its whole middleware chain, on a Cognito event
(default: events/post-confirmation-signup.json). The User Service is USER_SERVICE_URL when
set, else a dev User Service started on a free loopback port for the run.`,
  flags: {},
  footer: `Exit status: 0 when the user was synced (created, or there already), or when the event has
nothing to sync; 1 when it was not (queued, dropped) or the event did not come back unchanged;
2 for a usage error. So it serves as a smoke test.`,
  positionals: true,
});

export const INVOKE_USAGE = INVOKE.usage;

/** The sample sign-up: beside the sources (src/cli/) in a checkout, beside dist/cli.mjs in the package. */
const DEFAULT_EVENT = fileURLToPath(
  ['../../events/', '../events/']
    .map((folder) => new URL(`${folder}post-confirmation-signup.json`, import.meta.url))
    .find((url) => existsSync(url)) ?? new URL('../../events/post-confirmation-signup.json', import.meta.url),
);

const readEvent = async (path: string): Promise<unknown> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the event file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`the event file ${path} is not valid JSON`);
  }
};

/** Runs `work` while copying every line written to stdout and stderr into `lines`. */
const teeOutput = async <T>(lines: string[], work: () => Promise<T>): Promise<T> => {
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  streams.forEach((stream, i) => {
    const write = writes[i] as typeof stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return write.call(stream, chunk, ...rest);
    }) as typeof stream.write;
  });
  try {
    return await work();
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
  }
};

/** The handler's own report of the outcome: the log line that carries `outcome`. */
const outcomeOf = (lines: string[]): Record<string, unknown> | undefined => {
  for (const line of lines.toReversed()) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (typeof entry.outcome === 'string') return entry;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
};

export const invoke = async (args: string[], io: Io): Promise<number> => {
  const flags = INVOKE.read(args, io);
  if (flags === undefined) return 0;
  const { positionals } = flags;
  if (positionals.length > 1) throw new UsageError('invoke takes at most one event file');
  const eventPath = positionals[0] ?? DEFAULT_EVENT;
  const event = await readEvent(eventPath);
  const before = structuredClone(event);

  let dev: DevUserService | undefined;
  if (!process.env.USER_SERVICE_URL) {
    const apiKey = process.env.USER_SERVICE_API_KEY;
    const signingSecret = process.env.USER_SERVICE_SIGNING_SECRET;
    dev = await startDevUserService({
      apiKeys: apiKey ? [apiKey] : [],
      signingSecrets: signingSecret ? [signingSecret] : [],
    });
    process.env.USER_SERVICE_URL = dev.url;
    io.out(`Started the dev User Service at ${dev.url}`);
  }
  try {
    io.out(`Invoking the post-confirmation handler on ${eventPath}`);
    const { handler } = await import('../handlers/post-confirmation.js');
    const lines: string[] = [];
    const started = performance.now();
    const result = await teeOutput(lines, () => handler(event, createLambdaContext()));
    const elapsedMs = Math.round(performance.now() - started);

    const returned = JSON.stringify(result) === JSON.stringify(before);
    const report = outcomeOf(lines);
    io.out('');
    io.out(
      `Returned to Cognito: ${returned ? 'the event, unchanged' : 'SOMETHING ELSE'} after ${elapsedMs} ms`,
    );
    if (report) {
      const details = ['reason', 'httpStatus', 'attempts', 'queue']
        .filter((key) => report[key] !== undefined)
        .map((key) => `${key} ${report[key]}`)
        .join(', ');
      io.out(`Outcome: ${report.outcome}${details ? ` (${details})` : ''}`);
    }
    const decision = decide(event);
    // A smoke test: the exit status says whether the user got to the User Service.
    const synced = report?.outcome === 'created' || report?.outcome === 'exists';
    const nothingToSync = report?.outcome === 'skipped';
    if (dev && decision.action === 'sync') {
      const stored = dev.users.get(decision.user.sub);
      io.out(
        stored
          ? `Stored by the dev User Service:\n${JSON.stringify(stored, null, 2)}`
          : 'The dev User Service stored nothing for this user.',
      );
    }
    if (!returned) return 1;
    if (synced || nothingToSync) return 0;
    io.err('The user was not synced: see the outcome above.');
    return 1;
  } finally {
    await dev?.close();
  }
};
