// Keeps the project's own lines in a bundle's source map and drops the mappings into
// node_modules: a stack trace through our code still names src/… and middlewares/… lines, and the
// map shrinks from most of a megabyte to a few KiB, which counts against Cognito's 5 s at every
// cold start (--enable-source-maps reads it) and against the zip's size.

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = Object.fromEntries([...BASE64].map((char, index) => [char, index]));

const decodeSegment = (text) => {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = DIGIT[char];
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
};

const encodeValue = (number) => {
  let value = number < 0 ? (-number << 1) | 1 : number << 1;
  let text = '';
  do {
    let digit = value & 31;
    value >>>= 5;
    if (value > 0) digit |= 32;
    text += BASE64[digit];
  } while (value > 0);
  return text;
};

/** A copy of `map` (a source map object, version 3) with only the sources `keep` accepts. */
export const trimSourceMap = (map, keep = (source) => !source.includes('node_modules/')) => {
  const sources = [];
  const sourceIndex = new Map();
  const names = [];
  const nameIndex = new Map();
  const indexOf = (list, index, value) => {
    if (!index.has(value)) index.set(value, list.push(value) - 1);
    return index.get(value);
  };

  // Absolute positions of the input, and of the output relative to the last written segment.
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  let out = { source: 0, line: 0, column: 0, name: 0 };
  const lines = map.mappings.split(';').map((generatedLine) => {
    let generatedColumn = 0;
    let previousColumn = 0;
    const kept = [];
    for (const text of generatedLine.split(',')) {
      if (text === '') continue;
      const [columnDelta, ...rest] = decodeSegment(text);
      generatedColumn += columnDelta;
      if (rest.length === 0) continue;
      source += rest[0];
      line += rest[1];
      column += rest[2];
      if (rest.length > 3) name += rest[3];
      if (!keep(map.sources[source])) continue;
      const newSource = indexOf(sources, sourceIndex, map.sources[source]);
      let segment =
        encodeValue(generatedColumn - previousColumn) +
        encodeValue(newSource - out.source) +
        encodeValue(line - out.line) +
        encodeValue(column - out.column);
      out = { ...out, source: newSource, line, column };
      if (rest.length > 3) {
        const newName = indexOf(names, nameIndex, map.names[name]);
        segment += encodeValue(newName - out.name);
        out.name = newName;
      }
      previousColumn = generatedColumn;
      kept.push(segment);
    }
    return kept.join(',');
  });
  return { ...map, sources, names, mappings: lines.join(';'), sourcesContent: undefined };
};
