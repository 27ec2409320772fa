// The retry worker's schedule: how long a message stays invisible after its nth failed delivery.
// From a minute up to just under SQS's 12-hour limit; the first 11 delays add up to 25 h, so with
// the default maxReceiveCount of 12 a user is retried for more than a day before it is
// dead-lettered.

/**
 * The longest invisibility we ask for. SQS caps a message's visibility at 12 hours counted from
 * its receipt, and the worker asks after it has already spent some of them sending; ten minutes
 * less is always accepted.
 */
export const MAX_VISIBILITY_SECONDS = 43_200 - 600;

/** Seconds of invisibility after the nth delivery failed (n from 1); the last repeats. */
export const RETRY_SCHEDULE_SECONDS = [
  60,
  120,
  300,
  600,
  1200,
  1800,
  3600,
  7200,
  10800,
  21600,
  MAX_VISIBILITY_SECONDS,
  MAX_VISIBILITY_SECONDS,
] as const;

/**
 * The delay after the `receiveCount`th delivery, stretched by up to 10% so that the messages
 * of one outage do not all come back in the same second. Never shorter than the schedule.
 */
export const retryDelaySeconds = (receiveCount: number, random: () => number = Math.random): number => {
  const index = Math.min(Math.max(receiveCount, 1), RETRY_SCHEDULE_SECONDS.length) - 1;
  const base = RETRY_SCHEDULE_SECONDS[index] ?? MAX_VISIBILITY_SECONDS;
  return Math.min(MAX_VISIBILITY_SECONDS, Math.round(base * (1 + random() * 0.1)));
};
