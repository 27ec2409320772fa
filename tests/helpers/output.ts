// Captures everything written to stdout and stderr (Powertools writes there directly), so a test
// can assert on the log lines and EMF blobs users would see, and on what must never appear.

import { vi } from 'vitest';

export interface CapturedOutput {
  /** Everything written, stdout and stderr, in order. */
  text(): string;
  /** Each line that parses as a JSON object. */
  records(): Record<string, unknown>[];
  /** The EMF blobs: records with an `_aws` key. */
  emf(): Record<string, unknown>[];
  /** The value of an EMF metric across all blobs (summed; arrays flattened). */
  metric(name: string): number[];
  /** The log lines (not EMF) that carry a `message`. */
  logs(): Record<string, unknown>[];
  restore(): void;
}

export const captureOutput = (): CapturedOutput => {
  const chunks: string[] = [];
  const record = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(record);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(record);

  const text = () => chunks.join('');
  const records = () =>
    text()
      .split('\n')
      .flatMap((line) => {
        try {
          const value: unknown = JSON.parse(line);
          return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
  const emf = () => records().filter((entry) => '_aws' in entry);
  return {
    text,
    records,
    emf,
    metric: (name) =>
      emf().flatMap((blob) => {
        const value = blob[name];
        if (value === undefined) return [];
        return (Array.isArray(value) ? value : [value]) as number[];
      }),
    logs: () => records().filter((entry) => !('_aws' in entry) && 'message' in entry),
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
};
