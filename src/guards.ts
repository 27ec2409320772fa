// Small validators that narrow `unknown` input (events, queue messages, secrets, answers) without
// casts. Imports nothing: the standalone verifier bundles this module too.

/** A plain JSON object: not null, not an array. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The string, when it holds more than white space. */
export const nonEmptyString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;
