import { compareCodePoints } from './c14n.js';
import {
  ancestorNamespaces,
  ELEMENT_NODE,
  isElement,
  PROCESSING_INSTRUCTION_NODE,
  processingInstructionC14n as piText,
} from './dom.js';
import { ALGORITHM_URI, C14N, EXC_C14N, XML_NS } from './namespaces.js';

const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const COMMENT_NODE = 8;
const DOCUMENT_NODE = 9;

/** Canonicalization algorithm URIs (C14N 1.0 §1, C14N 1.1 §1, Exc-C14N §1.1, each with and without comments). */
export const C14N_ALGORITHMS = {
  c14n10: C14N,
  c14n10Comments: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
  c14n11: 'http://www.w3.org/2006/12/xml-c14n11',
  c14n11Comments: 'http://www.w3.org/2006/12/xml-c14n11#WithComments',
  exc: EXC_C14N,
  excComments: ALGORITHM_URI.excC14nWithComments,
} as const;

export interface C14nMethod {
  readonly exclusive: boolean;
  readonly withComments: boolean;
  /** C14N 1.1: xml:id is not inherited onto an orphan element (xml:base fix-up is not implemented). */
  readonly version11: boolean;
}

/** The method a canonicalization URI names, or undefined for one not implemented. */
export function c14nMethodOf(uri: string): C14nMethod | undefined {
  switch (uri) {
    case C14N_ALGORITHMS.c14n10:
      return { exclusive: false, withComments: false, version11: false };
    case C14N_ALGORITHMS.c14n10Comments:
      return { exclusive: false, withComments: true, version11: false };
    case C14N_ALGORITHMS.c14n11:
      return { exclusive: false, withComments: false, version11: true };
    case C14N_ALGORITHMS.c14n11Comments:
      return { exclusive: false, withComments: true, version11: true };
    case C14N_ALGORITHMS.exc:
      return { exclusive: true, withComments: false, version11: false };
    case C14N_ALGORITHMS.excComments:
      return { exclusive: true, withComments: true, version11: false };
    default:
      return undefined;
  }
}

/**
 * An XPath node-set (XMLDSig §4.3.3.3) as a membership test over the DOM: elements, attributes, text,
 * comments and processing instructions are asked; the namespace nodes of an element are taken to be in the
 * set exactly when the element is (true of every node-set this code builds: whole documents, subtrees,
 * enveloped-signature and XPath Filter 2.0 results, which all include or exclude whole element nodes).
 */
export interface NodeSet {
  readonly document: Document;
  has(node: Node): boolean;
  /** When every member is in this element's subtree: the canonicalizer then walks only that subtree. */
  readonly apex?: Element;
}

/** The whole document, comments only when `withComments` (URI="" is without, URI="#xpointer(/)" with). */
export function documentNodeSet(document: Document, withComments: boolean): NodeSet {
  return { document, has: (n) => withComments || n.nodeType !== COMMENT_NODE };
}

/** The subtree of `apex` (URI="#id": without comments). */
export function subtreeNodeSet(apex: Element, withComments: boolean): NodeSet {
  return {
    document: apex.ownerDocument,
    has: (n) => (withComments || n.nodeType !== COMMENT_NODE) && isInSubtree(n, apex),
    apex,
  };
}

/** Whether `node` (an attribute counts as under its element) is `apex` or below it. */
export function isInSubtree(node: Node, apex: Node): boolean {
  for (let n: Node | null = node; n; n = parentOf(n)) if (n === apex) return true;
  return false;
}

/** The parent in the XPath data model: an attribute's parent is its element. */
export function parentOf(node: Node): Node | null {
  return (node as Attr).ownerElement ?? node.parentNode;
}

/**
 * Canonical XML of a node-set: C14N 1.0 (§2), C14N 1.1 or Exclusive C14N 1.0 (with `inclusivePrefixes` as the
 * InclusiveNamespaces PrefixList, `#default` for the default namespace), with or without comments. Written for
 * document subsets, not only whole subtrees: an element outside the set is skipped while its in-set descendants
 * are output, with the namespace and xml: attribute rules of the standards for such orphans.
 */
export function canonicalizeNodeSet(
  set: NodeSet,
  method: C14nMethod,
  inclusivePrefixes: readonly string[] = [],
): string {
  const out: string[] = [];
  const inclusive = new Set(inclusivePrefixes.map((p) => (p === '#default' ? '' : p)));
  const has = (n: Node): boolean =>
    n.nodeType === COMMENT_NODE && !method.withComments ? false : set.has(n);

  const renderElement = (
    el: Element,
    scope: Map<string, string>,
    rendered: Map<string, string>,
    pendingXml: Map<string, Attr>,
  ): void => {
    const ownScope = new Map(scope);
    for (const a of attributesOf(el)) {
      if (a.namespaceURI !== XML_NS.xmlns) continue;
      ownScope.set(a.prefix === 'xmlns' ? (a.localName ?? '') : '', a.value);
    }
    const inSet = has(el);
    if (!inSet) {
      // An element outside the set: its xml: attributes may be inherited by an orphan descendant (C14N 1.0 §2.4).
      const pending = method.exclusive ? pendingXml : new Map(pendingXml);
      if (!method.exclusive)
        for (const a of attributesOf(el))
          if (a.namespaceURI === XML_NS.xml) pending.set(a.localName ?? '', a);
      for (let c = el.firstChild; c; c = c.nextSibling) renderChild(c, ownScope, rendered, pending);
      return;
    }
    const attrs = attributesOf(el).filter((a) => a.namespaceURI !== XML_NS.xmlns && has(a));
    // Namespace declarations to output.
    const nextRendered = new Map(rendered);
    const decls: [string, string][] = [];
    const consider = (prefix: string): void => {
      if (prefix === 'xml') return;
      const uri = ownScope.get(prefix) ?? '';
      const before = rendered.get(prefix) ?? '';
      if (prefix === '' && uri === '') {
        // xmlns="" only to undo a default namespace an output ancestor declared.
        if (before !== '') decls.push(['', '']);
        nextRendered.set('', '');
        return;
      }
      if (rendered.get(prefix) !== uri) decls.push([prefix, uri]);
      nextRendered.set(prefix, uri);
    };
    if (method.exclusive) {
      const used = new Set<string>([el.prefix ?? '']);
      for (const a of attrs) if (a.prefix && a.prefix !== 'xml') used.add(a.prefix);
      for (const p of inclusive) if (ownScope.has(p)) used.add(p);
      for (const p of used) consider(p);
    } else {
      for (const p of ownScope.keys()) consider(p);
      if (!ownScope.has('')) consider('');
    }
    decls.sort((a, b) => compareCodePoints(a[0], b[0]));
    // Inherited xml: attributes on an element whose parent is outside the set (inclusive C14N only).
    const outAttrs: { ns: string; local: string; name: string; value: string }[] = attrs.map((a) => ({
      ns: a.namespaceURI ?? '',
      local: a.localName ?? a.name,
      name: a.name,
      value: a.value,
    }));
    if (!method.exclusive && pendingXml.size > 0) {
      for (const [local, a] of pendingXml) {
        if (method.version11 && (local === 'id' || local === 'base')) continue;
        if (attrs.some((o) => o.namespaceURI === XML_NS.xml && o.localName === local)) continue;
        outAttrs.push({ ns: XML_NS.xml, local, name: `xml:${local}`, value: a.value });
      }
    }
    outAttrs.sort((a, b) => compareCodePoints(a.ns, b.ns) || compareCodePoints(a.local, b.local));
    out.push(`<${el.nodeName}`);
    for (const [p, u] of decls)
      out.push(p === '' ? ` xmlns="${escapeAttr(u)}"` : ` xmlns:${p}="${escapeAttr(u)}"`);
    for (const a of outAttrs) out.push(` ${a.name}="${escapeAttr(a.value)}"`);
    out.push('>');
    for (let c = el.firstChild; c; c = c.nextSibling) renderChild(c, ownScope, nextRendered, new Map());
    out.push(`</${el.nodeName}>`);
  };

  const renderChild = (
    n: Node,
    scope: Map<string, string>,
    rendered: Map<string, string>,
    pendingXml: Map<string, Attr>,
  ): void => {
    switch (n.nodeType) {
      case ELEMENT_NODE:
        renderElement(n as Element, scope, rendered, pendingXml);
        break;
      case TEXT_NODE:
      case CDATA_SECTION_NODE:
        if (has(n)) out.push(escapeText((n as CharacterData).data));
        break;
      case COMMENT_NODE:
        if (has(n)) out.push(`<!--${(n as Comment).data}-->`);
        break;
      case PROCESSING_INSTRUCTION_NODE:
        if (has(n)) out.push(piText(n as ProcessingInstruction));
        break;
      default:
        break;
    }
  };

  if (set.apex && set.apex.parentNode && isElement(set.apex.parentNode)) {
    // Only the apex's subtree can hold members: start there, with what its ancestors put in scope (the
    // namespaces, and for inclusive C14N the xml: attributes an orphan inherits).
    const scope = ancestorNamespaces(set.apex);
    const pending = new Map<string, Attr>();
    if (!method.exclusive) {
      const chain: Element[] = [];
      for (let p: Node | null = set.apex.parentNode; p && isElement(p); p = p.parentNode) chain.unshift(p);
      for (const e of chain)
        for (const a of attributesOf(e)) if (a.namespaceURI === XML_NS.xml) pending.set(a.localName ?? '', a);
    }
    renderElement(set.apex, scope, new Map(), pending);
    return out.join('');
  }
  // The document node: comments and PIs outside the document element get a line break on the side facing it.
  const doc = set.document;
  let afterRoot = false;
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (isElement(n)) {
      renderElement(n, new Map(), new Map(), new Map());
      afterRoot = true;
    } else if ((n.nodeType === COMMENT_NODE || n.nodeType === PROCESSING_INSTRUCTION_NODE) && has(n)) {
      if (
        n.nodeType === PROCESSING_INSTRUCTION_NODE &&
        (n as ProcessingInstruction).target.toLowerCase() === 'xml'
      )
        continue;
      const text =
        n.nodeType === COMMENT_NODE ? `<!--${(n as Comment).data}-->` : piText(n as ProcessingInstruction);
      out.push(afterRoot ? `\n${text}` : `${text}\n`);
    }
  }
  return out.join('');
}

/** Canonical XML of `element`'s subtree (a same-document `#id` reference, SignedInfo, a timestamped property). */
export function canonicalizeSubtree(
  element: Element,
  method: C14nMethod,
  inclusivePrefixes: readonly string[] = [],
): string {
  return canonicalizeNodeSet(subtreeNodeSet(element, method.withComments), method, inclusivePrefixes);
}

function attributesOf(el: Element): Attr[] {
  const out: Attr[] = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i);
    if (a) out.push(a);
  }
  return out;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

function escapeAttr(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');
}

export { DOCUMENT_NODE, COMMENT_NODE, TEXT_NODE };
