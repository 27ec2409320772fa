// The retry worker's schedule: how long a message stays invisible after its nth failed delivery.
// From a minute up to SQS's 12-hour maximum; the first 11 delays add up to 25 h, so with the
// default maxReceiveCount of 12 a user is retried for more than a day before it is dead-lettered.

/** Seconds of invisibility after the nth delivery failed (n from 1); the last repeats. */
export const RETRY_SCHEDULE_SECONDS = [
  60, 120, 300, 600, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 43200,
] as const;

/** SQS's ceiling for a message's visibility timeout. */
export const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * The delay after the `receiveCount`th delivery, stretched by up to 10% so that the messages
 * of one outage do not all come back in the same second. Never shorter than the schedule.
 */
export const retryDelaySeconds = (receiveCount: number, random: () => number = Math.random): number => {
  const index = Math.min(Math.max(receiveCount, 1), RETRY_SCHEDULE_SECONDS.length) - 1;
  const base = RETRY_SCHEDULE_SECONDS[index] ?? MAX_VISIBILITY_SECONDS;
  return Math.min(MAX_VISIBILITY_SECONDS, Math.round(base * (1 + random() * 0.1)));
};
