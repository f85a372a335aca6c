import { DOMImplementation } from '@xmldom/xmldom';
import { XML_NS } from './namespaces.js';

/*
 * xmldom's nodes, made for well-formed.ts as xmldom's own DOMParser makes them (its DOMHandler calls
 * createElementNS, appendChild, createAttributeNS and setAttributeNode), but without what those methods check
 * again: the reader has already checked the names, their namespaces and that no attribute is repeated, and every
 * node it links is new and goes at the end of an element. The same objects result: the same prototypes, the same
 * own properties in the same order, with the same values (test/xml/well-formed-oracle.test.ts compares them node
 * by node, own keys in order, with the DOM of xmldom's DOMParser); what is left out are xmldom's checks and steps
 * that do nothing here (the split of the qualified name, the pre-insertion checks, a look-up of the attribute
 * replaced, the owner document's update, and the Document's `_inc`, counted once at the end).
 * The Document's own children (the root element, and the prolog and epilog) still go through Document's
 * appendChild, which also sets documentElement.
 */

/** The fields of xmldom's nodes written here (its typings are the DOM's, read-only). */
interface XNode {
  ownerDocument: Document;
  parentNode: XNode | null;
  previousSibling: XNode | null;
  nextSibling: XNode | null;
  firstChild: XNode | null;
  lastChild: XNode | null;
  childNodes: XList;
  nodeName: string;
  nodeValue: string | null;
  namespaceURI: string | undefined;
  prefix: string;
  localName: string;
}
interface XList {
  [index: number]: XNode;
  length: number;
}
interface XElement extends XNode {
  _nsMap: Record<string, string>;
  attributes: XAttributes;
  tagName: string;
}
interface XAttributes extends XList {
  _nameIndex: Record<string, XNode>;
  _ownerElement: XElement;
}
interface XAttr extends XNode {
  name: string;
  specified: boolean;
  value: string;
  ownerElement: XElement;
}
interface XText extends XNode {
  data: string;
  length: number;
}

// The prototypes (and the constructors, which set nothing but Element's `_nsMap`) of the nodes xmldom makes.
const probe = new DOMImplementation().createDocument(null, null, null);
const probeElement = probe.createElementNS(null, 'e');
const ElementNode = constructorOf<XElement>(probeElement);
const AttrNode = constructorOf<XAttr>(probe.createAttributeNS(null, 'a'));
const TextNode = constructorOf<XText>(probe.createTextNode(''));
/** NodeList and NamedNodeMap have no constructor of their own on their prototype: their prototypes are used. */
const NODE_LIST = Object.getPrototypeOf(probeElement.childNodes) as object;
const NAMED_NODE_MAP = Object.getPrototypeOf(probeElement.attributes) as object;

function constructorOf<T>(node: object): new () => T {
  const proto = Object.getPrototypeOf(node) as { constructor: new () => T };
  // xmldom's _extends sets `constructor` on each node prototype: a node made with it has that prototype.
  if (!Object.hasOwn(proto, 'constructor') || Object.getPrototypeOf(new proto.constructor()) !== proto)
    throw new Error('@xmldom/xmldom: a node prototype without its constructor (another version?)');
  return proto.constructor;
}

const XMLNS_URI = XML_NS.xmlns;

/**
 * An element as `doc.createElementNS(namespaceURI, qName)` makes it; `colon` is the position of the colon in
 * `qName` or -1. `prefix`, when given, is `qName.slice(0, colon)` as the reader already cut it to look up its
 * namespace: the same string object, whose hash V8 has then computed, so that a canonicalizer's look-up of the
 * element's prefix (exc-c14n.ts, once per element) does not compute it again on a fresh copy.
 */
export function newElement(
  doc: Document,
  namespaceURI: string | undefined,
  qName: string,
  colon: number,
  prefix?: string,
): Element {
  const el = new ElementNode(); // _nsMap
  const attributes = Object.create(NAMED_NODE_MAP) as XAttributes;
  attributes._nameIndex = Object.create(null) as Record<string, XNode>;
  el.attributes = attributes;
  el.childNodes = Object.create(NODE_LIST) as XList;
  el.ownerDocument = doc;
  el.nodeName = qName;
  el.tagName = qName;
  el.namespaceURI = namespaceURI;
  if (colon !== -1) {
    el.prefix = prefix ?? qName.slice(0, colon);
    el.localName = qName.slice(colon + 1);
  } else el.localName = qName;
  attributes._ownerElement = el;
  return el as unknown as Element;
}

/**
 * The attribute as `el.setAttributeNode(a)` sets it, `a` made by `doc.createAttributeNS(namespaceURI, qName)` and
 * given `value` (xmldom's DOMHandler.startElement); `el` has no attribute of that name yet.
 */
export function addAttribute(
  element: Element,
  namespaceURI: string | undefined,
  qName: string,
  colon: number,
  value: string,
): void {
  const el = element as unknown as XElement;
  const attr = new AttrNode();
  attr.ownerDocument = el.ownerDocument;
  attr.nodeName = qName;
  attr.name = qName;
  attr.namespaceURI = namespaceURI;
  attr.specified = true;
  if (colon !== -1) {
    attr.prefix = qName.slice(0, colon);
    attr.localName = qName.slice(colon + 1);
  } else attr.localName = qName;
  attr.nodeValue = value;
  attr.value = value;
  const list = el.attributes;
  list[list.length++] = attr;
  list._nameIndex[qName] = attr;
  attr.ownerElement = el;
  if (namespaceURI === XMLNS_URI) el._nsMap[colon !== -1 ? attr.localName : ''] = value;
}

/** A Text as `doc.createTextNode(data)` makes it. */
export function newText(doc: Document, data: string): Text {
  const text = new TextNode();
  text.ownerDocument = doc;
  text.data = data;
  text.nodeValue = data;
  text.length = data.length;
  return text as unknown as Text;
}

/** `parent.appendChild(child)` for an element parent and a new child node of its document. */
export function appendToElement(parent: Node, child: Node): void {
  const p = parent as unknown as XNode;
  const c = child as unknown as XNode;
  const previous = p.lastChild;
  c.parentNode = p;
  c.previousSibling = previous;
  c.nextSibling = null;
  if (previous !== null) previous.nextSibling = c;
  else p.firstChild = c;
  p.lastChild = c;
  const children = p.childNodes;
  children[children.length++] = c;
}

/** What xmldom's tree methods add to the Document's `_inc` (its live node lists compare it to know they are stale). */
export function countChanges(doc: Document, changes: number): void {
  (doc as unknown as { _inc: number })._inc += changes;
}
