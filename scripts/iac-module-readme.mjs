// The Terraform module's README tables, from its variables.tf and outputs.tf, so the two never drift
// apart: tests/iac/validate.test.ts checks that the README holds exactly what this renders.
//
//   node scripts/iac-module-readme.mjs          rewrite the tables in the README
//   node scripts/iac-module-readme.mjs --check  exit 1 when they are out of date
//
// It reads the files as `terraform fmt` writes them: top-level `variable "name" {` and
// `output "name" {` blocks closed by a `}` at the start of a line, with one-line `description`,
// `type` and `default` attributes (or a default that opens a list or map and closes it on a later
// line).

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MODULE_DIR = fileURLToPath(new URL('../terraform/modules/cognito-user-sync/', import.meta.url));

const BEGIN = (table) => `<!-- BEGIN ${table} (scripts/iac-module-readme.mjs) -->`;
const END = (table) => `<!-- END ${table} -->`;

/** Every top-level block of a kind: its name and its body (the lines between the braces). */
const blocks = (source, kind) => {
  const found = [];
  const pattern = new RegExp(`^${kind} "([^"]+)" \\{$`, 'gm');
  for (const match of source.matchAll(pattern)) {
    const start = (match.index ?? 0) + match[0].length;
    const end = source.indexOf('\n}', start);
    if (end < 0) throw new Error(`${kind} "${match[1]}" is not closed`);
    found.push({ name: match[1], body: source.slice(start, end) });
  }
  return found;
};

/** An attribute of a block body, as written (strings unquoted; a multi-line value joined). */
const attribute = (body, name) => {
  const lines = body.split('\n');
  const index = lines.findIndex((line) => new RegExp(`^  ${name}\\s+=`).test(line));
  if (index < 0) return undefined;
  let value = (lines[index] ?? '').replace(new RegExp(`^  ${name}\\s+=\\s*`), '');
  const closing = { '[': ']', '{': '}' }[value.trim()];
  if (closing) {
    const items = [];
    for (let i = index + 1; i < lines.length && (lines[i] ?? '').trim() !== closing; i += 1) {
      items.push((lines[i] ?? '').trim().replace(/,$/, ''));
    }
    value = `${value.trim()}${items.join(', ')}${closing}`;
  }
  const string = /^"((?:[^"\\]|\\.)*)"$/.exec(value);
  return string ? JSON.parse(`"${string[1]}"`) : value;
};

export const parseVariables = (source) =>
  blocks(source, 'variable').map(({ name, body }) => {
    const defaultValue = attribute(body, 'default');
    const raw = body.split('\n').find((line) => /^ {2}default\s+=/.test(line));
    return {
      name,
      type: attribute(body, 'type') ?? 'any',
      // A string default is shown quoted, as in HCL; none means the variable is required.
      default:
        raw === undefined ? undefined : /=\s*"/.test(raw) ? JSON.stringify(defaultValue) : defaultValue,
      description: attribute(body, 'description') ?? '',
    };
  });

export const parseOutputs = (source) =>
  blocks(source, 'output').map(({ name, body }) => ({
    name,
    description: attribute(body, 'description') ?? '',
  }));

const cell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');
const code = (text) => `\`${cell(text)}\``;

export const renderTables = (variables, outputs) => ({
  inputs: [
    '| name | type | default | description |',
    '|---|---|---|---|',
    ...variables.map(
      (v) =>
        `| ${code(v.name)} | ${code(v.type)} | ${v.default === undefined ? 'required' : code(v.default)} | ${cell(v.description)} |`,
    ),
  ].join('\n'),
  outputs: [
    '| name | description |',
    '|---|---|',
    ...outputs.map((o) => `| ${code(o.name)} | ${cell(o.description)} |`),
  ].join('\n'),
});

/** The README with its two tables replaced by what variables.tf and outputs.tf say. */
export const renderReadme = (readme, tables) => {
  let result = readme;
  for (const table of ['inputs', 'outputs']) {
    const begin = result.indexOf(BEGIN(table));
    const end = result.indexOf(END(table));
    if (begin < 0 || end < begin)
      throw new Error(`the README has no ${BEGIN(table)} … ${END(table)} section`);
    result = `${result.slice(0, begin + BEGIN(table).length)}\n${tables[table]}\n${result.slice(end)}`;
  }
  return result;
};

export const readModule = (dir = MODULE_DIR) => {
  const variables = parseVariables(readFileSync(`${dir}/variables.tf`, 'utf8'));
  const outputs = parseOutputs(readFileSync(`${dir}/outputs.tf`, 'utf8'));
  const readme = readFileSync(`${dir}/README.md`, 'utf8');
  return { variables, outputs, readme, expected: renderReadme(readme, renderTables(variables, outputs)) };
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const { readme, expected } = readModule();
  if (process.argv.includes('--check')) {
    if (readme !== expected) {
      console.error(
        'terraform/modules/cognito-user-sync/README.md is out of date: run node scripts/iac-module-readme.mjs',
      );
      process.exit(1);
    }
  } else if (readme !== expected) {
    writeFileSync(`${MODULE_DIR}/README.md`, expected);
    console.log('README.md tables rewritten');
  }
}
