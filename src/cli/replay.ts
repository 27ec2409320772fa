// `replay`: after the cause is fixed, moves dead-lettered messages back to the queue they came
// from (the retry queue, or the changes queue), where the workers send them again with the same
// idempotency key.

import { SQSClient } from '@aws-sdk/client-sqs';
import { AWS_CLIENT_PROFILES, regionOfQueueUrl } from '../clients/aws.js';
import { moveDeadLetters } from '../clients/dead-letters.js';
import { numberIn, oneOf, parseQueueUrl, readVariable } from '../config.js';
import { UsageError } from '../errors.js';
import { command, option, text, toggle } from './flags.js';
import { underControl } from './run.js';
import type { Io } from './usage.js';

/** Each pair's queues, by the flag and the variable that name them (status names them alike). */
const PAIRS = {
  retry: {
    from: { flag: 'dead-letter-queue-url', variable: 'DEAD_LETTER_QUEUE_URL' },
    to: { flag: 'retry-queue-url', variable: 'RETRY_QUEUE_URL' },
  },
  changes: {
    from: { flag: 'changes-dead-letter-queue-url', variable: 'CHANGES_DEAD_LETTER_QUEUE_URL' },
    to: { flag: 'changes-queue-url', variable: 'CHANGES_QUEUE_URL' },
  },
} as const;

const ENDS = { from: 'dead-letter queue', to: 'queue to move to' } as const;

const REPLAY = command({
  synopsis: 'Usage: cognito-user-sync replay [--queue retry|changes] [options]',
  about: `Moves the messages of a dead-letter queue back to the queue they came from, bodies and
attributes unchanged: with an SQS message move task when the endpoint offers one and neither
--max nor --reason is given, message by message otherwise (it says why when it falls back). A
message moved that comes back to the dead-letter queue before the move ends (its cause is not
fixed) is not moved again: the run says how many did. --dry-run needs the dead-letter queue only.
The region is the queues' (from their URLs), else AWS_REGION. With --queue changes, the retry
pair's flags still name the changes pair's queues, as runbooks written before it had its own do
(a line says the names to use).`,
  flags: {
    queue: option(
      'retry|changes',
      oneOf(['retry', 'changes'] as const),
      `which pair: the retry queue and its dead-letter queue (default),
or the changes queue and its dead-letter queue`,
      'retry',
    ),
    'dry-run': toggle('count the dead letters by reason; move nothing'),
    reason: text(
      'CODE',
      `move only those whose reason is CODE (e.g. http-422; "none" for
those SQS moved after maxReceiveCount)`,
    ),
    max: option('N', numberIn({ min: 1 }), 'move at most N messages'),
    'dead-letter-queue-url': option(
      'URL',
      parseQueueUrl,
      'the dead-letter queue (default: DEAD_LETTER_QUEUE_URL)',
    ),
    'retry-queue-url': option('URL', parseQueueUrl, 'the queue to move to (default: RETRY_QUEUE_URL)'),
    'changes-dead-letter-queue-url': option(
      'URL',
      parseQueueUrl,
      'with --queue changes, the dead-letter queue (default:\nCHANGES_DEAD_LETTER_QUEUE_URL)',
    ),
    'changes-queue-url': option(
      'URL',
      parseQueueUrl,
      'with --queue changes, the queue to move to (default: CHANGES_QUEUE_URL)',
    ),
  },
  footer: `Read one by one, each dead letter read is held until the read ends, then shown again: stopped by
Ctrl-C, SIGTERM or SIGHUP, replay shows them again first (killed outright, they show again within
15 minutes).
Exit status: 0 when the messages moved (or, with --dry-run, were counted); 1 for an error; 2 for a
usage error; 129, 130 or 143 when stopped by SIGHUP, Ctrl-C or SIGTERM.`,
});

export const REPLAY_USAGE = REPLAY.usage;

export const replay = async (args: string[], io: Io): Promise<number> => {
  const flags = REPLAY.read(args, io);
  if (flags === undefined) return 0;
  const { values } = flags;
  const pair = PAIRS[values.queue];
  if (values.queue === 'retry') {
    for (const end of [PAIRS.changes.from, PAIRS.changes.to]) {
      if (values[end.flag] !== undefined)
        throw new UsageError(`--${end.flag} is a queue of the changes pair: add --queue changes`);
    }
  }
  /** The URL a flag gives for one end of the pair, and the flag's name. */
  const renamed: [old: string, own: string][] = [];
  const flagged = (end: keyof typeof ENDS) => {
    const own = pair[end].flag;
    const old = PAIRS.retry[end].flag;
    if (own === old) return { url: values[own], flag: own };
    // With --queue changes, the retry pair's name is read as the changes pair's (older runbooks).
    if (values[own] !== undefined && values[old] !== undefined) {
      throw new UsageError(`--${old} and --${own} both name the ${ENDS[end]}: give --${own} only`);
    }
    if (values[old] !== undefined) {
      renamed.push([`--${old}`, `--${own}`]);
      return { url: values[old], flag: old };
    }
    return { url: values[own], flag: own };
  };
  const target = flagged('to');
  const source = flagged('from');
  if (renamed.length > 0) {
    const read = renamed.map(([old, own], n) => (n === 0 ? `${old} is read as ${own}` : `${old} as ${own}`));
    io.err(
      `cognito-user-sync: with --queue changes, ${read.join(', and ')}: the name${renamed.length > 1 ? 's' : ''} to use from now on`,
    );
  }
  // A flag, else the pair's variable: each checked as every queue URL is.
  const from = source.url ?? readVariable(process.env, pair.from.variable, parseQueueUrl);
  const dryRun = values['dry-run'] ?? false;
  // A dry run only counts the dead letters: it needs no target.
  const to = target.url ?? (dryRun ? undefined : readVariable(process.env, pair.to.variable, parseQueueUrl));
  if (!from) {
    throw new UsageError(`no dead-letter queue: pass --${pair.from.flag} or set ${pair.from.variable}`);
  }
  if (!to && !dryRun)
    throw new UsageError(`no queue to move to: pass --${pair.to.flag} or set ${pair.to.variable}`);

  const progress = (moved: number, total: number | undefined) =>
    process.stderr.write(`moving: ${moved}${total === undefined ? '' : ` of ${total}`} messages\n`);
  const region = regionOfQueueUrl(from);
  return underControl(
    io,
    async (control) => {
      const result = await moveDeadLetters(
        new SQSClient({ ...AWS_CLIENT_PROFILES.cli, ...(region && { region }) }),
        {
          from,
          fromSource: source.url ? `--${source.flag}` : pair.from.variable,
          to: to ?? from,
          ...(values.max !== undefined && { max: values.max }),
          ...(values.reason !== undefined && { reason: values.reason }),
          dryRun,
          onProgress: progress,
          signal: control.signal,
        },
      );
      if (control.stoppedBy()) {
        io.err('Stopped before the dead-letter queue was read through: the figures are of what was read.');
      } else if (result.unread) {
        io.err(
          'The read stopped before the dead-letter queue was read through (too many messages to hold at once, or it took longer than their hold): run again for the rest.',
        );
      }
      if (result.stillHidden) {
        io.err(
          `${result.stillHidden} dead letters read could not be shown again at once; they show again within ${Math.round((result.hiddenSeconds ?? 0) / 60)} minutes.`,
        );
      }
      const byReason = Object.entries(result.reasons ?? {})
        .sort(([, a], [, b]) => b - a)
        .map(([reason, count]) => `${reason}: ${count}`)
        .join(', ');
      if (result.method === 'dry-run') {
        const total = Object.values(result.reasons ?? {}).reduce((sum, count) => sum + count, 0);
        io.out(
          `Dry run: ${total} dead letter${total === 1 ? '' : 's'} would move${byReason ? ` (${byReason})` : ''}.`,
        );
        return control.exitCode() ?? 0;
      }
      if (result.fallbackReason)
        io.err(`No message move task (${result.fallbackReason}); moving one by one.`);
      const how = result.method === 'message-move-task' ? 'by an SQS message move task' : 'one by one';
      io.out(`Moved ${result.moved} message${result.moved === 1 ? '' : 's'} back, ${how}.`);
      if (result.cameBack) {
        io.err(
          `${result.cameBack} of them came back to the dead-letter queue before the move ended: their cause is not fixed (see their reason with --dry-run).`,
        );
      }
      return control.exitCode() ?? 0;
    },
    'stopping after the receive in hand; the dead letters read are shown again first.',
  );
};
