import { QerdsError } from '../core/errors.js';
import { xmlCharProblem } from '../core/xml-chars.js';
import { compareUtf16AsCodePoints, escapeAttribute, escapeText } from './exc-c14n.js';

/**
 * XML we build and sign ourselves, written straight in its Exclusive C14N form (no DOM, no canonicalizer): the
 * text written is the canonical form, so its UTF-8 octets are what a verifier digests after parsing it and
 * canonicalizing the element. What makes that true:
 * - start and end tag always (never `<a/>`), nothing but the given attributes, no whitespace between attributes
 *   but one space, text and attribute values escaped exactly as canonical XML escapes them (exc-c14n.ts);
 * - namespace declarations sorted by prefix, attributes by (namespace URI, local name), in code point order;
 * - the caller declares on each element exactly the namespaces Exclusive C14N outputs there: those it visibly
 *   uses (its own prefix, its attributes' prefixes, `xml` excepted) that no ancestor inside the signed element
 *   declared with the same URI. (canonical-text.test.ts and the AS4 tests check the result against
 *   excC14nSubtree of the parsed text and against xmllint.)
 * A character XML 1.0 cannot carry throws (the text would not parse, or not as what was signed).
 */

/** One attribute: namespace URI ('' for none), local name, qualified name as written, value. */
export type CanonicalAttribute = readonly [
  namespaceUri: string,
  localName: string,
  qname: string,
  value: string,
];

/** `<qname decls attrs>content</qname>`; `content` is canonical text already (canonicalText, canonicalElement). */
export function canonicalElement(
  qname: string,
  declarations: readonly (readonly [prefix: string, uri: string])[],
  attributes: readonly CanonicalAttribute[],
  content: string,
): string {
  let out = `<${qname}`;
  const decls = declarations.length > 1 ? [...declarations].sort(byPrefix) : declarations;
  for (const [prefix, uri] of decls) out += prefix === '' ? ` xmlns="${uri}"` : ` xmlns:${prefix}="${uri}"`;
  const attrs = attributes.length > 1 ? [...attributes].sort(byName) : attributes;
  for (const a of attrs) out += ` ${a[2]}="${canonicalAttributeValue(a[3])}"`;
  return `${out}>${content}</${qname}>`;
}

/** Character data as canonical XML writes it. */
export function canonicalText(s: string): string {
  return escapeText(checked(s));
}

/** An attribute value as canonical XML writes it (between `"`). */
export function canonicalAttributeValue(s: string): string {
  return escapeAttribute(checked(s));
}

const byPrefix = (a: readonly [string, string], b: readonly [string, string]): number =>
  compareUtf16AsCodePoints(a[0], b[0]);

const byName = (a: CanonicalAttribute, b: CanonicalAttribute): number =>
  compareUtf16AsCodePoints(a[0], b[0]) || compareUtf16AsCodePoints(a[1], b[1]);

/** C0 controls but TAB, LF, CR; U+FFFE, U+FFFF; a surrogate that is not half of a pair. */
const NOT_XML_CHAR =
  // eslint-disable-next-line no-control-regex -- control characters are exactly what XML 1.0 cannot carry
  /[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checked(s: string): string {
  if (NOT_XML_CHAR.test(s)) throw new QerdsError('BAD_REQUEST', xmlCharProblem(s) ?? 'not XML 1.0 text');
  return s;
}
