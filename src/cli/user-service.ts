// `user-service`: runs the dev User Service alone, until interrupted.

import { numberIn } from '../config.js';
import { startDevUserService } from '../dev/user-service.js';
import { command, option, repeated, text } from './flags.js';
import type { Io } from './usage.js';

const USER_SERVICE = command({
  synopsis:
    'Usage: cognito-user-sync user-service [--port N] [--host H] [--api-key KEY]... [--signing-secret S]...',
  about: `Runs the dev User Service, the User Service contract (openapi.yaml) in memory:
  POST   /api/v1/users              create: 201, 409 already_exists (known cognitoSub) or
                                    409 conflict (email held by another user)
  PATCH  /api/v1/users/{sub}        merge patch of email, fullName, status, updatedBy,
                                    cognitoLastModified: 200, 404, 409 conflict, 412 stale_write
  DELETE /api/v1/users/{sub}        204, 404 when already gone
  GET    /api/v1/users?limit=&cursor=&prefix=
                                    a page of users in cognitoSub order, with nextCursor
  GET    /api/v1/users/{sub}        one stored user (dev inspection, no key needed)
400/415/422 with a reason for a bad request; with keys or signing secrets set, the first four
answer 401 unless the request carries an accepted x-api-key and a valid signature.`,
  flags: {
    port: option(
      'N',
      numberIn({ min: 0, max: 65535 }),
      'port to listen on (default 3000; 0 picks a free one)',
      3000,
    ),
    host: text('H', 'address to bind (default 127.0.0.1)'),
    'api-key': repeated(
      'KEY',
      'require this x-api-key; repeat for several (default: USER_SERVICE_API_KEY, else none)',
    ),
    'signing-secret': repeated(
      'S',
      `require a signature by this whsec_ secret; repeat for several
(default: USER_SERVICE_SIGNING_SECRET, else none)`,
    ),
  },
  footer: '',
});

export const USER_SERVICE_USAGE = USER_SERVICE.usage;

export const userService = async (args: string[], io: Io): Promise<number> => {
  const flags = USER_SERVICE.read(args, io);
  if (flags === undefined) return 0;
  const { values } = flags;
  const envKey = process.env.USER_SERVICE_API_KEY;
  const apiKeys = values['api-key'] ?? (envKey ? [envKey] : []);

  const envSecret = process.env.USER_SERVICE_SIGNING_SECRET;
  const signingSecrets = values['signing-secret'] ?? (envSecret ? [envSecret] : []);

  const service = await startDevUserService({
    port: values.port,
    host: values.host ?? '127.0.0.1',
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
