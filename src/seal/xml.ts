import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { QerdsError } from '../core/errors.js';

/** Namespaces of XMLDSig and XAdES (EN 319 132-1). */
export const NS = {
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xades: 'http://uri.etsi.org/01903/v1.3.2#',
  /** XAdES 1.4.1: ArchiveTimeStamp, TimeStampValidationData (EN 319 132-1 §5.5). */
  xades141: 'http://uri.etsi.org/01903/v1.4.1#',
  xmlns: 'http://www.w3.org/2000/xmlns/',
} as const;

export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties';

const ELEMENT_NODE = 1;
const PROCESSING_INSTRUCTION_NODE = 7;
const DOCUMENT_TYPE_NODE = 10;

/**
 * Parse XML with the one DOM (@xmldom/xmldom), strictly: any parse error throws, and documents with a
 * DOCTYPE or processing instructions are refused. Threat: entity expansion ("billion laughs") and
 * DTD-declared ID attributes that would let an attacker redirect `#id` references; processing
 * instructions would also be silently dropped by the canonicalizer, so what is signed would differ
 * from what is shown.
 */
export function parseXmlStrict(xml: string, errorCode: string): Document {
  const errors: string[] = [];
  const parser = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (msg: string) => errors.push(msg),
      fatalError: (msg: string) => errors.push(msg),
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(xml, 'text/xml');
  } catch (cause) {
    throw new QerdsError(errorCode, `XML is not well-formed: ${(cause as Error).message}`, { cause });
  }
  if (errors.length > 0 || !doc?.documentElement) {
    throw new QerdsError(errorCode, `XML is not well-formed: ${errors[0] ?? 'no root element'}`);
  }
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === DOCUMENT_TYPE_NODE) throw new QerdsError(errorCode, 'XML with a DOCTYPE is refused');
  }
  if (hasProcessingInstruction(doc)) throw new QerdsError(errorCode, 'XML with processing instructions is refused');
  return doc;
}

function hasProcessingInstruction(node: Node): boolean {
  for (let n = node.firstChild; n; n = n.nextSibling) {
    // xmldom keeps the XML declaration as a PI with target "xml": that one is not a PI.
    if (n.nodeType === PROCESSING_INSTRUCTION_NODE && (n as ProcessingInstruction).target !== 'xml') return true;
    if (n.nodeType === ELEMENT_NODE && hasProcessingInstruction(n)) return true;
  }
  return false;
}

export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

/** Exclusive XML canonicalization (without comments) of one element: the one canonicalizer. */
export function excC14n(element: Element): string {
  return new ExclusiveCanonicalization().process(element, {});
}

export function isElement(node: Node | null | undefined): node is Element {
  return !!node && node.nodeType === ELEMENT_NODE;
}

/** Element children of `parent`, optionally only those with the given namespace and local name. */
export function childElements(parent: Node, ns?: string, localName?: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (!isElement(n)) continue;
    if (ns !== undefined && n.namespaceURI !== ns) continue;
    if (localName !== undefined && n.localName !== localName) continue;
    out.push(n);
  }
  return out;
}

/** The single child element with that name; `undefined` when absent, throws `errorCode` when repeated. */
export function singleChild(parent: Node, ns: string, localName: string, errorCode: string): Element | undefined {
  const found = childElements(parent, ns, localName);
  if (found.length > 1) throw new QerdsError(errorCode, `more than one ${localName} element`);
  return found[0];
}

export function requireChild(parent: Node, ns: string, localName: string, errorCode: string): Element {
  const found = singleChild(parent, ns, localName, errorCode);
  if (!found) throw new QerdsError(errorCode, `missing ${localName} element`);
  return found;
}

/** Descendant elements (document order) with that namespace and local name. */
export function descendants(root: Node, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  const walk = (node: Node): void => {
    for (let n = node.firstChild; n; n = n.nextSibling) {
      if (!isElement(n)) continue;
      if (n.namespaceURI === ns && n.localName === localName) out.push(n);
      walk(n);
    }
  };
  walk(root);
  return out;
}

/** Text content with surrounding whitespace removed. */
export function textOf(element: Element): string {
  return (element.textContent ?? '').trim();
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
