import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { canonicalize, canonicalizeDocument, canonicalizeInclusive } from '../../src/xml/c14n.js';
import { parseWellFormed, XmlRefusal } from '../../src/xml/well-formed.js';

/*
 * Oracles for src/xml/well-formed.ts: xmldom's own DOMParser run as parseXmlStrict ran it before (every warning
 * and error fatal), the DOM compared node by node, and xmllint (libxml2, a conforming XML 1.0 + Namespaces
 * parser) as the independent judge of well-formedness.
 */

/**
 * XML 1.0's end-of-line handling (§2.11: CR LF and a lone CR become LF), for xmldom's `normalizeLineEndings`
 * option. xmldom's default applies XML 1.1's set (U+0085, U+2028 and CR U+0085 become LF too), which is wrong for
 * an XML 1.0 document: libxml2 (xmllint, xmlsec1) keeps those characters, and so does well-formed.ts. There the
 * oracle follows XML 1.0 and libxml2, not xmldom's default.
 */
export const xml10LineEnds = (xml: string): string => xml.replace(/\r\n?/g, '\n');

/**
 * xmldom's DOMParser with every warning and error fatal (parseXmlStrict before well-formed.ts): the Document or why
 * not. `lineEnds`: 'xml1.0' (the default) reads line ends as XML 1.0 does (xml10LineEnds), 'xmldom' as xmldom's
 * DOMParser does by default (what parseXmlStrict did before well-formed.ts).
 */
export function xmldomStrict(xml: string, lineEnds: 'xml1.0' | 'xmldom' = 'xml1.0'): Document | string {
  const fail = (level: string) => (m: string) => {
    throw new Error(`${level}: ${m}`);
  };
  try {
    const doc = new DOMParser({
      errorHandler: { warning: fail('warning'), error: fail('error'), fatalError: fail('fatal') },
      ...(lineEnds === 'xml1.0' ? { normalizeLineEndings: xml10LineEnds } : {}),
    }).parseFromString(xml, 'application/xml');
    for (let n = doc.firstChild; n; n = n.nextSibling) if (n.nodeType === 10) return 'DOCTYPE';
    return doc.documentElement ? doc : 'no root element';
  } catch (e) {
    return (e as Error).message;
  }
}

/** well-formed.ts: the Document or why not. */
export function ours(xml: string): Document | string {
  try {
    const doc = parseWellFormed(xml).document;
    return doc.documentElement ? doc : 'no root element';
  } catch (e) {
    if (e instanceof XmlRefusal) return `${e.kind}: ${e.reason}`;
    throw e;
  }
}

/**
 * The first difference between two DOMs as object graphs (own properties in order, prototypes, node identity
 * kept: a's parentNode must be the node that corresponds to it in b), or undefined. The Document's `_inc` (the
 * counter xmldom's live node lists compare to know they are stale; any value that changes with the tree serves)
 * is left out: xmldom counts the text nodes its normalize() merges, which are never made here.
 */
export function domDifference(a: Document, b: Document): string | undefined {
  const pairs = new Map<object, object>();
  const work: [unknown, unknown, string][] = [[a, b, 'document']];
  while (work.length > 0) {
    const [x, y, path] = work.pop()!;
    if (typeof x !== 'object' || x === null || typeof y !== 'object' || y === null) {
      if (!Object.is(x, y)) return `${path}: ${JSON.stringify(x)} ≠ ${JSON.stringify(y)}`;
      continue;
    }
    const seen = pairs.get(x);
    if (seen !== undefined) {
      if (seen !== y) return `${path}: not the corresponding node`;
      continue;
    }
    pairs.set(x, y);
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return `${path}: other prototype`;
    const keys = Reflect.ownKeys(x).filter((k) => !(x === a && k === '_inc'));
    const otherKeys = Reflect.ownKeys(y).filter((k) => !(y === b && k === '_inc'));
    if (keys.join() !== otherKeys.join())
      return `${path}: own properties ${keys.join()} ≠ ${otherKeys.join()}`;
    for (const k of keys) {
      work.push([
        (x as Record<PropertyKey, unknown>)[k],
        (y as Record<PropertyKey, unknown>)[k],
        `${path}.${String(k)}`,
      ]);
    }
  }
  return undefined;
}

/** What the code base makes of a DOM: serialization, our exc-c14n of the root, xml-crypto's inclusive C14N, the document's c14n. */
export function renderings(doc: Document): string[] {
  const root = doc.documentElement!;
  return [
    new XMLSerializer().serializeToString(doc),
    canonicalize(root),
    canonicalizeInclusive(root),
    canonicalizeDocument(doc),
  ];
}

/**
 * Whether xmllint (libxml2) finds each document well-formed. Namespace warnings (a relative URI) do not count, nor
 * does libxml2's own check that a namespace name is a valid URI (RFC 3986: `urn:€` is an IRI, not a URI), which
 * Namespaces in XML does not list among its constraints and xmldom, expat and Xerces do not make. The documents are
 * strings, already decoded: xmllint reads them as UTF-8 whatever encoding their declaration names (a syntactically
 * valid name; libxml2 would refuse one it does not know, or misread the bytes).
 */
export function xmllintWellFormed(docs: readonly string[]): boolean[] {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-xml-oracle-'));
  try {
    const files = docs.map((xml, i) => {
      const file = join(dir, `${i}.xml`);
      writeFileSync(
        file,
        xml.replace(
          /^(\ufeff?<\?xml[^>]*?encoding[ \t\r\n]*=[ \t\r\n]*)(["'])[A-Za-z][\w.-]*\2/,
          '$1$2UTF-8$2',
        ),
        'utf8',
      );
      return file;
    });
    const refused = new Set<string>();
    for (let from = 0; from < files.length; from += 500) {
      const batch = files.slice(from, from + 500);
      const r = spawnSync('xmllint', ['--noout', '--nonet', ...batch], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      for (const line of r.stderr.split('\n')) {
        const m = /^(.*?\.xml):\d+: (?:parser|namespace) error : (.*)$/.exec(line);
        if (m && !/ is not a valid URI$/.test(m[2]!)) refused.add(m[1]!);
      }
    }
    return files.map((f) => !refused.has(f));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A small deterministic generator (no Math.random: a failure repeats). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

export function xmlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return xmlFiles(path);
    return name.endsWith('.xml') ? [path] : [];
  });
}
