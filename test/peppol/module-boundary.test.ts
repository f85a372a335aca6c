import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The Peppol module is a plug-in: it leans on core, xml and the AS4 types; nothing but the wiring leans on it. */
const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory()
      ? files(join(dir, n))
      : n.endsWith('.ts') && !n.endsWith('.test.ts')
        ? [join(dir, n)]
        : [],
  );
const moduleOf = (file: string) => relative(src, file).split('/')[0]!;
const importsOf = (file: string) =>
  [
    ...readFileSync(file, 'utf8').matchAll(/(import(?:\s+type)?|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g),
  ].map((m) => ({
    typeOnly: m[1]!.includes('type'),
    target: moduleOf(resolve(dirname(file), m[2]!)),
  }));

describe('src/peppol module boundary', () => {
  it('imports only core, xml and (types only) as4', () => {
    const edges = files(join(src, 'peppol')).flatMap((f) =>
      importsOf(f)
        .filter((i) => i.target !== 'peppol')
        .map((i) => ({ ...i, from: relative(src, f) })),
    );
    expect(edges.length).toBeGreaterThan(0);
    for (const e of edges) {
      expect(['core', 'xml', 'as4'], `${e.from} → ${e.target}`).toContain(e.target);
      if (e.target === 'as4') expect(e.typeOnly, `${e.from} imports as4 values`).toBe(true);
    }
  });

  it('is imported by no module other than the composition root, the CLI, the two-AP harness (demo) and the profile plug-ins', () => {
    const importers = files(src)
      .filter((f) => moduleOf(f) !== 'peppol')
      .filter((f) => importsOf(f).some((i) => i.target === 'peppol'))
      .map((f) => moduleOf(f));
    for (const m of importers)
      expect(['access-point', 'access-point.ts', 'cli', 'harness', 'profiles'], m).toContain(m);
  });
});
