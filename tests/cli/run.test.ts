// How a run is stopped: the first SIGINT, SIGTERM or SIGHUP stops it gracefully; for a command
// with a clean-up (smoke), a second cuts the clean-up short and says so, and only a third is left
// to end the process.

import { afterEach, describe, expect, it } from 'vitest';
import { controlRun, type RunControl } from '../../src/cli/run.js';

const listening = () => process.listenerCount('SIGINT') + process.listenerCount('SIGHUP');

describe('controlRun', () => {
  let control: RunControl | undefined;
  afterEach(() => control?.dispose());

  it('stops the run at the first signal, and lets the next one end the process as it would without us', () => {
    const err: string[] = [];
    const before = listening();
    control = controlRun({ out: () => undefined, err: (line) => err.push(line) }, 'stopping.');

    process.emit('SIGINT');

    expect(control.signal.aborted).toBe(true);
    expect(control.again.aborted).toBe(false);
    expect(control.exitCode()).toBe(130);
    expect(err).toEqual(['\nSIGINT: stopping.']);
    expect(listening()).toBe(before);
  });

  it('with a clean-up to cut short, keeps the signals: the second cuts it short and says so, the third is left to end the process', () => {
    const err: string[] = [];
    const before = listening();
    control = controlRun(
      { out: () => undefined, err: (line) => err.push(line) },
      'removing what it made first.',
      'the clean-up is cut short: what is left is said below.',
    );

    process.emit('SIGINT');

    expect(control.signal.aborted).toBe(true);
    expect(control.again.aborted).toBe(false);
    expect(listening()).toBe(before + 2);

    process.emit('SIGHUP');

    expect(control.again.aborted).toBe(true);
    expect(err).toEqual([
      '\nSIGINT: removing what it made first.',
      '\nSIGHUP again: the clean-up is cut short: what is left is said below.',
    ]);
    // The first signal is the one that stopped the run.
    expect(control.exitCode()).toBe(130);
    expect(listening()).toBe(before);
  });
});
