// The User Service's answers, read no further than needed: a capped read, the rest let go, so a
// long or endless body never holds the connection or the memory.

import { isRecord } from '../../guards.js';

/** What is kept of an error answer, at most. */
export const MAX_DETAIL_BYTES = 2048;
/** A created or updated user's JSON is small; a 2xx body longer than this is not one. */
export const MAX_SUCCESS_BYTES = 64 * 1024;
/** A page of at most 1000 users. */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

/** Reads at most `maxBytes` of a body, then lets the rest go; `complete` says whether it all fit. */
export const readBody = async (
  response: Response,
  maxBytes: number,
): Promise<{ text: string; complete: boolean }> => {
  if (!response.body) return { text: '', complete: true };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  try {
    while (size <= maxBytes) {
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short still tells what it got.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return {
    text: Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'),
    complete: complete && size <= maxBytes,
  };
};

/** Reads at most `maxBytes` of a body, then lets the rest go. */
export const readCapped = async (response: Response, maxBytes = MAX_DETAIL_BYTES): Promise<string> =>
  (await readBody(response, maxBytes)).text;

/** Lets a body go unread: the connection goes back, however long the body. */
export const discard = (response: Response): void => {
  response.body?.cancel().catch(() => undefined);
};

/** The JSON object a text holds; undefined for anything else (an array, a string, no JSON). */
export const jsonObjectIn = (text: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
};

/** The JSON object a complete `application/json` body holds; undefined for anything else. */
export const jsonObjectOf = async (
  response: Response,
  maxBytes: number,
): Promise<Record<string, unknown> | undefined> => {
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(response.headers.get('content-type') ?? '')) {
    discard(response);
    return undefined;
  }
  const { text, complete } = await readBody(response, maxBytes);
  return complete ? jsonObjectIn(text) : undefined;
};
