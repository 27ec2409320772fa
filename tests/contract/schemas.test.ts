// openapi.yaml against src/domain/contract.ts: every body the code writes in valibot has, in the
// document people read, the same properties, required keys, types and nullability, and the same
// constants, patterns, formats and bounds. openapi.yaml stays written for people (its prose, its
// examples, its $refs); this test is what keeps its schemas the contract's.

import type * as v from 'valibot';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AlreadyExistsSchema,
  ErrorSchema,
  FieldConflictSchema,
  isDateTime,
  ListedUserSchema,
  MergePatchSchema,
  NotFoundSchema,
  StaleWriteSchema,
  USER_RECORD_KEYS,
  UserAnswerSchema,
  UserPageSchema,
  UserRecordSchema,
} from '../../src/domain/contract.js';
import { loadOpenApi } from './openapi-contract.js';

/** What both sides say of a value: what the comparison compares. */
interface Shape {
  types: string[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxItems?: number;
  items?: Shape;
  properties?: Record<string, Shape>;
  required?: string[];
  /** No other property allowed. */
  closed?: boolean;
}

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A valibot schema as a Shape: its type, what its pipe's actions require, its entries. */
const shapeOfSchema = (schema: v.GenericSchema): Shape => {
  const node = schema as unknown as Node;
  const shape: Shape = { types: [] };
  switch (node.type) {
    case 'nullable': {
      const inner = shapeOfSchema(node.wrapped as v.GenericSchema);
      return { ...inner, types: [...inner.types, 'null'].sort() };
    }
    case 'literal':
      shape.types = [typeof node.literal];
      shape.const = node.literal;
      break;
    case 'array':
      shape.types = ['array'];
      shape.items = shapeOfSchema(node.item as v.GenericSchema);
      break;
    case 'object':
    case 'loose_object':
    case 'strict_object': {
      const entries = node.entries as Record<string, v.GenericSchema>;
      shape.types = ['object'];
      shape.properties = Object.fromEntries(
        Object.entries(entries).map(([key, entry]) => [
          key,
          shapeOfSchema(
            entry.type === 'optional' ? ((entry as unknown as Node).wrapped as v.GenericSchema) : entry,
          ),
        ]),
      );
      shape.required = Object.keys(entries)
        .filter((key) => entries[key]?.type !== 'optional')
        .sort();
      shape.closed = node.type === 'strict_object';
      break;
    }
    default:
      shape.types = [String(node.type)];
  }
  for (const action of (node.pipe as Node[] | undefined)?.slice(1) ?? []) {
    if (action.type === 'regex') shape.pattern = (action.requirement as RegExp).source;
    else if (action.type === 'min_length') shape.minLength = action.requirement as number;
    else if (action.type === 'max_length') shape.maxItems = action.requirement as number;
    else if (action.type === 'check' && action.requirement === isDateTime) shape.format = 'date-time';
    // Any other check (createdBy and updatedBy bound to cognitoSub) is said in openapi.yaml's prose.
  }
  return shape;
};

/** A JSON Schema of openapi.yaml as a Shape: its $refs followed, allOf merged, a oneOf with null read as nullable. */
const shapeOfJsonSchema = (spec: Node, raw: unknown): Shape => {
  const resolve = (value: unknown): Node => {
    if (!isNode(value)) return {};
    if (typeof value.$ref !== 'string') return value;
    let target: unknown = spec;
    for (const segment of value.$ref.slice(2).split('/'))
      target = isNode(target) ? target[segment] : undefined;
    return resolve(target);
  };
  const node = resolve(raw);
  if (Array.isArray(node.oneOf)) {
    const others = node.oneOf.filter((option) => resolve(option).type !== 'null');
    const inner = shapeOfJsonSchema(spec, others[0]);
    return others.length === 1 && others.length < node.oneOf.length
      ? { ...inner, types: [...inner.types, 'null'].sort() }
      : { types: ['oneOf?'] };
  }
  const parts = [node, ...(Array.isArray(node.allOf) ? node.allOf.map(resolve) : [])];
  const types = node.type === undefined && 'const' in node ? [typeof node.const] : [node.type ?? []].flat();
  const shape: Shape = { types: (types as string[]).map(String).sort() };
  if ('const' in node) shape.const = node.const;
  if (typeof node.pattern === 'string') shape.pattern = node.pattern;
  if (typeof node.format === 'string') shape.format = node.format;
  if (typeof node.minLength === 'number') shape.minLength = node.minLength;
  if (typeof node.maxItems === 'number') shape.maxItems = node.maxItems;
  if (node.items !== undefined) shape.items = shapeOfJsonSchema(spec, node.items);
  if (shape.types.includes('object')) {
    const properties = Object.assign(
      {},
      ...parts.map((part) => (isNode(part.properties) ? part.properties : {})),
    );
    shape.properties = Object.fromEntries(
      Object.entries(properties as Node).map(([key, value]) => [key, shapeOfJsonSchema(spec, value)]),
    );
    shape.required = [
      ...new Set(parts.flatMap((part) => (part.required as string[] | undefined) ?? [])),
    ].sort();
    shape.closed = node.additionalProperties === false || node.unevaluatedProperties === false;
  }
  return shape;
};

const PAIRS: [string, v.GenericSchema][] = [
  ['UserRecord', UserRecordSchema],
  ['UserPatch', MergePatchSchema],
  ['ListedUser', ListedUserSchema],
  ['UserPage', UserPageSchema],
  ['UserAnswer', UserAnswerSchema],
  ['AlreadyExists', AlreadyExistsSchema],
  ['FieldConflict', FieldConflictSchema],
  ['NotFound', NotFoundSchema],
  ['StaleWrite', StaleWriteSchema],
  ['Error', ErrorSchema],
];

let spec: Node;
beforeAll(async () => {
  spec = await loadOpenApi();
});

const documented = (name: string, document: Node = spec) =>
  shapeOfJsonSchema(document, { $ref: `#/components/schemas/${name}` });

describe('openapi.yaml against the contract', () => {
  it.each(PAIRS)('describes %s as the contract writes it', (name, schema) => {
    expect(documented(name)).toEqual(shapeOfSchema(schema));
  });

  it('has the properties the comparison looks at, so an empty comparison would not pass', () => {
    expect(Object.keys(documented('UserRecord').properties ?? {})).toHaveLength(USER_RECORD_KEYS.length + 1);
    expect(documented('UserRecord').properties?.email).toEqual({
      types: ['null', 'string'],
      pattern: '^[^@\\s]+@[^@\\s]+$',
    });
    expect(documented('ListedUser').properties?.cognitoLastModified).toEqual({
      types: ['null', 'string'],
      format: 'date-time',
    });
  });

  it.each<[string, (document: Node) => void]>([
    ['a property taken out', (document) => delete at(document, 'UserFields').properties.fullName],
    ['a key no longer required', (document) => at(document, 'ListedUser').required.pop()],
    [
      'null no longer allowed',
      (document) => Object.assign(at(document, 'UserFields').properties.email, { type: 'string' }),
    ],
    [
      'another type',
      (document) => Object.assign(at(document, 'UserPatch').properties.updatedBy, { type: 'integer' }),
    ],
    [
      'another pattern',
      (document) => Object.assign(at(document, 'UserFields').properties.status, { pattern: '^.+$' }),
    ],
    ['no format', (document) => delete at(document, 'CognitoLastModified').format],
    ['other keys allowed', (document) => delete at(document, 'UserPage').additionalProperties],
    [
      'another constant',
      (document) => Object.assign(at(document, 'NotFound').properties.error, { const: 'gone' }),
    ],
  ])('tells the contract from a document with %s', (_, change) => {
    const document = structuredClone(spec);
    change(document);

    expect(PAIRS.some(([name, schema]) => !equal(documented(name, document), shapeOfSchema(schema)))).toBe(
      true,
    );
  });
});

// biome-ignore lint/suspicious/noExplicitAny: a test reaching into a parsed YAML document to break it.
const at = (document: Node, name: string): any => ((document.components as Node).schemas as Node)[name];
const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
