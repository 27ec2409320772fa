// What is kept of an answer goes without the credentials it may echo.

/**
 * Cuts every credential we sent (the API key, each signature) out of an answer before it is kept,
 * and a credential's start where the answer was cut short, as a service that echoes the request
 * headers would hand them back. JSON's escaped form of a slash counts too.
 */
export const redactCredentials = (text: string, sent: ReadonlySet<string>): string => {
  let redacted = text;
  for (const secret of sent) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, secret.replaceAll('/', '\\/')])) {
      redacted = redacted.split(form).join('[redacted]');
      // Cut short at the end: the first 8 characters or more of the secret.
      for (let length = Math.min(form.length - 1, redacted.length); length >= 8; length--) {
        if (redacted.endsWith(form.slice(0, length))) {
          redacted = `${redacted.slice(0, -length)}[redacted]`;
          break;
        }
      }
    }
  }
  return redacted;
};
