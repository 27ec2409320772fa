import { describe, expect, it } from 'vitest';
import { MAX_VISIBILITY_SECONDS, RETRY_SCHEDULE_SECONDS, retryDelaySeconds } from '../../src/core/backoff.js';

describe('retryDelaySeconds', () => {
  it('grows from a minute to just under SQS’s 12-hour limit, which counts from the receipt', () => {
    expect(retryDelaySeconds(1, () => 0)).toBe(60);
    expect(retryDelaySeconds(5, () => 0)).toBe(1200);
    expect(retryDelaySeconds(50, () => 0)).toBe(MAX_VISIBILITY_SECONDS);
    expect(MAX_VISIBILITY_SECONDS).toBeLessThanOrEqual(43_200 - 300);
  });

  it('stretches each step by up to 10%, never past the limit', () => {
    for (let receive = 1; receive <= 14; receive++) {
      const base = RETRY_SCHEDULE_SECONDS[Math.min(receive, RETRY_SCHEDULE_SECONDS.length) - 1] ?? 0;
      const longest = retryDelaySeconds(receive, () => 0.999);
      expect(longest).toBeGreaterThanOrEqual(base);
      expect(longest).toBeLessThanOrEqual(Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(base * 1.1)));
    }
  });

  it('keeps a user for more than a day before the default maxReceiveCount of 12 dead-letters it', () => {
    const hidden = Array.from({ length: 11 }, (_, n) => retryDelaySeconds(n + 1, () => 0)).reduce(
      (a, b) => a + b,
    );
    expect(hidden).toBeGreaterThan(24 * 3600);
  });
});
