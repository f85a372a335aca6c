import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { resolveRef, validate, type Schema } from './json-schema-subset.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** schemas/openapi.yaml, the API's contract, as the AP serves it. */
export function loadContract(file = join(root, 'schemas/openapi.yaml')): Schema {
  return parseYaml(readFileSync(file, 'utf8')) as Schema;
}

export interface ObservedResponse {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** The Content-Type header, if any. */
  readonly contentType: string | null;
  /** The body parsed, when it is JSON. */
  readonly json?: unknown;
}

interface Operation {
  responses?: Record<string, Schema>;
}

/**
 * What in an answer of the AP the contract does not describe: an /api/v1 path, method or status it does
 * not list, a content type the status does not declare, a JSON body its schema refuses (closed objects:
 * an undescribed field counts, see json-schema-subset.ts). Paths outside /api/v1 count only when the
 * contract names them with their own `servers` (e.g. /pickup/{token}); the rest (/healthz, /as4, the
 * verification page) is not part of it. Empty: the answer conforms.
 */
export function contractViolations(contract: Schema, observed: ObservedResponse): string[] {
  const { pathname } = new URL(observed.url);
  const underApi = pathname.startsWith('/api/v1/');
  const path = underApi ? pathname.slice('/api/v1'.length) : pathname;
  const paths = contract.paths as Record<string, Record<string, unknown>>;
  const template = matchTemplate(
    Object.keys(paths).filter((t) => underApi === !paths[t]!.servers),
    path,
  );
  const label = `${observed.method} ${pathname} → ${observed.status}`;
  if (!template) return underApi ? [`${label}: path not in the contract`] : [];
  const operation = paths[template]![observed.method.toLowerCase()] as Operation | undefined;
  if (!operation) return underApi ? [`${label}: method not in the contract for ${template}`] : [];
  const responses = operation.responses ?? {};
  const declared =
    responses[String(observed.status)] ?? responses[`${String(observed.status)[0]}XX`] ?? responses.default;
  if (!declared)
    return [
      `${label}: status not in the contract for ${observed.method} ${template} (has ${Object.keys(responses).join(', ')})`,
    ];
  const response = typeof declared.$ref === 'string' ? resolveRef(contract, declared.$ref) : declared;
  const content = response.content as Record<string, { schema?: Schema }> | undefined;
  const mediaType = observed.contentType?.split(';')[0]!.trim().toLowerCase();
  if (!content || !mediaType) return [];
  const key = Object.keys(content).find(
    (k) => k === mediaType || k === '*/*' || (k.endsWith('/*') && mediaType.startsWith(k.slice(0, -1))),
  );
  if (!key)
    return [
      `${label}: content type ${mediaType} not in the contract (has ${Object.keys(content).join(', ')})`,
    ];
  const schema = content[key]!.schema;
  if (observed.json === undefined || !schema) return [];
  return validate(schema, observed.json, { root: contract }).map((v) => `${label}: body ${v}`);
}

/** The contract's path template for `path` (`/messages/{id}`), literal segments preferred over parameters. */
function matchTemplate(templates: readonly string[], path: string): string | undefined {
  const matching = templates.filter((t) =>
    new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
  );
  return matching.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

const isJson = (contentType: string | null) => /^application\/([\w.+-]+\+)?json\b/i.test(contentType ?? '');

/**
 * Checks every answer this test file's fetch() gets from an AP against schemas/openapi.yaml: from
 * beforeAll to afterAll, fetch is wrapped; after each test, what the contract does not describe fails that
 * test (naming the call). The wrapper reads a clone of a JSON body only; other bodies stay the test's.
 */
export function useOpenApiContract(contract: Schema = loadContract()): void {
  const original = globalThis.fetch;
  let violations: string[] = [];
  beforeAll(() => {
    globalThis.fetch = async (input, init) => {
      const response = await original(input, init);
      const url = input instanceof Request ? input.url : String(input);
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      const contentType = response.headers.get('content-type');
      const observed: ObservedResponse = { method, url, status: response.status, contentType };
      const json = isJson(contentType) && method !== 'HEAD' ? await response.clone().text() : undefined;
      let parsed: unknown;
      try {
        parsed = json === undefined || json === '' ? undefined : JSON.parse(json);
      } catch {
        violations.push(`${method} ${url} → ${response.status}: a ${contentType} body that is not JSON`);
      }
      violations.push(...contractViolations(contract, { ...observed, json: parsed }));
      return response;
    };
  });
  afterEach(() => {
    const found = violations;
    violations = [];
    if (found.length > 0)
      throw new Error(
        `answers that schemas/openapi.yaml does not describe:\n  ${[...new Set(found)].join('\n  ')}`,
      );
  });
  afterAll(() => {
    globalThis.fetch = original;
  });
}

/** What in a webhook body the contract's `webhooks.<name>` schema does not describe; empty when it conforms. */
export function webhookViolations(contract: Schema, name: string, body: unknown): string[] {
  const webhook = (
    contract.webhooks as Record<
      string,
      { post: { requestBody: { content: Record<string, { schema: Schema }> } } }
    >
  )[name];
  if (!webhook) return [`webhook ${name} not in the contract`];
  return validate(webhook.post.requestBody.content['application/json']!.schema, body, { root: contract }).map(
    (v) => `webhook ${name}: body ${v}`,
  );
}
