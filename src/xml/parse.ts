import { XMLSerializer } from '@xmldom/xmldom';
import { QerdsError, type QerdsErrorCode } from '../core/errors.js';
import { DOCUMENT_TYPE_NODE, hasProcessingInstruction } from './dom.js';
import { assertXmlWithinLimits, type XmlLimits } from './limits.js';
import { linearDomParser } from './linear-end-tags.js';

export interface ParseXmlOptions {
  /** What the document is, for messages ("SOAP envelope", "evidence"…). @defaultValue 'XML' */
  readonly what?: string;
  /**
   * Leave processing instructions for the caller to judge (SOAP refuses them with its own message; an SwA XML
   * attachment keeps them, C14N outputs them). @defaultValue false: refused
   */
  readonly allowProcessingInstructions?: boolean;
  /** Structural limits checked before parsing (depth, elements, attributes, size). @defaultValue DEFAULT_XML_LIMITS */
  readonly limits?: XmlLimits;
}

/**
 * Parse XML with the one DOM (@xmldom/xmldom), strictly: any parser warning or error is fatal (xmldom's warnings
 * are all recoveries from markup that is not well-formed), documents with a DOCTYPE are refused, and so are
 * processing instructions unless the caller takes them on. Failures throw QerdsError(`errorCode`), the caller's
 * code. Threat: entity expansion ("billion laughs") and external entities, and DTD-declared ID attributes that
 * would let an attacker redirect `#id` references; documents beyond `limits` (nesting depth, element and
 * attribute counts, size) are refused before the DOM is built, since that cost blocks the event loop and deep
 * nesting overflows the stack of recursive walks; processing instructions are dropped by the canonicalizer
 * inside the document element, so what is signed would differ from what is shown.
 */
export function parseXmlStrict(
  xml: string,
  errorCode: QerdsErrorCode,
  options: ParseXmlOptions = {},
): Document {
  const what = options.what ?? 'XML';
  // Refused before parsing: the threat is in the parse itself.
  if (/<!DOCTYPE/i.test(xml)) throw new QerdsError(errorCode, `${what} with a DOCTYPE is refused`);
  // Refused before parsing: the DOM is built synchronously, and a deep tree overflows every recursive walk.
  assertXmlWithinLimits(xml, errorCode, what, options.limits);
  const fail = (level: string) => (msg: string) => {
    throw new QerdsError(errorCode, `${what} is not well-formed XML (${level}: ${String(msg).trim()})`);
  };
  let doc: Document;
  // xmldom's DOMParser with its end-tag look-up made linear (linear-end-tags.ts): the same DOM and findings.
  const DOMParser = linearDomParser();
  try {
    doc = new DOMParser({
      errorHandler: { warning: fail('warning'), error: fail('error'), fatalError: fail('fatal') },
    }).parseFromString(xml, 'application/xml');
  } catch (cause) {
    if (cause instanceof QerdsError) throw cause;
    throw new QerdsError(errorCode, `${what} is not well-formed XML: ${(cause as Error).message}`, { cause });
  }
  if (!doc?.documentElement) throw new QerdsError(errorCode, `${what} has no root element`);
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === DOCUMENT_TYPE_NODE)
      throw new QerdsError(errorCode, `${what} with a DOCTYPE is refused`);
  }
  // A processing instruction in the DOM comes from a `<?` in the text (references cannot make markup): without one
  // after the XML declaration the walk has nothing to find.
  const piAt = xml.indexOf('<?', /^<\?xml[ \t\r\n]/.test(xml) ? 5 : 0);
  if (!options.allowProcessingInstructions && piAt >= 0 && hasProcessingInstruction(doc)) {
    throw new QerdsError(errorCode, `${what} with processing instructions is refused`);
  }
  return doc;
}

export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}
