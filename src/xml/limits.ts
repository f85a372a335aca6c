import { QerdsError, type QerdsErrorCode } from '../core/errors.js';

/**
 * Structural limits checked on the raw text before any DOM is built. Threat: an unauthenticated peer sends
 * a document that is well-formed but costly (millions of elements or attributes, or nesting deep enough that
 * every recursive walk overflows the stack); the DOM parser is synchronous, so its cost blocks the event loop
 * for every other client. Counting is a single linear pass without allocation per element.
 */
export interface XmlLimits {
  /** Largest document, in UTF-16 code units of the string handed in (≈ bytes for ASCII). @defaultValue 67108864 (64 Mi) */
  readonly maxChars?: number;
  /** Deepest element nesting (the root is depth 1). @defaultValue 256 (libxml2's default parser limit) */
  readonly maxDepth?: number;
  /** Most elements in the document. @defaultValue 250000 */
  readonly maxElements?: number;
  /** Most attributes (namespace declarations included) on one element. @defaultValue 256 */
  readonly maxAttributesPerElement?: number;
  /** Most attributes in the whole document. @defaultValue 1000000 */
  readonly maxAttributes?: number;
}

export const DEFAULT_XML_LIMITS: Required<XmlLimits> = Object.freeze({
  maxChars: 64 * 1024 * 1024,
  maxDepth: 256,
  maxElements: 250_000,
  maxAttributesPerElement: 256,
  maxAttributes: 1_000_000,
});

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQUALS = 0x3d;
const QUOT = 0x22;
const APOS = 0x27;

/**
 * Throws QerdsError(`errorCode`) when `xml` exceeds `limits`. Markup that is not well-formed is left to the
 * parser (which refuses it); this pass only has to count what a well-formed reading would count, and never
 * under-count a hostile document: a quote left open runs to the end, which the parser then refuses.
 */
export function assertXmlWithinLimits(
  xml: string,
  errorCode: QerdsErrorCode,
  what: string,
  limits: XmlLimits = {},
): void {
  const lim = { ...DEFAULT_XML_LIMITS, ...limits };
  const refuse = (why: string): never => {
    throw new QerdsError(errorCode, `${what} exceeds a structural limit: ${why}`, {
      details: { limit: why },
    });
  };
  if (xml.length > lim.maxChars) refuse(`more than ${lim.maxChars} characters`);
  let depth = 0;
  let elements = 0;
  let attributes = 0;
  let i = xml.indexOf('<');
  const end = xml.length;
  while (i >= 0 && i < end) {
    const next = xml.charCodeAt(i + 1);
    if (next === BANG) {
      // Comment, CDATA section or declaration: skip to its end (DOCTYPE is refused by the caller anyway).
      const close = xml.startsWith('<!--', i) ? '-->' : xml.startsWith('<![CDATA[', i) ? ']]>' : '>';
      const at = xml.indexOf(close, i + 2);
      if (at < 0) return;
      i = xml.indexOf('<', at + close.length);
      continue;
    }
    if (next === QUESTION) {
      const at = xml.indexOf('?>', i + 2);
      if (at < 0) return;
      i = xml.indexOf('<', at + 2);
      continue;
    }
    if (next === SLASH) {
      depth--;
      const at = xml.indexOf('>', i + 2);
      if (at < 0) return;
      i = xml.indexOf('<', at + 1);
      continue;
    }
    // A start tag: count its attributes (each has one '=' outside quotes) up to its '>'.
    if (++elements > lim.maxElements) refuse(`more than ${lim.maxElements} elements`);
    let own = 0;
    let j = i + 1;
    let quote = 0;
    for (; j < end; j++) {
      const c = xml.charCodeAt(j);
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === QUOT || c === APOS) {
        quote = c;
      } else if (c === EQUALS) {
        if (++own > lim.maxAttributesPerElement)
          refuse(`more than ${lim.maxAttributesPerElement} attributes on one element`);
      } else if (c === GT || c === LT) {
        break;
      }
    }
    attributes += own;
    if (attributes > lim.maxAttributes) refuse(`more than ${lim.maxAttributes} attributes`);
    if (j >= end) return;
    if (depth + 1 > lim.maxDepth) refuse(`elements nested deeper than ${lim.maxDepth}`);
    if (xml.charCodeAt(j - 1) !== SLASH) depth++; // an empty-element tag opens nothing
    i = xml.indexOf('<', xml.charCodeAt(j) === LT ? j : j + 1);
  }
}
