import { XMLSerializer } from '@xmldom/xmldom';
import { QerdsError, type QerdsErrorCode } from '../core/errors.js';
import type { XmlLimits } from './limits.js';
import { lineAndColumn, parseWellFormed, XmlRefusal, type WellFormedXml } from './well-formed.js';

export interface ParseXmlOptions {
  /** What the document is, for messages ("SOAP envelope", "evidence"…). @defaultValue 'XML' */
  readonly what?: string;
  /**
   * Leave processing instructions for the caller to judge (SOAP refuses them with its own message; an SwA XML
   * attachment keeps them, C14N outputs them). @defaultValue false: refused
   */
  readonly allowProcessingInstructions?: boolean;
  /** Structural limits checked while parsing (depth, elements, attributes, size). @defaultValue DEFAULT_XML_LIMITS */
  readonly limits?: XmlLimits;
}

/**
 * Parse XML into the one DOM (@xmldom/xmldom's), strictly: a document that is not well-formed XML 1.0 with
 * namespaces is refused (well-formed.ts reads it; xmldom's own reader recovers from much of that silently), and so
 * are documents with a DOCTYPE, and processing instructions unless the caller takes them on. Failures throw
 * QerdsError(`errorCode`), the caller's code. Threat: entity expansion ("billion laughs") and external entities,
 * and DTD-declared ID attributes that would let an attacker redirect `#id` references; documents beyond `limits`
 * (nesting depth, element and attribute counts, size) are refused as they are read, before the cost grows with
 * them (the reader never recurses, but every recursive walk of the DOM after it would overflow the stack);
 * processing instructions are dropped by the canonicalizer inside the document element, so what is signed would
 * differ from what is shown.
 */
export function parseXmlStrict(
  xml: string,
  errorCode: QerdsErrorCode,
  options: ParseXmlOptions = {},
): Document {
  const what = options.what ?? 'XML';
  // Refused before parsing, wherever it appears (the reader refuses a DOCTYPE too, this also catches one quoted).
  if (mentionsDoctype(xml)) throw new QerdsError(errorCode, `${what} with a DOCTYPE is refused`);
  let parsed: WellFormedXml;
  try {
    parsed = parseWellFormed(xml, options.limits);
  } catch (cause) {
    if (!(cause instanceof XmlRefusal))
      throw new QerdsError(errorCode, `${what} is not well-formed XML: ${(cause as Error).message}`, {
        cause,
      });
    if (cause.kind === 'limit')
      throw new QerdsError(errorCode, `${what} exceeds a structural limit: ${cause.reason}`, {
        details: { limit: cause.reason },
      });
    if (cause.kind === 'doctype') throw new QerdsError(errorCode, `${what} with a DOCTYPE is refused`);
    const { line, column } = lineAndColumn(xml, cause.offset);
    throw new QerdsError(
      errorCode,
      `${what} is not well-formed XML (${cause.reason}, line ${line} column ${column})`,
    );
  }
  if (!parsed.document.documentElement) throw new QerdsError(errorCode, `${what} has no root element`);
  if (!options.allowProcessingInstructions && parsed.processingInstructions) {
    throw new QerdsError(errorCode, `${what} with processing instructions is refused`);
  }
  return parsed.document;
}

export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

/*
 * How serializeXml (xmldom's XMLSerializer) escapes, for producers that write the same text without a DOM
 * (evidence/evidence-text.ts, seal/xades-seal-text.ts): text `<`, `&`, `>`; attribute values (between `"`) also
 * `"`, TAB, LF and CR, as decimal character references. Nothing else is escaped (no character check: a character
 * XML 1.0 cannot hold is written as it is, as the serializer writes it).
 */
const SERIALIZED_TEXT_SPECIAL = /[<&>]/;
const SERIALIZED_ATTRIBUTE_SPECIAL = /[<>&"\t\n\r]/;
const SERIALIZER_ESCAPES: Readonly<Record<string, string>> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};
const serializerEscape = (c: string): string => SERIALIZER_ESCAPES[c] as string;

/** Character data as serializeXml writes it. */
export function serializedText(s: string): string {
  return SERIALIZED_TEXT_SPECIAL.test(s) ? s.replace(/[<&>]/g, serializerEscape) : s;
}

/** An attribute value as serializeXml writes it (between `"`). */
export function serializedAttributeValue(s: string): string {
  return SERIALIZED_ATTRIBUTE_SPECIAL.test(s) ? s.replace(/[<>&"\t\n\r]/g, serializerEscape) : s;
}

const DOCTYPE = 'doctype';

/**
 * Whether `<!DOCTYPE` occurs anywhere in `xml`, its letters in any ASCII case (as `/<!DOCTYPE/i` finds it): from
 * one `<!` to the next by indexOf, which skips the text between far faster than the case-insensitive regex
 * scanned every character of a 20 KB evidence (1 % of its verification).
 */
export function mentionsDoctype(xml: string): boolean {
  for (let i = xml.indexOf('<!'); i !== -1; i = xml.indexOf('<!', i + 2)) {
    let k = 0;
    // `| 0x20` folds exactly the ASCII capitals onto the small letters of "doctype".
    while (k < 7 && (xml.charCodeAt(i + 2 + k) | 0x20) === DOCTYPE.charCodeAt(k)) k++;
    if (k === 7) return true;
  }
  return false;
}
