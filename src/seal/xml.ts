import { QerdsError, type QerdsErrorCode } from '../core/errors.js';
import { canonicalize, childElements, EXC_C14N, ENVELOPED_SIGNATURE, XML_NS } from '../xml/index.js';

/** Parsing, serialization, canonicalization and the DOM walkers are the xml module's (re-exported for seal's files and tests). */
export { childElements, descendants, isElement, parseXmlStrict, serializeXml, textOf } from '../xml/index.js';
export { EXC_C14N, ENVELOPED_SIGNATURE };

/** Namespaces of XMLDSig and XAdES (EN 319 132-1). */
export const NS = {
  ds: XML_NS.ds,
  xades: 'http://uri.etsi.org/01903/v1.3.2#',
  /** XAdES 1.4.1: ArchiveTimeStamp, TimeStampValidationData (EN 319 132-1 §5.5). */
  xades141: 'http://uri.etsi.org/01903/v1.4.1#',
  xmlns: XML_NS.xmlns,
} as const;

export const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties';

/** Exclusive XML canonicalization (without comments) of one element, with the one canonicalizer (xml/). */
export function excC14n(element: Element): string {
  return canonicalize(element);
}

/** The single child element with that name; `undefined` when absent, throws `errorCode` when repeated. */
export function singleChild(
  parent: Node,
  ns: string,
  localName: string,
  errorCode: QerdsErrorCode,
): Element | undefined {
  const found = childElements(parent, ns, localName);
  if (found.length > 1) throw new QerdsError(errorCode, `more than one ${localName} element`);
  return found[0];
}

export function requireChild(
  parent: Node,
  ns: string,
  localName: string,
  errorCode: QerdsErrorCode,
): Element {
  const found = singleChild(parent, ns, localName, errorCode);
  if (!found) throw new QerdsError(errorCode, `missing ${localName} element`);
  return found;
}

/** A small element builder on the one DOM. `children` may be elements or one text. */
export function el(
  doc: Document,
  ns: string,
  qname: string,
  attrs: Record<string, string | undefined> = {},
  children: readonly Element[] | string = [],
): Element {
  const e = doc.createElementNS(ns, qname);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (name === 'xmlns' || name.startsWith('xmlns:')) e.setAttributeNS(NS.xmlns, name, value);
    else e.setAttribute(name, value);
  }
  if (typeof children === 'string') e.appendChild(doc.createTextNode(children));
  else for (const c of children) e.appendChild(c);
  return e;
}
