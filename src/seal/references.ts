import { createHash, timingSafeEqual } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { digestAlgorithm } from './algorithms.js';
import {
  childElements,
  descendants,
  ENVELOPED_SIGNATURE,
  EXC_C14N,
  excC14n,
  isElement,
  NS,
  requireChild,
  textOf,
} from './xml.js';

/** One ds:Reference as read from SignedInfo. */
export interface ReferenceModel {
  readonly element: Element;
  readonly uri: string;
  readonly type?: string;
  readonly transforms: readonly string[];
  readonly digestUri: string;
  readonly digestValue: Buffer;
}

/** Outcome of recomputing one reference's digest. */
export interface ReferenceCheck {
  readonly reference: ReferenceModel;
  readonly matched: boolean;
  /** The canonical octets the digest was computed over. */
  readonly canonical: string;
  /** The element the reference points at (the document element for URI=""). */
  readonly target: Element;
}

const ID_ATTRIBUTES = ['Id', 'ID', 'id'] as const;

/**
 * Read a ds:Reference (XMLDSig §4.4.3):
 * ```xml
 * <element name="Reference"><complexType><sequence>
 *   <element ref="ds:Transforms" minOccurs="0"/> <element ref="ds:DigestMethod"/> <element ref="ds:DigestValue"/>
 * </sequence> <attribute name="Id" .../> <attribute name="URI" .../> <attribute name="Type" .../></complexType></element>
 * ```
 */
export function readReference(element: Element): ReferenceModel {
  if (!element.hasAttribute('URI')) {
    // Threat: a Reference without URI means "the application knows": nothing we could check.
    throw new QerdsError('SEAL_REFERENCE_UNSUPPORTED', 'a Reference without URI is refused');
  }
  const transformsEl = childElements(element, NS.ds, 'Transforms')[0];
  const transforms = transformsEl
    ? childElements(transformsEl, NS.ds, 'Transform').map((t) => {
        if (childElements(t).length > 0) {
          // InclusiveNamespaces, XPath filters…: parameters we do not evaluate, so refuse them.
          throw new QerdsError('SEAL_TRANSFORM_UNSUPPORTED', 'transforms with parameters are not supported');
        }
        return t.getAttribute('Algorithm') ?? '';
      })
    : [];
  return {
    element,
    uri: element.getAttribute('URI') ?? '',
    type: element.getAttribute('Type') || undefined,
    transforms,
    digestUri: requireChild(element, NS.ds, 'DigestMethod', 'SEAL_MALFORMED').getAttribute('Algorithm') ?? '',
    digestValue: Buffer.from(textOf(requireChild(element, NS.ds, 'DigestValue', 'SEAL_MALFORMED')), 'base64'),
  };
}

/**
 * Recompute the digest of one reference. Only two shapes are accepted, the ones a XAdES enveloped
 * signature needs: URI="" with [enveloped-signature, exc-c14n], and URI="#id" with [exc-c14n].
 * Threat: every other transform (XPath, XSLT, base64…) lets the signed bytes differ from the document a
 * reader sees, the root of signature-wrapping attacks.
 */
export function checkReference(
  reference: ReferenceModel,
  context: {
    readonly doc: Document;
    readonly xml: string;
    readonly signatureIndex: number;
    readonly allowUnsafe: boolean;
    /** The document's ds:Signature elements and Id index, when the caller has them (one walk less each). */
    readonly signatures?: readonly Element[];
    readonly ids?: IdIndex;
  },
): ReferenceCheck {
  const digest = digestAlgorithm(reference.digestUri, context.allowUnsafe);
  let canonical: string;
  let target: Element;
  if (reference.uri === '') {
    if (
      reference.transforms.length !== 2 ||
      reference.transforms[0] !== ENVELOPED_SIGNATURE ||
      reference.transforms[1] !== EXC_C14N
    ) {
      throw new QerdsError(
        'SEAL_TRANSFORM_UNSUPPORTED',
        'the whole-document reference must use [enveloped-signature, exc-c14n]',
      );
    }
    // The enveloped-signature transform: the document without this signature. Taken out of the parsed
    // document and put back at the same place right after (synchronously, in a finally), which
    // canonicalizes exactly what a fresh parse without it would, at a fraction of the cost of a re-parse.
    const sig = (context.signatures ?? descendants(context.doc, NS.ds, 'Signature'))[context.signatureIndex];
    const parent = sig?.parentNode;
    const next = sig?.nextSibling ?? null;
    if (sig && parent) parent.removeChild(sig);
    try {
      canonical = excC14n(context.doc.documentElement);
    } finally {
      if (sig && parent) parent.insertBefore(sig, next);
    }
    target = context.doc.documentElement;
  } else if (reference.uri.startsWith('#') && reference.uri.length > 1) {
    if (reference.transforms.length !== 1 || reference.transforms[0] !== EXC_C14N) {
      throw new QerdsError(
        'SEAL_TRANSFORM_UNSUPPORTED',
        `reference ${reference.uri} must use exactly [exc-c14n]`,
      );
    }
    const id = reference.uri.slice(1);
    const found = context.ids ? (context.ids.byId.get(id) ?? []) : elementsById(context.doc, id);
    if (found.length !== 1) {
      throw new QerdsError(
        'SEAL_REFERENCE_UNRESOLVED',
        `reference ${reference.uri} resolves to ${found.length} elements`,
      );
    }
    target = found[0] as Element;
    canonical = excC14n(target);
  } else {
    throw new QerdsError('SEAL_REFERENCE_UNSUPPORTED', `reference URI ${reference.uri} is not same-document`);
  }
  const actual = createHash(digest.digest).update(canonical, 'utf8').digest();
  const matched =
    actual.length === reference.digestValue.length && timingSafeEqual(actual, reference.digestValue);
  return { reference, matched, canonical, target };
}

/** The elements of a document by Id, ID and id value, and the values that occur more than once: one walk. */
export interface IdIndex {
  /** Value → every element whose Id, ID or id attribute has it (as elementsById gives). */
  readonly byId: ReadonlyMap<string, readonly Element[]>;
  /** As duplicateIds gives. */
  readonly duplicates: readonly string[];
}

export function indexIds(root: Node): IdIndex {
  return scanDocument(root).ids;
}

/**
 * indexIds, and the ds:Signature elements in document order (as `descendants(root, NS.ds, 'Signature')`), from
 * the same one walk: a verification needs both, and each walk visits every element of the document.
 */
export function scanDocument(root: Node): { readonly ids: IdIndex; readonly signatures: Element[] } {
  const scan: Scan = { byId: new Map(), dup: new Set(), signatures: [] };
  scanChildren(root, scan);
  return { ids: { byId: scan.byId, duplicates: [...scan.dup] }, signatures: scan.signatures };
}

interface Scan {
  readonly byId: Map<string, Element[]>;
  readonly dup: Set<string>;
  readonly signatures: Element[];
}

function addId(scan: Scan, value: string, el: Element): void {
  const list = scan.byId.get(value);
  if (list === undefined) scan.byId.set(value, [el]);
  else {
    // The same value twice counts as a duplicate even on one element (as duplicateIds counts it).
    scan.dup.add(value);
    if (list[list.length - 1] !== el) list.push(el);
  }
}

function scanChildren(node: Node, scan: Scan): void {
  for (let n = node.firstChild; n; n = n.nextSibling) {
    if (!isElement(n)) continue;
    if (n.localName === 'Signature' && n.namespaceURI === NS.ds) scan.signatures.push(n);
    // The attributes named Id, ID and id (by name, as getAttribute in elementsById reads them), read in one pass
    // over the element's attributes, then taken in that order.
    const attrs = n.attributes;
    let id: string | undefined;
    let upper: string | undefined;
    let lower: string | undefined;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i) as Attr;
      const name = a.name;
      if (name === 'Id') id = a.value;
      else if (name === 'ID') upper = a.value;
      else if (name === 'id') lower = a.value;
    }
    if (id) addId(scan, id, n);
    if (upper) addId(scan, upper, n);
    if (lower) addId(scan, lower, n);
    if (n.firstChild) scanChildren(n, scan);
  }
}

/** Every element whose Id, ID or id attribute has this value. */
export function elementsById(root: Node, id: string): Element[] {
  const out: Element[] = [];
  walk(root, (e) => {
    if (ID_ATTRIBUTES.some((a) => e.getAttribute(a) === id)) out.push(e);
  });
  return out;
}

/**
 * Id values that occur more than once. Threat: with two elements of one Id, the verifier and the
 * application may pick different ones (XML signature wrapping).
 */
export function duplicateIds(root: Node): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  walk(root, (e) => {
    for (const a of ID_ATTRIBUTES) {
      const v = e.getAttribute(a);
      if (!v) continue;
      if (seen.has(v)) dup.add(v);
      seen.add(v);
    }
  });
  return [...dup];
}

function walk(node: Node, visit: (e: Element) => void): void {
  for (let n = node.firstChild; n; n = n.nextSibling) {
    if (!isElement(n)) continue;
    visit(n);
    walk(n, visit);
  }
}
