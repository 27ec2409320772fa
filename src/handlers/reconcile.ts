// The scheduled reconcile (work in progress): started by a schedule, continued from its own queue.
import type { Context } from 'aws-lambda';

export const handler = async (_event: unknown, _context: Context): Promise<void> => undefined;
