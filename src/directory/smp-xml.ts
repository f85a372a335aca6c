import { DOMParser } from '@xmldom/xmldom';
import { QerdsError } from '../core/index.js';

const ELEMENT_NODE = 1;
const PROCESSING_INSTRUCTION_NODE = 7;
const DOCUMENT_TYPE_NODE = 10;

export const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';

/**
 * Parse an SMP response strictly with the one DOM: parse errors, a DOCTYPE or processing instructions are
 * refused. Threat: entity expansion and DTD-declared ID attributes in a document fetched over the network.
 */
export function parseSmpXml(xml: string): Document {
  const errors: string[] = [];
  const parser = new DOMParser({
    errorHandler: { warning: () => undefined, error: (m: string) => errors.push(m), fatalError: (m: string) => errors.push(m) },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(xml, 'text/xml');
  } catch (cause) {
    throw new QerdsError('DIRECTORY_SMP_MALFORMED', `SMP response is not well-formed XML: ${(cause as Error).message}`, { cause });
  }
  if (errors.length > 0 || !doc?.documentElement) {
    throw new QerdsError('DIRECTORY_SMP_MALFORMED', `SMP response is not well-formed XML: ${errors[0] ?? 'no root element'}`);
  }
  for (let n: Node | null = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === DOCUMENT_TYPE_NODE) throw new QerdsError('DIRECTORY_SMP_MALFORMED', 'SMP response with a DOCTYPE is refused');
  }
  if (hasProcessingInstruction(doc)) throw new QerdsError('DIRECTORY_SMP_MALFORMED', 'SMP response with processing instructions is refused');
  return doc;
}

function hasProcessingInstruction(node: Node): boolean {
  for (let n: Node | null = node.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === PROCESSING_INSTRUCTION_NODE && (n as ProcessingInstruction).target !== 'xml') return true;
    if (n.nodeType === ELEMENT_NODE && hasProcessingInstruction(n)) return true;
  }
  return false;
}

export function isElement(node: Node | null | undefined): node is Element {
  return !!node && node.nodeType === ELEMENT_NODE;
}

/** Element children of `parent` with local name `localName` in one of `namespaces`. */
export function children(parent: Node, namespaces: readonly string[], localName: string): Element[] {
  const out: Element[] = [];
  for (let n: Node | null = parent.firstChild; n; n = n.nextSibling) {
    if (isElement(n) && n.localName === localName && namespaces.includes(n.namespaceURI ?? '')) out.push(n);
  }
  return out;
}

export function child(parent: Node, namespaces: readonly string[], localName: string): Element | undefined {
  return children(parent, namespaces, localName)[0];
}

export function text(element: Element | undefined): string | undefined {
  const value = element?.textContent?.trim();
  return value ? value : undefined;
}

/** Descendant elements (document order) with `localName` in `namespace`. */
export function descendants(root: Node, namespace: string, localName: string): Element[] {
  const out: Element[] = [];
  const walk = (node: Node) => {
    for (let n: Node | null = node.firstChild; n; n = n.nextSibling) {
      if (!isElement(n)) continue;
      if (n.localName === localName && n.namespaceURI === namespace) out.push(n);
      walk(n);
    }
  };
  walk(root);
  return out;
}
