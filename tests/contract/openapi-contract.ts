// Checks a real HTTP request or answer against openapi.yaml: the operation, its header, path and
// query parameters (the path item's and the operation's own), the security scheme's header, the
// content type (application/json, application/merge-patch+json…) and the body's JSON Schema (Ajv
// 2020, the dialect of OpenAPI 3.1). Each check returns the problems it found, so a test asserts `[]`.

import { readFile } from 'node:fs/promises';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

// ajv-formats is CommonJS: under NodeNext its default import is the module, whose `default` is the plugin.
const addFormats = addFormatsModule.default;

export const OPENAPI_PATH = new URL('../../openapi.yaml', import.meta.url);
const SPEC_ID = 'openapi.yaml';

type Json = Record<string, unknown>;
export type HeaderValues = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface HttpRequest {
  method: string;
  /** The path, with or without a query. */
  path: string;
  headers: HeaderValues;
  body: string;
}

export interface HttpAnswer {
  status: number;
  headers: HeaderValues;
  body: string;
}

export const loadOpenApi = async (): Promise<Json> => parse(await readFile(OPENAPI_PATH, 'utf8')) as Json;

/** The repository's root, against which the paths openapi.yaml cites resolve. */
export const REPO_ROOT = new URL('../../', import.meta.url);

// A file by its extension (`src/dev/user-service.ts`, `openapi.yaml`), or anything under a top-level
// folder of the repository (`tests/contract/`); not inside a URL, an email address or a media type.
const CITED_FILE =
  /(?<![\w./:@+-])((?:[\w.-]+\/)*[\w-][\w.-]*\.(?:ts|mts|mjs|js|json|ya?ml|md|tf|zip))(?![\w/])/g;
const CITED_FOLDER =
  /(?<![\w./:@+-])((?:src|tests|events|middlewares|scripts|terraform|bench|docs|bin|dist)\/[\w./-]*)/g;

/** Every repository path openapi.yaml mentions, comments included, each once. */
export const pathsCitedByOpenApi = async (): Promise<string[]> => {
  const text = await readFile(OPENAPI_PATH, 'utf8');
  const cited = [...text.matchAll(CITED_FILE), ...text.matchAll(CITED_FOLDER)].map((match) => match[1] ?? '');
  return [...new Set(cited)].sort();
};

const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const headerOf = (headers: HeaderValues, name: string): string | undefined => {
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase());
  const value = entry?.[1];
  return typeof value === 'string' ? value : value?.join(', ');
};

const mediaTypeOf = (headers: HeaderValues): string | undefined =>
  headerOf(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();

const escapePointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

export const createContract = (spec: Json) => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  // The document's own keywords, so Ajv takes the whole file as one schema and resolves every
  // `#/components/…` pointer in it.
  ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'security', 'paths', 'components']);
  ajv.addSchema(spec, SPEC_ID);

  const at = (pointer: string): unknown => {
    let node: unknown = spec;
    for (const segment of pointer.split('/').slice(1)) {
      const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
      if (Array.isArray(node)) node = /^(0|[1-9][0-9]*)$/.test(key) ? node[Number(key)] : undefined;
      else node = isJson(node) ? node[key] : undefined;
    }
    return node;
  };

  /** Follows a `$ref` to its object, and says where the object lives (for Ajv). */
  const resolve = (node: unknown, pointer: string): { node: Json; pointer: string } | undefined => {
    if (!isJson(node)) return undefined;
    const ref = node.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/')) return resolve(at(ref.slice(1)), ref.slice(1));
    return { node, pointer };
  };

  const validators = new Map<string, ValidateFunction>();
  const validate = (schemaPointer: string, value: unknown, what: string): string[] => {
    let check = validators.get(schemaPointer);
    if (!check) {
      check = ajv.getSchema(`${SPEC_ID}#${schemaPointer}`);
      if (!check) return [`${what}: no schema at ${schemaPointer}`];
      validators.set(schemaPointer, check);
    }
    if (check(value)) return [];
    return [`${what}: ${ajv.errorsText(check.errors, { dataVar: what })}`];
  };

  const paths = isJson(spec.paths) ? spec.paths : {};
  const findOperation = (method: string, fullPath: string) => {
    const path = fullPath.split('?')[0] ?? '';
    for (const template of Object.keys(paths)) {
      const names: string[] = [];
      const pattern = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      const match = new RegExp(`^${pattern}$`).exec(path);
      const itemPointer = `/paths/${escapePointer(template)}`;
      const pointer = `${itemPointer}/${method.toLowerCase()}`;
      const operation = at(pointer);
      if (!match || !isJson(operation)) continue;
      const pathValues = Object.fromEntries(
        names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]),
      );
      return { operation, pointer, itemPointer, pathValues };
    }
    return undefined;
  };

  /**
   * The parameters of an operation: its path item's, then its own, an operation's parameter
   * replacing the path item's of the same name and location (OpenAPI 3.1, Path Item Object).
   */
  const parametersOf = ({
    operation,
    pointer,
    itemPointer,
  }: {
    operation: Json;
    pointer: string;
    itemPointer: string;
  }) => {
    const listed = (node: unknown, at: string) =>
      (Array.isArray(node) ? node : []).flatMap((raw, index) => {
        const parameter = resolve(raw, `${at}/parameters/${index}`);
        return parameter ? [parameter] : [];
      });
    const own = listed(operation.parameters, pointer);
    const inherited = listed((at(itemPointer) as Json).parameters, itemPointer).filter(
      ({ node }) => !own.some((mine) => mine.node.name === node.name && mine.node.in === node.in),
    );
    return [...inherited, ...own];
  };

  /** A query value as its schema types it: a query is text, so `limit=5` is the integer 5. */
  const queryValue = (text: string, schemaPointer: string): unknown => {
    const schema = resolve(at(schemaPointer), schemaPointer)?.node;
    const numeric = schema?.type === 'integer' || schema?.type === 'number';
    return numeric && /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : text;
  };

  const securityHeaders = (operation: Json): { names: string[]; optional: boolean } => {
    const requirements = (operation.security ?? spec.security ?? []) as Json[];
    const schemes = (isJson(spec.components) && spec.components.securitySchemes) as Json | undefined;
    const names = requirements.flatMap((requirement) =>
      Object.keys(requirement).flatMap((scheme) => {
        const definition = schemes?.[scheme];
        return isJson(definition) && definition.in === 'header' ? [String(definition.name)] : [];
      }),
    );
    return {
      names,
      optional: requirements.length === 0 || requirements.some((r) => Object.keys(r).length === 0),
    };
  };

  const bodyProblems = (
    content: unknown,
    contentPointer: string,
    headers: HeaderValues,
    body: string,
    what: string,
  ) => {
    if (!isJson(content)) return body === '' ? [] : [`${what}: a body where the contract describes none`];
    const mediaType = mediaTypeOf(headers);
    if (mediaType === undefined || !(mediaType in content)) {
      return [
        `${what}: content-type ${mediaType ?? '(none)'} is not one of ${Object.keys(content).join(', ')}`,
      ];
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return [`${what}: not JSON`];
    }
    return validate(`${contentPointer}/${escapePointer(mediaType)}/schema`, json, what);
  };

  return {
    spec,
    /** The node at a JSON pointer into the document. */
    at,

    /** Everything in a request the contract says something about. */
    requestProblems({ method, path, headers, body }: HttpRequest): string[] {
      const found = findOperation(method, path);
      if (!found) return [`${method} ${path}: no such operation`];
      const { operation, pointer, pathValues } = found;
      const problems: string[] = [];
      const query = new URLSearchParams(path.split('?')[1] ?? '');

      const parameters = parametersOf(found);
      for (const { node, pointer: parameterPointer } of parameters) {
        const { name, in: location, required } = node as { name: string; in: string; required?: boolean };
        const what = `${location} ${name}`;
        let value: unknown;
        if (location === 'header') value = headerOf(headers, name);
        else if (location === 'path') value = pathValues[name];
        else if (location === 'query') {
          const values = query.getAll(name);
          if (values.length > 1) problems.push(`${what}: given ${values.length} times`);
          value = values[0] === undefined ? undefined : queryValue(values[0], `${parameterPointer}/schema`);
        } else continue;
        if (value === undefined) {
          if (required) problems.push(`${what}: missing`);
          continue;
        }
        problems.push(...validate(`${parameterPointer}/schema`, value, what));
      }
      const described = new Set(
        parameters.filter(({ node }) => node.in === 'query').map(({ node }) => String(node.name)),
      );
      for (const name of new Set(query.keys())) {
        if (!described.has(name)) problems.push(`query ${name}: not described`);
      }

      const security = securityHeaders(operation);
      const present = security.names.filter((name) => headerOf(headers, name));
      if (!security.optional && present.length === 0)
        problems.push(`security: none of ${security.names.join(', ')}`);
      for (const name of present) if (headerOf(headers, name) === '') problems.push(`header ${name}: empty`);

      const requestBody = resolve(operation.requestBody, `${pointer}/requestBody`);
      if (requestBody) {
        if (requestBody.node.required && body === '') problems.push('request body: missing');
        else
          problems.push(
            ...bodyProblems(
              requestBody.node.content,
              `${requestBody.pointer}/content`,
              headers,
              body,
              'request body',
            ),
          );
      } else if (body !== '') {
        problems.push('request body: the contract describes none');
      }
      return problems;
    },

    /** The answer's status is documented for the operation, and its headers and body are as documented. */
    responseProblems(
      request: Pick<HttpRequest, 'method' | 'path'>,
      { status, headers, body }: HttpAnswer,
    ): string[] {
      const found = findOperation(request.method, request.path);
      if (!found) return [`${request.method} ${request.path}: no such operation`];
      const responses = isJson(found.operation.responses) ? found.operation.responses : {};
      const code = [String(status), `${String(status)[0]}XX`, 'default'].find((key) => key in responses);
      if (!code) return [`status ${status}: not documented`];
      const response = resolve(responses[code], `${found.pointer}/responses/${code}`);
      if (!response) return [`status ${status}: unreadable response object`];
      const problems: string[] = [];
      const documentedHeaders = isJson(response.node.headers) ? response.node.headers : {};
      for (const [name, raw] of Object.entries(documentedHeaders)) {
        const header = resolve(raw, `${response.pointer}/headers/${escapePointer(name)}`);
        const value = headerOf(headers, name);
        if (header && value !== undefined)
          problems.push(...validate(`${header.pointer}/schema`, value, `header ${name}`));
      }
      problems.push(
        ...bodyProblems(response.node.content, `${response.pointer}/content`, headers, body, `${code} body`),
      );
      return problems;
    },

    /** Validates a value against one schema of the document, by JSON pointer. */
    schemaProblems(pointer: string, value: unknown): string[] {
      return validate(pointer, value, pointer);
    },
  };
};

export type Contract = ReturnType<typeof createContract>;
