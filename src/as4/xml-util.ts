import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { QerdsError } from '../core/index.js';
import { NS } from './namespaces.js';

const ELEMENT_NODE = 1;
const PROCESSING_INSTRUCTION_NODE = 7;
const DOCUMENT_TYPE_NODE = 10;

/**
 * Parse XML strictly: any parser warning or error is fatal, and DTDs are refused (the threat is entity
 * expansion and external entity resolution; SOAP 1.2 also forbids DTDs and processing instructions).
 * Failures throw QerdsError(`errorCode`).
 */
export function parseXml(xml: string, errorCode = 'AS4_EBMS_0009', what = 'SOAP envelope'): Document {
  if (/<!DOCTYPE/i.test(xml)) throw new QerdsError(errorCode, `${what} contains a DTD`);
  const fail = (level: string) => (msg: string) => {
    throw new QerdsError(errorCode, `${what} is not well-formed XML (${level}: ${String(msg).trim()})`);
  };
  let doc: Document;
  try {
    doc = new DOMParser({
      errorHandler: { warning: fail('warning'), error: fail('error'), fatalError: fail('fatal') },
    }).parseFromString(xml, 'application/xml');
  } catch (cause) {
    if (cause instanceof QerdsError) throw cause;
    throw new QerdsError(errorCode, `${what} is not well-formed XML`, { cause });
  }
  if (!doc?.documentElement) throw new QerdsError(errorCode, `${what} has no root element`);
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === DOCUMENT_TYPE_NODE) throw new QerdsError(errorCode, `${what} contains a DTD`);
  }
  return doc;
}

/** Refuse processing instructions anywhere but the XML declaration (SOAP 1.2 Part 1 §5). */
export function assertNoProcessingInstructions(doc: Document, errorCode = 'AS4_EBMS_0009'): void {
  const walk = (node: Node): void => {
    for (let n = node.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === PROCESSING_INSTRUCTION_NODE && (n as ProcessingInstruction).target.toLowerCase() !== 'xml') {
        throw new QerdsError(errorCode, 'processing instructions are not allowed in a SOAP message');
      }
      if (n.nodeType === ELEMENT_NODE) walk(n);
    }
  };
  walk(doc);
}

export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

export function isElement(node: Node | null | undefined): node is Element {
  return !!node && node.nodeType === ELEMENT_NODE;
}

export function isNs(el: Element, ns: string, localName: string): boolean {
  return el.namespaceURI === ns && el.localName === localName;
}

/** Element children, optionally filtered by namespace and local name. */
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

/** The single child `ns:localName`; more than one, or none when required, throws QerdsError(code). */
export function onlyChild(parent: Element, ns: string, localName: string, code: string, required: true): Element;
export function onlyChild(parent: Element, ns: string, localName: string, code: string, required: false): Element | undefined;
export function onlyChild(parent: Element, ns: string, localName: string, code: string, required: boolean): Element | undefined {
  const found = childElements(parent, ns, localName);
  if (found.length > 1) throw new QerdsError(code, `more than one ${localName} in ${parent.localName}`);
  if (required && found.length === 0) throw new QerdsError(code, `${localName} missing in ${parent.localName}`);
  return found[0];
}

/** Text content with surrounding whitespace trimmed (xsd:token / xsd:string values of the header). */
export function textOf(el: Element): string {
  return (el.textContent ?? '').trim();
}

/** All elements of the document in document order (root included). */
export function allElements(doc: Document): Element[] {
  const out: Element[] = [];
  const walk = (node: Node): void => {
    for (let n = node.firstChild; n; n = n.nextSibling) {
      if (isElement(n)) {
        out.push(n);
        walk(n);
      }
    }
  };
  walk(doc);
  return out;
}

/** The `wsu:Id` or unqualified `Id` of an element (WS-Security accepts both). */
export function idOf(el: Element): string | undefined {
  const wsu = el.getAttributeNS(NS.wsu, 'Id');
  if (wsu) return wsu;
  const plain = el.getAttributeNode('Id');
  return plain && !plain.namespaceURI ? plain.value : undefined;
}

/** Namespace declarations in scope at `el` from its ancestors (nearest wins), as prefix → URI. */
export function ancestorNamespaces(el: Element): Map<string, string> {
  const chain: Element[] = [];
  for (let p = el.parentNode; p && isElement(p); p = p.parentNode) chain.unshift(p);
  const scope = new Map<string, string>();
  for (const anc of chain) {
    for (let i = 0; i < anc.attributes.length; i++) {
      const a = anc.attributes.item(i);
      if (!a) continue;
      if (a.name === 'xmlns') scope.set('', a.value);
      else if (a.prefix === 'xmlns') scope.set(a.localName ?? '', a.value);
    }
  }
  return scope;
}

export function soapNamespaceOf(doc: Document): string | undefined {
  const ns = doc.documentElement?.namespaceURI;
  return ns === NS.soap12 || ns === NS.soap11 ? ns : undefined;
}
