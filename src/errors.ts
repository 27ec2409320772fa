// The project's errors and the short, PII-free codes that logs, metrics and queue messages carry
// for them. Imports nothing: the standalone verifier (src/verify.ts) bundles this module too.

const cause = (data?: Record<string, unknown>) => ({ package: 'cognito-user-sync', ...(data && { data }) });

/** A variable of the environment is missing or invalid; the message says which and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`, { cause: cause({ variable }) });
    this.variable = variable;
  }
}

/**
 * A secret could not be read or used; names the variable that points at it, never its value. A
 * read that failed says why by the error's code or name (an access denied, a secret not in the
 * region, expired credentials, no region), never by its message, which may quote an ARN or a name.
 */
export class SecretUnavailableError extends Error {
  override name = 'SecretUnavailableError';
  readonly variable: string;

  constructor(variable: string, problem: string, reason?: unknown) {
    const why = reason === undefined ? '' : ` (${readFailureOf(reason)})`;
    super(`The secret named by ${variable} ${problem}${why}`, { cause: reason ?? cause({ variable }) });
    this.variable = variable;
  }
}

// The AWS SDK's own words when no region is configured (@smithy/config-resolver): they say more
// than the plain Error they come in, and hold nothing of anyone's.
const readFailureOf = (reason: unknown): string =>
  reason instanceof Error && reason.message === 'Region is missing'
    ? 'no AWS region: Region is missing'
    : errorCode(reason);

/** Work that had to finish before the invocation's deadline did not. */
export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError';

  constructor(what: string) {
    super(`${what} did not finish before the deadline`, { cause: cause() });
  }
}

/** A queue message that is not one this version can act on; says what is wrong, never what it holds. */
export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';

  constructor(problem: string) {
    super(problem, { cause: cause() });
  }
}

/** A signing secret we cannot use, or input we cannot sign; never holds the secret or the body. */
export class SigningError extends Error {
  override name = 'SigningError';

  constructor(message: string) {
    super(message, { cause: cause() });
  }
}

/** A command line called wrong: the CLI prints the message and the usage, and exits with 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A short, PII-free name for an error: its code or name, never its message. */
export const errorCode = (error: unknown): string => {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return typeof error;
};

/** Why something failed, as the short code queue messages and logs carry. */
export const failureCode = (error: unknown): string => {
  if (error instanceof ConfigError) return `config-${error.variable}`;
  if (error instanceof SecretUnavailableError) return 'secret-unavailable';
  if (error instanceof DeadlineExceededError) return 'deadline';
  if (error instanceof MalformedMessageError) return 'malformed-message';
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  return `error-${errorCode(error)}`;
};

/**
 * What a log line may say about an error: its name and, for our errors that name a setting to
 * fix, the setting and our own message. Never the message of a foreign error (it may quote PII).
 */
export const describeError = (error: unknown): Record<string, unknown> => {
  if (!(error instanceof Error)) return { errorType: typeof error };
  const { variable, cause: reason } = error as { variable?: unknown; cause?: unknown };
  return {
    errorName: error.name,
    ...(typeof variable === 'string' && { variable, errorMessage: error.message }),
    ...(reason instanceof Error && { causeName: reason.name }),
  };
};
