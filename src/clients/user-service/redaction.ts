// What is kept of an answer goes without the credentials it may echo.

/** Below this length a "credential" would cut ordinary words out: not one we send. */
const MIN_LENGTH = 4;
/** The start of a credential cut short at the end of what was kept, from this many characters. */
const MIN_CUT_SHORT = 8;

/**
 * The forms a service may echo a credential in: as sent, JSON's escaped slash, URL-encoded
 * (encodeURIComponent, in either case of hex), and form-encoded (+ for a space).
 */
const formsOf = (secret: string): string[] => {
  const encoded = encodeURIComponent(secret);
  return [
    ...new Set([
      secret,
      secret.replaceAll('/', '\\/'),
      encoded,
      encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
      new URLSearchParams([['', secret]]).toString().slice(1),
      encoded.replaceAll('%20', '+'),
    ]),
  ];
};

/**
 * Cuts every credential we sent (the API key, each signature) out of a text, in each of its
 * forms, and a form's start where the text was cut short, as a service that echoes the request
 * (its headers, its URL) would hand them back. The forms are made once, here: the redactor then
 * serves every text of an exchange (the body, each header).
 */
export const credentialRedactor = (sent: ReadonlySet<string>): ((text: string) => string) => {
  const forms = [...sent].filter((secret) => secret.length >= MIN_LENGTH).flatMap(formsOf);
  return (text) => {
    let redacted = text;
    for (const form of forms) {
      redacted = redacted.split(form).join('[redacted]');
      // Cut short at the end: the first MIN_CUT_SHORT characters or more of the form.
      for (let length = Math.min(form.length - 1, redacted.length); length >= MIN_CUT_SHORT; length--) {
        if (redacted.endsWith(form.slice(0, length))) {
          redacted = `${redacted.slice(0, -length)}[redacted]`;
          break;
        }
      }
    }
    return redacted;
  };
};

/** One text without the credentials sent: see credentialRedactor, for several texts of one exchange. */
export const redactCredentials = (text: string, sent: ReadonlySet<string>): string =>
  credentialRedactor(sent)(text);
