import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The house rules of ARCHITECTURE.md, checked on the import graph of src/ (type-only imports included):
 * core imports nothing else; protocol modules do not import each other; only the composition root and the
 * CLI reach into every module; and there are no import cycles between modules. Within a module, as4/ keeps its
 * rooms and its face.
 */
const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The files the build compiles (tsconfig.build.json leaves the co-located tests out). */
function sourceFiles(dir: string): string[] {
  return tsFiles(dir).filter((f) => !f.endsWith('.test.ts'));
}

/** Every relative specifier of a file: `import … from`, `export … from`, `import '…'` and `import('…')`. */
function relativeSpecifiers(text: string): string[] {
  return [
    ...text.matchAll(/(?:(?:import|export)[^'"]*?from\s+|import\s+|import\(\s*)['"](\.[^'"]+)['"]/g),
  ].map((m) => m[1]!);
}

/** Module of a file: its first folder under src/, or the file name for files at the root. */
function moduleOf(file: string): string {
  const rel = relative(src, file);
  const [first] = rel.split('/');
  return rel.includes('/') ? first! : rel.replace(/\.ts$/, '');
}

const edges = new Map<string, Set<string>>();
for (const file of sourceFiles(src)) {
  const from = moduleOf(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts'));
    const to = moduleOf(target);
    if (to !== from) (edges.get(from) ?? edges.set(from, new Set()).get(from)!).add(to);
  }
}
const importsOf = (module: string) => [...(edges.get(module) ?? [])].sort();

describe('module dependency rules (ARCHITECTURE.md)', () => {
  it('reads the import graph (the composition root reaches the modules it wires)', () => {
    expect(importsOf('access-point')).toEqual(
      expect.arrayContaining(['as4', 'evidence', 'pipeline', 'pki', 'store', 'timestamp']),
    );
  });

  it('src/ imports nothing outside src/ (no test helper reaches the build, which compiles src/ alone)', () => {
    // Static, side-effect and dynamic imports alike. Only the co-located *.test.ts files, which the build leaves
    // out, may use the helpers of test/.
    const outside = sourceFiles(src).flatMap((file) =>
      relativeSpecifiers(readFileSync(file, 'utf8'))
        .filter((spec) => relative(src, resolve(dirname(file), spec)).startsWith('..'))
        .map((spec) => `${relative(src, file)} → ${spec}`),
    );
    expect(outside).toEqual([]);
  });

  it('as4/ is in rooms: model, message, security, http, capture; at its top only the face (index.ts) and the error catalogue', () => {
    const as4 = join(src, 'as4');
    const rooms = new Set(['model', 'message', 'security', 'http', 'capture']);
    const misplaced = tsFiles(as4)
      .map((f) => relative(as4, f).split('/'))
      .filter((parts) =>
        parts.length === 1
          ? !['index.ts', 'errors.ts'].includes(parts[0]!)
          : parts.length !== 2 || !rooms.has(parts[0]!),
      )
      .map((parts) => parts.join('/'));
    expect(misplaced).toEqual([]);
  });

  it('outside as4/, src/ reaches AS4 through as4/index.ts; only the CLI loads the capture verifier directly (lazily)', () => {
    const as4 = join(src, 'as4');
    const deep = sourceFiles(src)
      .filter((file) => !file.startsWith(as4 + '/'))
      .flatMap((file) =>
        relativeSpecifiers(readFileSync(file, 'utf8'))
          .map((spec) => relative(as4, resolve(dirname(file), spec)))
          .filter((target) => !target.startsWith('..') && target !== 'index.js')
          .filter((target) => !(relative(src, file).startsWith('cli/') && target.startsWith('capture/')))
          .map((target) => `${relative(src, file)} → as4/${target}`),
      );
    expect(deep).toEqual([]);
  });

  it('the package face (src/index.ts) exports no internals: not the AP internals accessor, no store, queue or pipeline', () => {
    const face = readFileSync(join(src, 'index.ts'), 'utf8');
    const targets = [...face.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)].map((m) => m[1]);
    expect(targets).not.toContain('./access-point/internals.js');
    expect(targets.filter((t) => /^\.\/(store|pipeline|api|cli|harness)\//.test(t!))).toEqual([]);
    expect(face).not.toMatch(/accessPointInternals|PipelineContext/);
  });

  it('core imports no other module', () => {
    expect(importsOf('core')).toEqual([]);
  });

  it('protocol modules do not import each other', () => {
    expect(importsOf('as4')).not.toContain('smtp');
    expect(importsOf('smtp')).not.toContain('as4');
  });

  it('only the composition root, the package face (index.ts), the CLI and the two-AP harness import the api, the access-point bindings and the CLI', () => {
    const wiring = new Set(['access-point', 'index', 'cli', 'harness']);
    for (const [from, targets] of edges) {
      if (wiring.has(from)) continue;
      for (const forbidden of ['access-point', 'cli', 'api']) {
        expect(targets.has(forbidden), `${from} imports ${forbidden}`).toBe(false);
      }
    }
  });

  it('AS4 profiles are plug-ins: the AS4 core imports none, and only the composition root and the two-AP harness (the demo) choose one; the CLI reaches peppol/ for its Peppol commands', () => {
    // `profiles` holds the plug-ins and the ERDS service; `peppol` the Peppol profile and its documents. The
    // composition root is access-point.ts with access-point/ (one module here); config/ validates P-Modes with the
    // as4 schema and needs no profile.
    const mayImport: Record<string, Set<string>> = {
      profiles: new Set(['access-point', 'harness']),
      peppol: new Set(['access-point', 'harness', 'cli', 'profiles']),
    };
    for (const module of Object.keys(mayImport))
      expect(importsOf('as4'), `as4 imports ${module}`).not.toContain(module);
    for (const [from, targets] of edges)
      for (const [module, allowed] of Object.entries(mayImport))
        if (from !== module && !allowed.has(from))
          expect(targets.has(module), `${from} imports ${module}`).toBe(false);
    expect(importsOf('access-point')).toEqual(expect.arrayContaining(['profiles']));
    expect(importsOf('profiles')).toEqual(expect.arrayContaining(['as4', 'peppol']));
  });

  it('trust lists sit above seal: pki signs and verifies no XML (no dynamic import to hide a cycle either)', () => {
    expect(importsOf('pki')).not.toContain('seal');
    expect(importsOf('pki')).not.toContain('trust-list');
    expect(importsOf('trust-list')).toEqual(expect.arrayContaining(['pki', 'seal']));
    // The CLI is the top of the graph (no module imports it), so a lazy import there hides no cycle: it keeps
    // `qerds verify` from loading the trusted-list and AS4 readers for a plain evidence file.
    const dynamic = sourceFiles(src).filter(
      (f) => !relative(src, f).startsWith('cli/') && /await import\(['"]\./.test(readFileSync(f, 'utf8')),
    );
    expect(dynamic.map((f) => relative(src, f))).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    const cycles: string[] = [];
    const visit = (module: string, path: string[]) => {
      if (path.includes(module)) {
        cycles.push([...path.slice(path.indexOf(module)), module].join(' → '));
        return;
      }
      for (const next of importsOf(module)) visit(next, [...path, module]);
    };
    for (const module of edges.keys()) visit(module, []);
    expect(cycles).toEqual([]);
  });
});
