// smoke as a command: what its --help promises. Its runs are tested against moto
// (tests/aws/smoke.test.ts) and its plan with a world of the test's making (tests/core/smoke.test.ts).

import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const run = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('smoke --help', () => {
  it('gives the exit status of each signal it stops on, SIGHUP included', async () => {
    const { code, out } = await run('smoke', '--help');

    expect(code).toBe(0);
    expect(out).toMatch(/129 \(SIGHUP\), 130 \(SIGINT\), 143 \(SIGTERM\) when stopped/);
  });

  it('says what a second Ctrl-C does, that the secrets are read in the deployment region, and that it refuses without user changes', async () => {
    const { out } = await run('smoke', '--help');

    const words = out.replace(/\s+/g, ' ');
    expect(words).toMatch(
      /Ctrl-C again cuts the clean-up short: the checklist says what may be left, with the commands that remove it/,
    );
    expect(words).toMatch(/the region is the deployment's \(its secrets are read there too\)/);
    expect(words).toMatch(/When user changes are not deployed .*, smoke says so and makes no user/);
  });
});
