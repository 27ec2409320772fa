// Keeps the project's own mappings in a bundle's source map and leaves the code from node_modules
// unmapped: a stack trace through our code still names src/… and middlewares/… lines, and the map
// shrinks more than tenfold (post-confirmation's from about 490 KiB to 30 KiB), which counts
// against Cognito's 5 s at every cold start (--enable-source-maps reads it) and the zip's size.

import { decode, encode } from '@jridgewell/sourcemap-codec';

/**
 * A copy of `map` (a source map object, version 3) with only the sources `keep` accepts.
 *
 * A segment into a source left out becomes an unmapped segment, `[generatedColumn]`: the 1-field
 * segment of the source map v3 spec (ECMA-426, formerly the Source Map Revision 3 Proposal).
 * Dropping it instead would not do: a lookup takes the nearest segment at or before a position,
 * so dependency code would map to the project code before it, and stack traces and X-Ray would
 * name the wrong file and line. A run of unmapped segments maps as its first does, so only that
 * one is written.
 */
export const trimSourceMap = (map, keep = (source) => !source.includes('node_modules/')) => {
  const sources = [];
  const sourceIndex = new Map();
  const names = [];
  const nameIndex = new Map();
  const indexOf = (list, index, value) => {
    if (!index.has(value)) index.set(value, list.push(value) - 1);
    return index.get(value);
  };

  const mappings = decode(map.mappings).map((segments) => {
    const trimmed = [];
    for (const segment of segments) {
      const [generatedColumn, source, line, column, name] = segment;
      if (segment.length > 1 && keep(map.sources[source])) {
        const kept = [generatedColumn, indexOf(sources, sourceIndex, map.sources[source]), line, column];
        if (segment.length > 4) kept.push(indexOf(names, nameIndex, map.names[name]));
        trimmed.push(kept);
      } else if (trimmed.at(-1)?.length !== 1) {
        trimmed.push([generatedColumn]);
      }
    }
    return trimmed;
  });
  return { ...map, sources, names, mappings: encode(mappings), sourcesContent: undefined };
};
