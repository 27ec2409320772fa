// Checks a real HTTP request or answer against openapi.yaml: the operation, its header and path
// parameters, the security scheme's header, the content type and the body's JSON Schema (Ajv 2020,
// the dialect of OpenAPI 3.1). Each check returns the problems it found, so a test asserts `[]`.

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
      node = isJson(node) ? node[key] : undefined;
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
      const pointer = `/paths/${escapePointer(template)}/${method.toLowerCase()}`;
      const operation = at(pointer);
      if (!match || !isJson(operation)) continue;
      const pathValues = Object.fromEntries(
        names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]),
      );
      return { operation, pointer, pathValues };
    }
    return undefined;
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

      const parameters = Array.isArray(operation.parameters) ? operation.parameters : [];
      parameters.forEach((raw, index) => {
        const parameter = resolve(raw, `${pointer}/parameters/${index}`);
        if (!parameter) return;
        const {
          name,
          in: location,
          required,
        } = parameter.node as { name: string; in: string; required?: boolean };
        if (location !== 'header' && location !== 'path') return;
        const value = location === 'header' ? headerOf(headers, name) : pathValues[name];
        if (value === undefined) {
          if (required) problems.push(`${location} ${name}: missing`);
          return;
        }
        problems.push(...validate(`${parameter.pointer}/schema`, value, `${location} ${name}`));
      });

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
