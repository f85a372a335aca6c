/**
 * docs/configuration.md, generated from the configuration schema (src/config/schema.ts): every key with its
 * type, default and description. Types and defaults come from the zod schema itself (z.toJSONSchema, as
 * the config is written); the descriptions are the schema's doc comments, read from its source with the
 * TypeScript compiler: one source of truth, so the reference cannot drift from the code.
 *
 *   npm run docs:config            writes docs/configuration.md
 *   (test/unit/config-reference.test.ts fails when the committed file is not what this writes)
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const configReferenceFile = join(root, 'docs/configuration.md');
/** The files the config schema is written in: schema.ts assembles the sections of schema/ (the P-Mode schema lives with AS4). */
const schemaFiles = [
  join(root, 'src/config/schema.ts'),
  ...readdirSync(join(root, 'src/config/schema'))
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => join(root, 'src/config/schema', name)),
  join(root, 'src/as4/model/pmode.ts'),
];

/** A schema and the source files its doc comments are read from: the configuration's, unless a test gives another. */
export interface SchemaSource {
  readonly schema: z.ZodType;
  readonly files: readonly string[];
}
const configSource: SchemaSource = { schema: configSchema, files: schemaFiles };

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  format?: string;
  pattern?: string;
}

/**
 * Doc comments of the schema's object literals, key → text, found by the literal's key list (spreads
 * expanded), first as `<name of the property or const it is written under>:<keys>` and then by the keys alone
 * (when no two literals with other docs share them: `evidence: { level }` and `log: { level }` do).
 */
type Docs = Map<string, Map<string, string>>;

function readDocs(files: readonly string[]): { docs: Docs; variantDocs: Map<string, string> } {
  const docs: Docs = new Map();
  const ambiguous = new Set<string>();
  const variantDocs = new Map<string, string>();
  for (const file of files) readDocsOf(file, docs, ambiguous, variantDocs);
  for (const signature of ambiguous) docs.delete(signature);
  return { docs, variantDocs };
}

function readDocsOf(
  file: string,
  docs: Docs,
  ambiguous: Set<string>,
  variantDocs: Map<string, string>,
): void {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const consts = new Map<string, ts.Expression>();
  source.forEachChild(function collect(node) {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer)
      consts.set(node.name.text, node.initializer);
    node.forEachChild(collect);
  });
  const docOf = (node: ts.Node): string | undefined => {
    const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
    const last = ranges.filter((r) => text.startsWith('/**', r.pos)).at(-1);
    if (!last) return undefined;
    return text
      .slice(last.pos + 3, last.end - 2)
      .split('\n')
      .map((line) => line.replace(/^\s*\*\s?/, '').trim())
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
  };
  const entries = (literal: ts.ObjectLiteralExpression): [string, string | undefined][] =>
    literal.properties.flatMap((p): [string, string | undefined][] => {
      if (ts.isSpreadAssignment(p) && ts.isIdentifier(p.expression)) {
        const target = consts.get(p.expression.text);
        return target && ts.isObjectLiteralExpression(target) ? entries(target) : [];
      }
      if (
        (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) &&
        (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))
      )
        return [[p.name.text, docOf(p)]];
      return [];
    });
  const writtenUnder = (node: ts.Node): string | undefined => {
    for (let up = node.parent; up; up = up.parent) {
      if (
        (ts.isPropertyAssignment(up) || ts.isVariableDeclaration(up)) &&
        (ts.isIdentifier(up.name) || ts.isStringLiteral(up.name))
      )
        return up.name.text;
    }
    return undefined;
  };
  source.forEachChild(function visit(node) {
    if (ts.isObjectLiteralExpression(node)) {
      const list = entries(node);
      const keys = list.map(([k]) => k).join(',');
      const found = new Map(list.filter((e): e is [string, string] => e[1] !== undefined));
      docs.set(`${writtenUnder(node) ?? ''}:${keys}`, found);
      const earlier = docs.get(keys);
      // Two literals with the same keys and different docs: the keys alone do not say which.
      if (earlier && JSON.stringify([...earlier]) !== JSON.stringify([...found])) ambiguous.add(keys);
      else docs.set(keys, found);
    }
    // A discriminated union's members: `/** doc */ z.object({ kind: z.literal('x'), … })`, documented by their kind.
    if (ts.isArrayLiteralExpression(node)) {
      for (const element of node.elements) {
        const kind = /kind: z\.literal\('([^']+)'\)/.exec(element.getText(source))?.[1];
        const doc = docOf(element);
        if (kind && doc) variantDocs.set(kind, doc);
      }
    }
    node.forEachChild(visit);
  });
}

interface Row {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

/** `@defaultValue x` out of a description: the default column says it (from the schema when it has one). */
function splitDefault(doc: string | undefined): { text: string; documentedDefault?: string } {
  if (!doc) return { text: '' };
  const m = /@defaultValue\s+(.*?)(?=\s@\w|$)/.exec(doc);
  const text = doc
    .replace(/@defaultValue\s+.*?(?=\s@\w|$)/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return m ? { text, documentedDefault: m[1]!.trim() } : { text };
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  const alternatives = s.anyOf ?? s.oneOf;
  const kinds = alternatives?.map((a) => a.properties?.kind?.const);
  if (kinds?.every((k) => k !== undefined))
    return `object by \`kind\` (${kinds.map((k) => String(k)).join(', ')})`;
  if (alternatives && !s.type) return alternatives.map(typeOf).join(' \\| ');
  const type = Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
  if (type === 'array')
    return `list of ${s.items ? typeOf(s.items) : 'any'}${s.minItems ? ` (at least ${s.minItems})` : ''}`;
  // z.int() bounds itself to the safe integers: not a limit anyone configures against.
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  const min = s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER ? s.minimum : undefined;
  const range =
    min !== undefined && max !== undefined
      ? ` ${min}–${max}`
      : min !== undefined
        ? ` ≥ ${min}`
        : max !== undefined
          ? ` ≤ ${max}`
          : '';
  const format = s.format === 'uri' ? ' (URL)' : '';
  return `${type}${range}${format}`;
}

const defaultText = (s: JsonSchema, documented?: string): string => {
  if (s.default !== undefined) {
    const shown = JSON.stringify(s.default);
    // `{}`: the section's own keys carry the defaults.
    return shown === '{}' ? '' : `\`${shown}\``;
  }
  return documented ?? '';
};

function rows(
  schema: JsonSchema,
  under: string,
  prefix: string,
  docs: Docs,
  variantDocs: Map<string, string>,
  out: Row[],
  skip: readonly string[] = [],
): void {
  const props = schema.properties ?? {};
  const keys = Object.keys(props).join(',');
  const own = docs.get(`${under}:${keys}`) ?? docs.get(keys) ?? new Map<string, string>();
  for (const [name, child] of Object.entries(props)) {
    if (skip.includes(name)) continue;
    const key = `${prefix}${name}`;
    const { text, documentedDefault } = splitDefault(own.get(name));
    const required = schema.required?.includes(name) && child.default === undefined ? ' (required)' : '';
    out.push({
      key,
      type: typeOf(child) + required,
      default: defaultText(child, documentedDefault),
      description: text,
    });
    if (child.properties) rows(child, name, `${key}.`, docs, variantDocs, out);
    const items = child.items;
    if (items?.properties) rows(items, name, `${key}[].`, docs, variantDocs, out);
    for (const variant of items?.oneOf ?? items?.anyOf ?? []) {
      const kind = variant.properties?.kind?.const;
      if (kind === undefined || !variant.properties) continue;
      out.push({
        key: `${key}[] (kind: ${String(kind)})`,
        type: `object, \`kind: ${JSON.stringify(kind)}\``,
        default: '',
        description: variantDocs.get(String(kind)) ?? '',
      });
      rows(variant, name, `${key}[].`, docs, variantDocs, out, ['kind']);
    }
  }
}

/** The reference's rows, section by section (a section's own row first: a section is a key too). */
function configReferenceSections(source: SchemaSource): { name: string; rows: Row[] }[] {
  const { docs, variantDocs } = readDocs(source.files);
  const json = z.toJSONSchema(source.schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const sections = Object.entries(json.properties ?? {});
  const top =
    docs.get(`configSchema:${sections.map(([name]) => name).join(',')}`) ?? new Map<string, string>();
  return sections.map(([name, section]) => {
    const out: Row[] = [];
    const wrapped: JsonSchema = { properties: { [name]: section } };
    rows(wrapped, 'configSchema', '', new Map([...docs, [`configSchema:${name}`, top]]), variantDocs, out);
    return { name, rows: out };
  });
}

/**
 * The keys of the reference without a description (no doc comment, or one with only `@defaultValue`): each key
 * must say what it does, in which unit, and what its default means. `npm run docs:config` refuses to write the
 * reference while any is left, and test/unit/config-reference.test.ts fails.
 */
export function undocumentedConfigKeys(source = configSource): string[] {
  return undocumentedIn(configReferenceSections(source));
}

const undocumentedIn = (sections: readonly { rows: readonly Row[] }[]): string[] =>
  sections.flatMap((section) => section.rows.filter((row) => row.description === '').map((row) => row.key));

/** Unit words a description must use for a key whose name ends in a unit (`…Ms`, `…Seconds`, `…Bytes`…). */
const unitWords: readonly [RegExp, RegExp][] = [
  [/Ms$/, /\b(ms|milliseconds?)\b/i],
  [/Seconds$/, /\bseconds?\b/i],
  [/Bytes$/, /\bbytes\b/i],
  [/Days$/, /\bdays?\b/i],
  [/Years$|^years$/, /\byears?\b/i],
];

/**
 * Numeric keys whose name says a unit but whose description does not, as `key (unit)`: a duration or size
 * must name its unit where it is described, not only in its name.
 */
export function configKeysWithoutUnit(source = configSource): string[] {
  return configReferenceSections(source).flatMap((section) =>
    section.rows.flatMap((row) => {
      if (!/^(integer|number)/.test(row.type)) return [];
      const name = row.key.replace(/\[\]/g, '').split('.').at(-1) ?? '';
      const unit = unitWords.find(([suffix]) => suffix.test(name));
      return unit && !unit[1].test(row.description) ? [`${row.key} (${String(unit[1])})`] : [];
    }),
  );
}

/** The whole reference, as docs/configuration.md holds it. Throws when a key has no description. */
export function configReferenceMarkdown(source = configSource): string {
  const sections = configReferenceSections(source);
  const undocumented = undocumentedIn(sections);
  if (undocumented.length > 0)
    throw new Error(
      `configuration keys without a description (add a doc comment in src/config/schema.ts or src/as4/model/pmode.ts): ${undocumented.join(', ')}`,
    );
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs:config` from src/config/schema.ts; do not edit by hand (a test compares). -->',
    '',
    'One YAML file (`qerds start --config ap.yaml`, or env `QERDS_CONFIG`), every key optional unless marked required: the',
    'defaults run one AP on one machine (SQLite, in-process queue, embedded TSA, dev PKI). Relative paths of files and',
    'directories are resolved against the directory of the config file (without one, the working directory). Any key can also come from the environment as `QERDS__SECTION__KEY`',
    '(e.g. `QERDS__HTTP__PORT=8081`); shortcuts: `QERDS_STORE`, `QERDS_QUEUE`, `QERDS_PORT`, `QERDS_POSTGRES_URL`,',
    '`QERDS_LOG_LEVEL` (src/config/load.ts). Unknown keys are refused at start, naming the key. Durations are in the unit',
    'their name or description says (`…Ms` milliseconds, `…Seconds` seconds); sizes in octets.',
    '',
    `Sections: ${sections.map(({ name }) => `[\`${name}\`](#${name.toLowerCase()})`).join(', ')}.`,
  ];
  for (const { name, rows: out } of sections) {
    lines.push('', `## ${name}`, '', '| key | type | default | description |', '|---|---|---|---|');
    for (const row of out)
      lines.push(`| \`${row.key}\` | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.description)} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** A table cell: pipes escaped (unless already), no line breaks. */
function cell(text: string): string {
  return text.replace(/(?<!\\)\|/g, '\\|').replace(/\n/g, ' ');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(configReferenceFile, configReferenceMarkdown());
  process.stdout.write(`wrote ${configReferenceFile}\n`);
}
