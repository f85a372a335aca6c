import xpath from 'xpath';
import { QerdsError } from '../core/errors.js';
import { parentOf, type NodeSet } from './c14n-nodeset.js';
import { childElements, isElement } from './dom.js';
import { XML_NS } from './namespaces.js';

/** XML-Signature XPath Filter 2.0 (W3C Recommendation 2002-11-08): the transform URI and its namespace. */
export const XPATH_FILTER2 = 'http://www.w3.org/2002/06/xmldsig-filter2';

export type Filter2Operation = 'intersect' | 'subtract' | 'union';

export interface Filter2Step {
  readonly filter: Filter2Operation;
  readonly expression: string;
  /** Namespace prefixes in scope at the dsig-xpath:XPath element (its evaluation context). */
  readonly namespaces: Readonly<Record<string, string>>;
}

/** The XPath children of a Transform element of this algorithm; throws SEAL_MALFORMED when one is ill-formed. */
export function readFilter2Steps(transform: Element): Filter2Step[] {
  const steps = childElements(transform, XPATH_FILTER2, 'XPath').map((x) => {
    const filter = x.getAttribute('Filter');
    if (filter !== 'intersect' && filter !== 'subtract' && filter !== 'union') {
      throw new QerdsError(
        'SEAL_MALFORMED',
        `XPath Filter 2.0: Filter="${filter ?? ''}" is none of intersect, subtract, union`,
      );
    }
    return { filter, expression: x.textContent ?? '', namespaces: namespacesInScope(x) } as Filter2Step;
  });
  if (steps.length === 0)
    throw new QerdsError('SEAL_MALFORMED', 'XPath Filter 2.0 transform without an XPath element');
  return steps;
}

/**
 * Apply XPath Filter 2.0 (§3) to an input node-set: each expression is evaluated with the root of the input
 * document as context node, and its result expanded to the subtrees of the nodes it selects (§3.3). The filter
 * node-set starts as every node of the document and is intersected with, reduced by, or joined with each
 * expanded set in turn; the output is the input node-set intersected with that filter (§3.4). The `here()`
 * function of the Recommendation is not provided: an expression using it fails to evaluate.
 */
export function applyXPathFilter2(input: NodeSet, steps: readonly Filter2Step[]): NodeSet {
  const doc = input.document;
  const expanded = steps.map((s) => ({ filter: s.filter, roots: new Set(evaluate(doc, s)) }));
  const inExpanded = (node: Node, roots: Set<Node>): boolean => {
    if (roots.size === 0) return false;
    for (let n: Node | null = node; n; n = parentOf(n)) if (roots.has(n)) return true;
    return false;
  };
  return {
    document: doc,
    ...(input.apex ? { apex: input.apex } : {}),
    has: (node) => {
      if (!input.has(node)) return false;
      let member = true;
      for (const e of expanded) {
        if (e.filter === 'intersect') member = member && inExpanded(node, e.roots);
        else if (e.filter === 'subtract') member = member && !inExpanded(node, e.roots);
        else member = member || inExpanded(node, e.roots);
      }
      return member;
    },
  };
}

const ID_ATTRIBUTES = ['Id', 'ID', 'id'];

/** Elements carrying `id` as Id, ID, id or xml:id (XMLDSig §4.4.3.3: without a DTD, these by name). */
export function elementsWithId(doc: Document, id: string): Element[] {
  const out: Element[] = [];
  const walk = (n: Node): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (!isElement(c)) continue;
      if (ID_ATTRIBUTES.some((a) => c.getAttribute(a) === id) || c.getAttributeNS(XML_NS.xml, 'id') === id)
        out.push(c);
      walk(c);
    }
  };
  walk(doc);
  return out;
}

/**
 * Make XPath's id() (which the xpath package answers with `document.getElementById`) find the elements that
 * same-document references find: by Id, ID, id or xml:id, and only when exactly one element has the value
 * (Threat: signature wrapping — a duplicated Id must not select the attacker's copy).
 */
export function useSignatureIds(doc: Document): void {
  Object.defineProperty(doc, 'getElementById', {
    configurable: true,
    value: (id: string): Element | null => {
      const found = elementsWithId(doc, id);
      return found.length === 1 ? found[0]! : null;
    },
  });
}

function evaluate(doc: Document, step: Filter2Step): Node[] {
  let result: unknown;
  useSignatureIds(doc);
  try {
    result = xpath.useNamespaces(step.namespaces)(step.expression.trim(), doc as unknown as Node);
  } catch (e) {
    throw new QerdsError(
      'SEAL_TRANSFORM_UNSUPPORTED',
      `XPath Filter 2.0 expression "${step.expression.trim()}" cannot be evaluated: ${(e as Error).message}`,
    );
  }
  // §3.3: the expression shall evaluate to a node-set.
  if (!Array.isArray(result))
    throw new QerdsError(
      'SEAL_MALFORMED',
      `XPath Filter 2.0 expression "${step.expression.trim()}" is not a node-set`,
    );
  return result as Node[];
}

/** Every namespace declaration in scope at `el` (nearest wins), for the evaluation context. */
function namespacesInScope(el: Element): Record<string, string> {
  const chain: Element[] = [];
  for (let p: Node | null = el; p && isElement(p); p = p.parentNode) chain.unshift(p);
  const out: Record<string, string> = {};
  for (const e of chain) {
    for (let i = 0; i < e.attributes.length; i++) {
      const a = e.attributes.item(i);
      if (a?.namespaceURI === XML_NS.xmlns && a.prefix === 'xmlns' && a.localName) out[a.localName] = a.value;
    }
  }
  return out;
}
