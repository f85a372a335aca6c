/** Node types of the DOM (xmldom exposes no constants on its typings). */
export const ELEMENT_NODE = 1;
export const PROCESSING_INSTRUCTION_NODE = 7;
export const DOCUMENT_TYPE_NODE = 10;

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

/**
 * Text content with surrounding whitespace removed. An element with one Text (or CDATA) child or none, nearly
 * every leaf read, is answered from that child: the same string as `textContent`, without its walk.
 */
export function textOf(element: Element): string {
  const first = element.firstChild;
  if (first === null) return '';
  if (first === element.lastChild && (first.nodeType === TEXT_NODE || first.nodeType === CDATA_SECTION_NODE))
    return (first.nodeValue ?? '').trim();
  return (element.textContent ?? '').trim();
}

const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

/**
 * A processing instruction in canonical form (C14N 1.0 §2.3, and so Exc-C14N): `<?`, the target, a space and the
 * data when the data is not empty, `?>`. Without it a PI is read as text by xml-crypto (see c14n.ts).
 */
export function processingInstructionC14n(pi: ProcessingInstruction): string {
  return `<?${pi.target}${pi.data ? ` ${pi.data}` : ''}?>`;
}

/** Whether a processing instruction other than the XML declaration occurs under `node` (xmldom keeps the declaration as a PI with target "xml"). */
export function hasProcessingInstruction(node: Node): boolean {
  for (let n = node.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === PROCESSING_INSTRUCTION_NODE && (n as ProcessingInstruction).target !== 'xml')
      return true;
    if (n.nodeType === ELEMENT_NODE && hasProcessingInstruction(n)) return true;
  }
  return false;
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
