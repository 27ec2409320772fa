// Stack traces that name our source files, paid for on the error path only. The Lambda zips run
// without --enable-source-maps: with it, Node parses the map of every module it loads, at every
// cold start (~6 MiB of memory and several ms). Here a logged error's frames are mapped when it
// is logged, from the source map beside the bundle (index.mjs.map), read once.
//
// A frame is where code is, never what it handled: no message, no values. Frames in code with no
// map (tsx and the tests map theirs already) or no mapping (dependencies: the zips' maps keep only
// our code) stay as they are.

import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The frames kept: V8's default Error.stackTraceLimit. */
const MAX_FRAMES = 10;
// `    at name (location:line:column)` or `    at location:line:column`.
const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/;

const maps = new Map<string, SourceMap | undefined>();

/** The source map beside a bundle (`<file>.map`), parsed once; undefined when there is none. */
const sourceMapOf = (location: string): SourceMap | undefined => {
  if (maps.has(location)) return maps.get(location);
  let map: SourceMap | undefined;
  try {
    const path = location.startsWith('file:') ? fileURLToPath(location) : location;
    if (path.startsWith('/') && /\.[cm]?js$/.test(path)) {
      map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as SourceMapPayload);
    }
  } catch {
    map = undefined; // no map, or one that cannot be read: the frame stays as it is
  }
  maps.set(location, map);
  return map;
};

/**
 * One frame, mapped to its source (relative to the package: src/…, middlewares/…) where it can
 * be. A mapped frame keeps only its place: its function's name is the bundle's minified one.
 */
const mapFrame = (frame: string): string => {
  const match = FRAME.exec(frame);
  if (!match) return frame.trim();
  const [, , location = '', line, column] = match;
  const origin = sourceMapOf(location)?.findOrigin(Number(line), Number(column));
  if (!origin || !('fileName' in origin)) return frame.trim();
  return `at ${origin.fileName.replace(/^(?:\.\.\/)+/, '')}:${origin.lineNumber}:${origin.columnNumber}`;
};

/**
 * An error's stack frames, each mapped to our source where a source map says, without the
 * error's name and message (a foreign error's message may quote personal data). Undefined for
 * anything that is not an Error with a stack.
 */
export const stackFramesOf = (error: unknown): string[] | undefined => {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return undefined;
  const { stack, message } = error;
  // The frames start after the message, which may span lines; only frame lines are kept.
  const at = message ? stack.indexOf(message) : -1;
  const afterMessage = at >= 0 ? stack.slice(at + message.length) : stack.slice(stack.indexOf('\n') + 1);
  const frames = afterMessage.split('\n').filter((line) => FRAME.test(line));
  return frames.slice(0, MAX_FRAMES).map(mapFrame);
};
