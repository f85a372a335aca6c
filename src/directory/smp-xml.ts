import { isElement, parseXmlStrict, XML_NS } from '../xml/index.js';

/** The DOM walkers are the xml module's (re-exported for directory's files). */
export { descendants, isElement } from '../xml/index.js';

export const DS_NS = XML_NS.ds;

/**
 * Parse an SMP response strictly with the one DOM (xml/): parse errors, a DOCTYPE or processing instructions are
 * refused. Threat: entity expansion and DTD-declared ID attributes in a document fetched over the network.
 */
export function parseSmpXml(xml: string): Document {
  return parseXmlStrict(xml, 'DIRECTORY_SMP_MALFORMED', { what: 'SMP response' });
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
