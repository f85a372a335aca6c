import { ancestorNamespaces, processingInstructionC14n } from './dom.js';

const ELEMENT = 1;
const TEXT = 3;
const CDATA_SECTION = 4;
const PROCESSING_INSTRUCTION = 7;
const COMMENT = 8;

/**
 * Exclusive XML Canonicalization 1.0 without comments (W3C Exc-C14N) of one element's subtree as a document
 * subset, written for speed: one walk, one output string, namespace bookkeeping copied only where an element
 * outputs a declaration. Rules, each as the Recommendation states them:
 * - an element outputs the namespace declarations it visibly utilizes (its own prefix, or the default namespace
 *   when it has none; the prefixes of its attributes, `xml` excepted) that the nearest output ancestor did not
 *   output with the same value; `xmlns=""` only to undo a default namespace an output ancestor declared;
 * - prefixes of the InclusiveNamespaces PrefixList (and `#default`) are treated as under inclusive C14N: output
 *   wherever in scope and not output above with the same value (on the apex: in scope from its ancestors too);
 * - declarations sorted by prefix, attributes by (namespace URI, local name), both in code point order;
 * - attribute values escape `&`, `<`, `"`, TAB, LF, CR; text escapes `&`, `<`, `>`, CR; CDATA is text; a
 *   namespace URI is written as it is (libxml2 and xml-crypto do not escape it; a URI with `&` or `"` is rare);
 *   comments are left out; processing instructions are output as `<?target data?>`.
 * `outputAbove` (prefix → URI, '' the default namespace) are the declarations that output ancestors of the apex
 * already made when the apex is canonicalized as part of a larger subtree (an element we copy into XML we sign:
 * signals.ts): the apex's form in that subtree, not alone.
 * The DOM is only read. xml-c14n.test.ts compares it with xml-crypto's canonicalizer (the one used before) and
 * with xmllint on every fixture and on hostile values.
 */
export function excC14nSubtree(
  apex: Element,
  inclusivePrefixes: readonly string[] = [],
  outputAbove: ReadonlyMap<string, string> = new Map(),
): string {
  const listed = inclusivePrefixes.filter((p) => p !== '#default' && p !== '');
  const inclusiveDefault = inclusivePrefixes.includes('#default');
  // Namespaces in scope on the apex, for the PrefixList (its ancestors', then its own declarations).
  const apexScope = listed.length > 0 || inclusiveDefault ? ancestorNamespaces(apex) : undefined;
  if (apexScope) for (const [p, uri] of ownDeclarations(apex)) apexScope.set(p, uri);
  const walk: Walk = { apex, listed, inclusiveDefault, apexScope, out: '' };
  element(walk, apex, outputAbove, '');
  return walk.out;
}

interface Walk {
  readonly apex: Element;
  readonly listed: readonly string[];
  readonly inclusiveDefault: boolean;
  readonly apexScope: ReadonlyMap<string, string> | undefined;
  out: string;
}

/** A declaration to output on this element unless the output ancestors already did with the same URI. */
function consider(
  decls: [string, string][] | undefined,
  rendered: ReadonlyMap<string, string>,
  prefix: string,
  uri: string,
): [string, string][] | undefined {
  const before = rendered.get(prefix) ?? (prefix === '' ? '' : undefined);
  if (before === uri) return decls;
  if (!decls) return [[prefix, uri]];
  for (const d of decls) if (d[0] === prefix) return decls;
  decls.push([prefix, uri]);
  return decls;
}

/**
 * One element and its subtree. `rendered`: prefix → URI output by the output ancestors ('' the default
 * namespace). `scopeDefault`: the in-scope default namespace (for `#default`).
 */
function element(w: Walk, el: Element, rendered: ReadonlyMap<string, string>, scopeDefault: string): void {
  const attrs = el.attributes;
  let decls = consider(undefined, rendered, el.prefix ?? '', el.namespaceURI ?? '');
  let own: Attr[] | undefined;
  let ownDefault: string | undefined;
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs.item(i) as Attr;
    const name = a.name;
    if (name === 'xmlns') {
      ownDefault = a.value;
      continue;
    }
    if (name.startsWith('xmlns:')) continue;
    (own ??= []).push(a);
    if (a.prefix && a.prefix !== 'xml') decls = consider(decls, rendered, a.prefix, a.namespaceURI ?? '');
  }
  const isApex = el === w.apex;
  for (const p of w.listed) {
    const uri = isApex ? w.apexScope?.get(p) : el.getAttribute(`xmlns:${p}`) || undefined;
    if (uri !== undefined) decls = consider(decls, rendered, p, uri);
  }
  let childDefault = scopeDefault;
  if (w.inclusiveDefault) {
    childDefault = isApex ? (w.apexScope?.get('') ?? '') : (ownDefault ?? scopeDefault);
    decls = consider(decls, rendered, '', childDefault);
  }
  let out = `<${el.tagName}`;
  let next = rendered;
  if (decls) {
    if (decls.length > 1) decls.sort(declarationOrder);
    const map = new Map(rendered);
    for (const [p, uri] of decls) {
      // The URI as it is, unescaped, as libxml2 (xmlsec1, xmllint) and xml-crypto write it.
      out += p === '' ? ` xmlns="${uri}"` : ` xmlns:${p}="${uri}"`;
      map.set(p, uri);
    }
    next = map;
  }
  if (own) {
    if (own.length > 1) own.sort(attributeOrder);
    for (const a of own) out += ` ${a.name}="${escapeAttribute(a.value)}"`;
  }
  w.out += `${out}>`;
  for (let c = el.firstChild; c; c = c.nextSibling) {
    switch (c.nodeType) {
      case ELEMENT:
        element(w, c as Element, next, childDefault);
        break;
      case TEXT:
      case CDATA_SECTION:
        w.out += escapeText((c as CharacterData).data);
        break;
      case PROCESSING_INSTRUCTION:
        w.out += processingInstructionC14n(c as ProcessingInstruction);
        break;
      case COMMENT:
        break;
      default:
        throw new Error(`Unable to exclusive canonicalize node type: ${c.nodeType}`);
    }
  }
  w.out += `</${el.tagName}>`;
}

function declarationOrder(a: [string, string], b: [string, string]): number {
  return compareUtf16AsCodePoints(a[0], b[0]);
}

function ownDeclarations(el: Element): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i) as Attr;
    if (a.name === 'xmlns') out.push(['', a.value]);
    else if (a.name.startsWith('xmlns:')) out.push([a.name.slice(6), a.value]);
  }
  return out;
}

function attributeOrder(a: Attr, b: Attr): number {
  return (
    compareUtf16AsCodePoints(a.namespaceURI ?? '', b.namespaceURI ?? '') ||
    compareUtf16AsCodePoints(a.localName ?? a.name, b.localName ?? b.name)
  );
}

/**
 * Code point order of two strings without splitting them into code points: UTF-16 order is code point order
 * except between a surrogate (U+D800–U+DFFF, half of a code point above U+FFFF) and a unit in U+E000–U+FFFF.
 */
export function compareUtf16AsCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

const TEXT_SPECIAL = /[&<>\r]/;
const ATTRIBUTE_SPECIAL = /[&<"\t\n\r]/;
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
};

const escapeOne = (c: string): string => ESCAPES[c] as string;

/** Text as canonical XML writes it (also valid XML text: what a parser reads back as `s`). */
export function escapeText(s: string): string {
  return TEXT_SPECIAL.test(s) ? s.replace(/[&<>\r]/g, escapeOne) : s;
}

/** An attribute value as canonical XML writes it (valid in a `"`-quoted attribute, read back as `s`). */
export function escapeAttribute(s: string): string {
  return ATTRIBUTE_SPECIAL.test(s) ? s.replace(/[&<"\t\n\r]/g, escapeOne) : s;
}
