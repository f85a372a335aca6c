import { createHash } from 'node:crypto';
import xpath from 'xpath';
import { QerdsError } from '../core/errors.js';
import { isWeakAlgorithm, xmlDigestAlgorithm } from '../crypto/index.js';
import {
  c14nMethodOf,
  canonicalizeNodeSet,
  documentNodeSet,
  isInSubtree,
  parentOf,
  subtreeNodeSet,
  TEXT_NODE,
  type NodeSet,
} from '../xml/c14n-nodeset.js';
import {
  applyXPathFilter2,
  elementsWithId,
  readFilter2Steps,
  useSignatureIds,
  XPATH_FILTER2,
} from '../xml/xpath-filter2.js';
import { ELEMENT_NODE } from '../xml/dom.js';
import { C14N } from '../xml/index.js';
import {
  childElements,
  ENVELOPED_SIGNATURE,
  EXC_C14N,
  isElement,
  NS,
  parseXmlStrict,
  requireChild,
  textOf,
} from './xml.js';

/**
 * General XMLDSig 1.1 reference processing (§4.4.3.2 dereferencing, §6.6 transforms) for signatures other
 * products make: same-document references by Id / ID / id / xml:id and XPointer, whole-document and detached
 * references, and the transforms XAdES signers use. Our own seals are checked by the stricter
 * {@link checkReference} (references.ts), which accepts only the two shapes our profile produces.
 */

export const TRANSFORMS = {
  base64: 'http://www.w3.org/2000/09/xmldsig#base64',
  xpath: 'http://www.w3.org/TR/1999/REC-xpath-19991116',
  envelopedSignature: ENVELOPED_SIGNATURE,
  filter2: XPATH_FILTER2,
} as const;

/** The digest algorithm of a DigestMethod URI (the registry's); `weak` ones are computed but fail the crypto constraints. */
export function digestOf(uri: string): { readonly name: string; readonly weak: boolean } | undefined {
  const found = xmlDigestAlgorithm(uri);
  return found ? { name: found.hash!, weak: isWeakAlgorithm(found) } : undefined;
}

/** A document that a detached reference names (`--document`): matched by the reference URI or its last segment. */
export interface DetachedDocument {
  readonly name?: string;
  readonly bytes: Buffer;
}

export type ReferenceStatus = 'matched' | 'mismatch' | 'unsupported' | 'not-found' | 'malformed';

export interface ForeignReferenceResult {
  readonly element: Element;
  readonly uri?: string;
  readonly type?: string;
  readonly status: ReferenceStatus;
  readonly message?: string;
  readonly weakDigest?: boolean;
  /** The octets the digest was computed over (for ArchiveTimeStamp input). */
  readonly octets?: Buffer;
  /** The element a `#id` reference resolves to. */
  readonly target?: Element;
  /** Whether a node of the signed document is in what the reference covers (its last node-set). */
  readonly covers?: (node: Node) => boolean;
}

type Data =
  { readonly kind: 'nodes'; readonly set: NodeSet } | { readonly kind: 'octets'; readonly bytes: Buffer };

export interface ReferenceContext {
  readonly doc: Document;
  readonly signature: Element;
  readonly detached: readonly DetachedDocument[];
}

/** Dereference, transform and digest one ds:Reference. Never throws: the outcome says what went wrong. */
export function processReference(reference: Element, context: ReferenceContext): ForeignReferenceResult {
  const uri = reference.hasAttribute('URI') ? (reference.getAttribute('URI') ?? '') : undefined;
  const type = reference.getAttribute('Type') || undefined;
  const base = { element: reference, ...(uri !== undefined ? { uri } : {}), ...(type ? { type } : {}) };
  try {
    const digestUri =
      requireChild(reference, NS.ds, 'DigestMethod', 'SEAL_MALFORMED').getAttribute('Algorithm') ?? '';
    const expected = Buffer.from(
      textOf(requireChild(reference, NS.ds, 'DigestValue', 'SEAL_MALFORMED')),
      'base64',
    );
    const digest = digestOf(digestUri);
    if (!digest)
      return { ...base, status: 'unsupported', message: `digest algorithm ${digestUri} is not implemented` };
    const { data: dereferenced, target } = dereference(uri, context);
    if (!dereferenced)
      return {
        ...base,
        status: 'not-found',
        message: `the data of reference ${uri ?? '(no URI)'} is not available: give it with --document`,
      };
    let data: Data = dereferenced;
    let lastNodes: NodeSet | undefined = data.kind === 'nodes' ? data.set : undefined;
    const transformsEl = childElements(reference, NS.ds, 'Transforms')[0];
    for (const t of transformsEl ? childElements(transformsEl, NS.ds, 'Transform') : []) {
      data = applyTransform(t, data, context);
      if (data.kind === 'nodes') lastNodes = data.set;
    }
    const covered = lastNodes && lastNodes.document === context.doc ? lastNodes : undefined;
    const octets =
      data.kind === 'octets'
        ? data.bytes
        : Buffer.from(canonicalizeNodeSet(data.set, c14nMethodOf(C14N)!), 'utf8');
    const actual = createHash(digest.name).update(octets).digest();
    const matched = actual.equals(expected);
    return {
      ...base,
      status: matched ? 'matched' : 'mismatch',
      ...(matched
        ? {}
        : {
            message: `the digest of reference ${uri === undefined ? '(no URI)' : `"${uri}"`} does not match: the data changed after signing`,
          }),
      weakDigest: digest.weak,
      octets,
      ...(target ? { target } : {}),
      ...(covered ? { covers: (n: Node) => covered.has(n) } : {}),
    };
  } catch (e) {
    const code = e instanceof QerdsError ? e.code : 'SEAL_MALFORMED';
    return {
      ...base,
      status: code === 'SEAL_TRANSFORM_UNSUPPORTED' ? 'unsupported' : 'malformed',
      message: (e as Error).message,
    };
  }
}

function dereference(uri: string | undefined, context: ReferenceContext): { data?: Data; target?: Element } {
  if (uri === '') return { data: { kind: 'nodes', set: documentNodeSet(context.doc, false) } };
  if (uri === '#xpointer(/)') return { data: { kind: 'nodes', set: documentNodeSet(context.doc, true) } };
  if (uri !== undefined && uri.startsWith('#')) {
    const xp = /^#xpointer\(id\(['"]([^'"]+)['"]\)\)$/.exec(uri);
    const id = xp ? xp[1]! : uri.slice(1);
    if (!/^[^\s#()]+$/.test(id))
      throw new QerdsError(
        'SEAL_TRANSFORM_UNSUPPORTED',
        `reference URI ${uri} is not an Id or a supported XPointer`,
      );
    const found = elementsWithId(context.doc, decodeURIComponent(id));
    // Threat: signature wrapping — with two elements of one Id, the verifier and the reader may pick different ones.
    if (found.length > 1)
      throw new QerdsError(
        'SEAL_DUPLICATE_ID',
        `Id "${id}" occurs ${found.length} times (signature wrapping?)`,
      );
    const target = found[0];
    if (!target)
      throw new QerdsError('SEAL_REFERENCE_UNRESOLVED', `reference ${uri}: no element has this Id`);
    return { data: { kind: 'nodes', set: subtreeNodeSet(target, !!xp) }, target };
  }
  // A detached reference: the document the caller gave under that name, or the only one given.
  const docs = context.detached;
  const last = uri === undefined ? undefined : decodeURIComponent(uri.split(/[/\\]/).pop() ?? uri);
  const named = docs.find(
    (d) =>
      d.name !== undefined && (d.name === uri || d.name === last || d.name.split(/[/\\]/).pop() === last),
  );
  const chosen = named ?? (docs.length === 1 ? docs[0] : undefined);
  return chosen ? { data: { kind: 'octets', bytes: chosen.bytes } } : {};
}

function asNodes(data: Data): NodeSet {
  if (data.kind === 'nodes') return data.set;
  // Octets to node-set (XMLDSig §4.4.3.2): parse them. DOCTYPEs stay refused (entity expansion).
  const doc = parseXmlStrict(data.bytes.toString('utf8'), 'SEAL_MALFORMED', {
    what: 'referenced data',
    allowProcessingInstructions: true,
  });
  return documentNodeSet(doc, true);
}

function applyTransform(t: Element, data: Data, context: ReferenceContext): Data {
  const alg = t.getAttribute('Algorithm') ?? '';
  const c14n = c14nMethodOf(alg);
  if (c14n) {
    const prefixes = alg.startsWith(EXC_C14N) ? inclusivePrefixes(t) : [];
    return { kind: 'octets', bytes: Buffer.from(canonicalizeNodeSet(asNodes(data), c14n, prefixes), 'utf8') };
  }
  switch (alg) {
    case TRANSFORMS.envelopedSignature: {
      const set = asNodes(data);
      // §6.6.4: remove the whole Signature element containing the transform (the one being verified).
      const signature = context.signature;
      return {
        kind: 'nodes',
        set: {
          document: set.document,
          has: (n) => set.has(n) && !isInSubtree(n, signature),
          ...(set.apex ? { apex: set.apex } : {}),
        },
      };
    }
    case TRANSFORMS.filter2:
      return { kind: 'nodes', set: applyXPathFilter2(withinXPathBudget(asNodes(data)), readFilter2Steps(t)) };
    case TRANSFORMS.xpath:
      return { kind: 'nodes', set: xpathTransform(withinXPathBudget(asNodes(data)), t) };
    case TRANSFORMS.base64: {
      // §6.6.2: from a node-set, the string value of its text nodes.
      const text = data.kind === 'octets' ? data.bytes.toString('latin1') : textOfSet(data.set);
      return { kind: 'octets', bytes: Buffer.from(text.replace(/\s+/g, ''), 'base64') };
    }
    default:
      throw new QerdsError('SEAL_TRANSFORM_UNSUPPORTED', `transform ${alg} is not implemented`);
  }
}

/** Most elements an XPath transform is evaluated over (the XPath 1.0 transform judges every node). */
export const XPATH_MAX_ELEMENTS = 20_000;

/**
 * Threat: denial of service — an XPath expression evaluated at each node of a large document costs the square
 * of its size (C2 runs this on what senders submit). Beyond the budget the transform is "not implemented"
 * (INDETERMINATE), never a failure of the signature.
 */
function withinXPathBudget(set: NodeSet): NodeSet {
  let count = 0;
  const walk = (n: Node): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== ELEMENT_NODE) continue;
      if (++count > XPATH_MAX_ELEMENTS)
        throw new QerdsError(
          'SEAL_TRANSFORM_UNSUPPORTED',
          `XPath transforms are evaluated on documents of at most ${XPATH_MAX_ELEMENTS} elements`,
        );
      walk(c);
    }
  };
  walk(set.document);
  return set;
}

function inclusivePrefixes(t: Element): string[] {
  const inc = childElements(t, EXC_C14N, 'InclusiveNamespaces')[0];
  return (inc?.getAttribute('PrefixList') ?? '').split(/\s+/).filter((p) => p !== '');
}

function textOfSet(set: NodeSet): string {
  const parts: string[] = [];
  const walk = (n: Node): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === TEXT_NODE && set.has(c)) parts.push((c as CharacterData).data);
      else if (c.nodeType === ELEMENT_NODE) walk(c);
    }
  };
  walk(set.document);
  return parts.join('');
}

/**
 * The XPath 1.0 transform (§6.6.3): the expression is evaluated as a boolean for each node of the input, with
 * the namespaces in scope at the XPath element. `here()` is not provided (an expression using it fails).
 * An element's attributes and namespace nodes are judged with it (the usual `not(ancestor-or-self::ds:Signature)`
 * keeps or drops whole elements).
 */
interface ParsedXPath {
  evaluateBoolean(options: { node: Node; namespaces: Record<string, string> }): boolean;
}

function xpathTransform(input: NodeSet, t: Element): NodeSet {
  const xp = childElements(t, NS.ds, 'XPath')[0];
  if (!xp) throw new QerdsError('SEAL_MALFORMED', 'XPath transform without an XPath element');
  const namespaces: Record<string, string> = {};
  for (let p: Node | null = xp; p && isElement(p); p = p.parentNode) {
    for (let i = 0; i < p.attributes.length; i++) {
      const a = p.attributes.item(i);
      if (a?.prefix === 'xmlns' && a.localName && !(a.localName in namespaces))
        namespaces[a.localName] = a.value;
    }
  }
  let parsed: ParsedXPath;
  try {
    // xpath's typings omit parse(), which its runtime has: one compiled expression judged at every node.
    parsed = (xpath as unknown as { parse(expression: string): ParsedXPath }).parse(
      (xp.textContent ?? '').trim(),
    );
  } catch (e) {
    throw new QerdsError(
      'SEAL_TRANSFORM_UNSUPPORTED',
      `XPath transform expression cannot be read: ${(e as Error).message}`,
    );
  }
  useSignatureIds(input.document);
  const memo = new Map<Node, boolean>();
  const judge = (node: Node): boolean => {
    const key = node.nodeType === 2 ? (parentOf(node) as Node) : node;
    let v = memo.get(key);
    if (v === undefined) {
      try {
        v = parsed.evaluateBoolean({ node: key, namespaces });
      } catch (e) {
        throw new QerdsError(
          'SEAL_TRANSFORM_UNSUPPORTED',
          `XPath transform expression cannot be evaluated: ${(e as Error).message}`,
        );
      }
      memo.set(key, v);
    }
    return v;
  };
  return {
    document: input.document,
    has: (n) => input.has(n) && judge(n),
    ...(input.apex ? { apex: input.apex } : {}),
  };
}
