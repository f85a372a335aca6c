import { C14nCanonicalization, ExclusiveCanonicalization } from 'xml-crypto';
import { excC14nSubtree } from './exc-c14n.js';
import { isElement, PROCESSING_INSTRUCTION_NODE, processingInstructionC14n } from './dom.js';

/** Unicode code point order (C14N §2.2 sorts by it; `localeCompare` and UTF-16 `<` do not). */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]!.codePointAt(0) ?? 0) - (y[i]!.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

interface Named {
  prefix?: string;
  namespaceURI?: string | null;
  localName?: string;
}
const nsOrder = (a: Named, b: Named): number => compareCodePoints(a.prefix ?? '', b.prefix ?? '');
const attrOrder = (a: Named, b: Named): 1 | 0 | -1 => {
  const d =
    compareCodePoints(a.namespaceURI ?? '', b.namespaceURI ?? '') ||
    compareCodePoints(a.localName ?? '', b.localName ?? '');
  return d < 0 ? -1 : d > 0 ? 1 : 0;
};

/**
 * The node kinds xml-crypto's processInner gets wrong, rendered here; undefined for the others.
 * Threat: xml-crypto tests `node.data` before the node type, so a processing instruction came out as its data,
 * escaped like text: `<?x abc?>` canonicalized as the text `abc`. A signed Body (or XML attachment) holding
 * the text `abc` then kept its digest when the text was replaced by that PI, or split around one: the verifier
 * digested something other than the received element, and xmlsec1 (which renders the PI) disagreed. An empty
 * text node (data '') fell through to "unable to canonicalize".
 */
function renderedHere(node: Node): string | undefined {
  if (node.nodeType === PROCESSING_INSTRUCTION_NODE)
    return processingInstructionC14n(node as ProcessingInstruction);
  if ((node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE) && !(node as CharacterData).data)
    return '';
  return undefined;
}
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

/**
 * xml-crypto's exclusive canonicalizer with the W3C orderings made exact: namespace declarations sorted by
 * prefix in code point order (xml-crypto uses `localeCompare`, which puts `eb` before `S12`: a mixed-case
 * prefix from another product then breaks the digest), attributes by (namespace URI, local name); processing
 * instructions rendered as PIs (renderedHere). For xml-crypto's SignedXml registries (`CanonicalizationAlgorithms`),
 * which construct it without arguments.
 */
export class ExclusiveC14n extends ExclusiveCanonicalization {
  override nsCompare(a: Named, b: Named): number {
    return nsOrder(a, b);
  }
  override attrCompare(a: Named, b: Named): 1 | 0 | -1 {
    return attrOrder(a, b);
  }
  override processInner(node: Node, ...rest: unknown[]): string {
    return (
      renderedHere(node) ?? (super.processInner as (node: Node, ...rest: unknown[]) => string)(node, ...rest)
    );
  }
}

/** xml-crypto's inclusive C14N 1.0 with the same exact W3C orderings and processing instructions. */
export class InclusiveC14n extends C14nCanonicalization {
  override nsCompare(a: Named, b: Named): number {
    return nsOrder(a, b);
  }
  override attrCompare(a: Named, b: Named): 1 | 0 | -1 {
    return attrOrder(a, b);
  }
  override processInner(node: Node, ...rest: unknown[]): string {
    return (
      renderedHere(node) ?? (super.processInner as (node: Node, ...rest: unknown[]) => string)(node, ...rest)
    );
  }
}

/**
 * Exclusive XML Canonicalization 1.0 (without comments) of `element` as a document subset: its subtree
 * in its context, with the InclusiveNamespaces PrefixList `inclusivePrefixes` (`#default` for the
 * default namespace). The one canonicalizer of the code base (WS-Security, XAdES, SwA attachments):
 * excC14nSubtree (exc-c14n.ts), which replaced xml-crypto's here for speed (xml-crypto's copied its namespace
 * list for every node; a 16 KB evidence took a fifth of a seal verification). The document is not modified.
 */
export function canonicalize(
  element: Element,
  inclusivePrefixes: readonly string[] = [],
  outputAbove?: ReadonlyMap<string, string>,
): string {
  return excC14nSubtree(element, inclusivePrefixes, outputAbove);
}

/**
 * Exclusive C14N of a whole document (no comments): processing instructions outside the document
 * element are kept, separated by #xA (C14N §2.3); the XML declaration and the DTD are not output.
 */
export function canonicalizeDocument(doc: Document): string {
  const parts: string[] = [];
  let seenRoot = false;
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (isElement(n)) {
      parts.push(canonicalize(n));
      seenRoot = true;
    } else if (n.nodeType === PROCESSING_INSTRUCTION_NODE) {
      const pi = n as ProcessingInstruction;
      if (pi.target.toLowerCase() === 'xml') continue;
      const text = processingInstructionC14n(pi);
      parts.push(seenRoot ? `\n${text}` : `${text}\n`);
    }
  }
  return parts.join('');
}

/**
 * Inclusive C14N 1.0 (without comments) of a document element. Only the document element: a subset deeper down
 * would need its ancestors' namespaces and xml: attributes, which nothing here canonicalizes that way.
 */
export function canonicalizeInclusive(element: Element): string {
  if (isElement(element.parentNode)) throw new Error('canonicalizeInclusive takes a document element');
  return new InclusiveC14n().process(element, {});
}
