import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('scripts/moto.mjs', () => {
  it('says how to install moto_server when it is missing', async () => {
    const failure = await run(process.execPath, ['scripts/moto.mjs', 'true'], {
      env: { PATH: '/nonexistent' },
    }).catch((error: { code: number; stderr: string }) => error);

    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('pip install "moto[server]') });
  });
});
