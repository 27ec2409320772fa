// `user-service`: runs the dev User Service alone, until interrupted.

import { parseArgs } from 'node:util';
import { startDevUserService } from '../dev/user-service.js';
import { UsageError } from '../errors.js';
import type { Io } from './usage.js';

export const USER_SERVICE_USAGE = `Usage: cognito-user-sync user-service [--port N] [--host H] [--api-key KEY]... [--signing-secret S]...

Runs the dev User Service, the User Service contract (openapi.yaml) in memory:
  POST   /api/v1/users              create: 201, 409 already_exists (known cognitoSub) or
                                    409 conflict (email held by another user)
  PATCH  /api/v1/users/{sub}        merge patch of email, fullName, status, updatedBy,
                                    cognitoLastModified: 200, 404, 409 conflict, 412 stale_write
  DELETE /api/v1/users/{sub}        204, 404 when already gone
  GET    /api/v1/users?limit=&cursor=&prefix=
                                    a page of users in cognitoSub order, with nextCursor
  GET    /api/v1/users/{sub}        one stored user (dev inspection, no key needed)
400/415/422 with a reason for a bad request; with keys or signing secrets set, the first four
answer 401 unless the request carries an accepted x-api-key and a valid signature.

Options:
  --port N        port to listen on (default 3000; 0 picks a free one)
  --host H        address to bind (default 127.0.0.1)
  --api-key KEY   require this x-api-key; repeat for several (default: USER_SERVICE_API_KEY, else none)
  --signing-secret S
                  require a signature by this whsec_ secret; repeat for several
                  (default: USER_SERVICE_SIGNING_SECRET, else none)
  -h, --help      show this help`;

export const userService = async (args: string[], io: Io): Promise<number> => {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '3000' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string', multiple: true },
      'signing-secret': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(USER_SERVICE_USAGE);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0 to 65535');
  const envKey = process.env.USER_SERVICE_API_KEY;
  const apiKeys = values['api-key'] ?? (envKey ? [envKey] : []);

  const envSecret = process.env.USER_SERVICE_SIGNING_SECRET;
  const signingSecrets = values['signing-secret'] ?? (envSecret ? [envSecret] : []);

  const service = await startDevUserService({
    port,
    host: values.host,
    apiKeys,
    signingSecrets,
    onRequest: ({ method, path, status }) =>
      io.out(`${new Date().toISOString()} ${method} ${path} ${status}`),
  });
  io.out(`Dev User Service listening: USER_SERVICE_URL=${service.url}`);
  io.out(
    apiKeys.length > 0 ? `Requires x-api-key (${apiKeys.length} key(s) accepted)` : 'No API key required',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await service.close();
  return 0;
};
