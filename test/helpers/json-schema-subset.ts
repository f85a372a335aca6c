/**
 * A JSON Schema validator for the subset schemas/openapi.yaml uses (OpenAPI 3.1 = JSON Schema 2020-12):
 * type (one or a list), properties, required, additionalProperties, items, enum, const, allOf, anyOf, oneOf,
 * local $ref, minLength, maxLength, pattern, minimum, maximum, minItems, maxItems, format date-time. A
 * keyword outside that subset is an error of its own ("not supported"), so that the contract cannot grow a
 * rule this validator silently skips.
 *
 * `closed`: an object schema with `properties` and no `additionalProperties` admits no other property
 * (JSON Schema would admit any). Applied to the AP's answers, this makes a field the code returns but the
 * contract does not describe a failure too — drift in either direction.
 */
export type Schema = Record<string, unknown>;

export interface ValidateOptions {
  /** Resolves `#/…` references. */
  readonly root: Schema;
  /** @defaultValue true */
  readonly closed?: boolean;
}

/** Keywords that only annotate: no rule to check. */
const annotations = new Set([
  'description',
  'example',
  'examples',
  'default',
  'title',
  'deprecated',
  'readOnly',
  'writeOnly',
  'summary',
]);
const checked = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'allOf',
  'anyOf',
  'oneOf',
  '$ref',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'format',
]);
/** Formats checked; any other is an annotation (as JSON Schema 2020-12's format-annotation vocabulary has it). */
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The violations of `value` against `schema`, each `<JSON pointer>: <what>`; empty when it conforms. */
export function validate(schema: Schema, value: unknown, options: ValidateOptions): string[] {
  const errors: string[] = [];
  check(schema, value, '', errors, { root: options.root, closed: options.closed ?? true });
  return errors;
}

interface Context {
  readonly root: Schema;
  readonly closed: boolean;
}

/** `openHere`: the closed check is left to the caller at this level (an allOf member); nested objects keep it. */
function check(
  schema: Schema,
  value: unknown,
  at: string,
  errors: string[],
  ctx: Context,
  openHere = false,
): void {
  for (const key of Object.keys(schema)) {
    if (!checked.has(key) && !annotations.has(key))
      errors.push(`${at || '/'}: schema keyword "${key}" is not supported by this validator`);
  }
  if (typeof schema.$ref === 'string')
    return check(resolveRef(ctx.root, schema.$ref), value, at, errors, ctx, openHere);
  const here = at || '/';

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => isType(value, t))) {
      errors.push(`${here}: expected ${types.join(' or ')}, got ${describe(value)}`);
      return;
    }
  }
  if (schema.enum !== undefined && !(schema.enum as unknown[]).some((v) => v === value))
    errors.push(`${here}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.const !== undefined && schema.const !== value)
    errors.push(`${here}: expected ${JSON.stringify(schema.const)}`);

  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength)
      errors.push(`${here}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength)
      errors.push(`${here}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${here}: does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && !(dateTime.test(value) && !Number.isNaN(Date.parse(value))))
      errors.push(`${here}: ${JSON.stringify(value)} is not an RFC 3339 date-time`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      errors.push(`${here}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      errors.push(`${here}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      errors.push(`${here}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      errors.push(`${here}: more than ${schema.maxItems} items`);
    if (schema.items)
      value.forEach((item, i) => check(schema.items as Schema, item, `${at}/${i}`, errors, ctx));
  }

  // Members of allOf are checked open; the object's own closed check below knows every member's properties.
  for (const member of (schema.allOf as Schema[] | undefined) ?? [])
    check(member, value, at, errors, ctx, true);
  for (const [keyword, wanted] of [
    ['anyOf', (n: number) => n >= 1],
    ['oneOf', (n: number) => n === 1],
  ] as const) {
    const members = schema[keyword] as Schema[] | undefined;
    if (!members) continue;
    const passing = members.filter(
      (m) => validate(m, value, { root: ctx.root, closed: ctx.closed }).length === 0,
    ).length;
    if (!wanted(passing)) errors.push(`${here}: ${passing} of the ${keyword} alternatives match`);
  }

  if (isType(value, 'object'))
    checkObject(schema, value as Record<string, unknown>, at, errors, ctx, openHere);
}

function checkObject(
  schema: Schema,
  value: Record<string, unknown>,
  at: string,
  errors: string[],
  ctx: Context,
  openHere: boolean,
): void {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  for (const name of (schema.required as string[] | undefined) ?? []) {
    if (!(name in value)) errors.push(`${at || '/'}: required property "${name}" is missing`);
  }
  for (const [name, item] of Object.entries(value)) {
    if (item === undefined) continue;
    if (properties[name]) check(properties[name], item, `${at}/${name}`, errors, ctx);
    else if (typeof schema.additionalProperties === 'object')
      check(schema.additionalProperties as Schema, item, `${at}/${name}`, errors, ctx);
  }
  const open = schema.additionalProperties === true || typeof schema.additionalProperties === 'object';
  const declares =
    schema.properties !== undefined || schema.allOf !== undefined || schema.additionalProperties === false;
  if (open || !declares || openHere || !(ctx.closed || schema.additionalProperties === false)) return;
  const known = new Set(knownProperties(schema, ctx.root));
  for (const name of Object.keys(value)) {
    if (!known.has(name)) errors.push(`${at}/${name}: not described by the contract`);
  }
}

/** The property names a schema describes, through allOf and $ref. */
function knownProperties(schema: Schema, root: Schema): string[] {
  if (typeof schema.$ref === 'string') return knownProperties(resolveRef(root, schema.$ref), root);
  return [
    ...Object.keys((schema.properties ?? {}) as object),
    ...((schema.allOf as Schema[] | undefined) ?? []).flatMap((m) => knownProperties(m, root)),
  ];
}

export function resolveRef(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`$ref ${ref}: only local references are supported`);
  let node: unknown = root;
  for (const segment of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown> | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  if (!node || typeof node !== 'object') throw new Error(`$ref ${ref} does not resolve`);
  return node as Schema;
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}
