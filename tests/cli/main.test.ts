// The command line as users run it: `npm start` is `invoke` on the sample sign-up event.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/usage.js';
import { captureOutput } from '../helpers/output.js';

const recordingIo = () => {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (line) => out.push(line), err: (line) => err.push(line) };
  return { io, out, err };
};

describe('cognito-user-sync', () => {
  beforeEach(() => {
    vi.stubEnv('USER_SERVICE_URL', '');
    vi.stubEnv('RETRY_QUEUE_URL', '');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('invoke: runs the handler on the sample sign-up against an embedded dev User Service', async () => {
    const { io, out } = recordingIo();
    const handlerOutput = captureOutput();

    const code = await main(['invoke'], io).finally(() => handlerOutput.restore());

    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/Started the dev User Service at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/users/);
    expect(text).toContain('Returned to Cognito: the event, unchanged');
    expect(text).toContain('Outcome: created');
    expect(text).toContain('"cognitoSub": "3c5a1e0f-7b2d-4e8a-9f61-2d4b8c0e7a13"');
  });

  it('invoke: takes another event file', async () => {
    const { io, out } = recordingIo();
    const handlerOutput = captureOutput();

    const code = await main(['invoke', 'events/post-confirmation-forgot-password.json'], io).finally(() =>
      handlerOutput.restore(),
    );

    expect(code).toBe(0);
    expect(out.join('\n')).toContain('Outcome: skipped (reason forgot-password)');
  });

  it.each([
    [['invoke', 'events/no-such-event.json'], /cannot read the event file/],
    [['invoke', 'package.json', 'extra.json'], /at most one event file/],
    [['invoke', '--verbose'], /Unknown option '--verbose'/],
    [['deploy'], /unknown command "deploy"/],
  ])('%j: a usage error, exit code 2', async (argv, message) => {
    const { io, err } = recordingIo();

    await expect(main(argv, io)).resolves.toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it.each([['--help'], ['invoke', '--help'], ['user-service', '--help']])(
    '%j prints usage',
    async (...argv) => {
      const { io, out } = recordingIo();

      await expect(main(argv, io)).resolves.toBe(0);
      expect(out.join('\n')).toMatch(/^Usage: cognito-user-sync/);
    },
  );
});
