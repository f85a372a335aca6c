import { DOMImplementation } from '@xmldom/xmldom';
import { DEFAULT_XML_LIMITS, type XmlLimits } from './limits.js';
import { XML_NS } from './namespaces.js';
import { addAttribute, appendToElement, countChanges, newElement, newText } from './xmldom-nodes.js';

/*
 * A strict XML 1.0 + Namespaces parser that builds @xmldom/xmldom's DOM, in one pass over the string.
 *
 * Why: xmldom's own reader (lib/sax.js) is about half of a seal verification's CPU (per character `charAt` state
 * machine, a regex per attribute and text run, a large Unicode regex per name), and it is lax: it recovers from
 * much that XML 1.0 calls not well-formed, silently (unbound prefixes, `]]>` in text, `--` in comments, `<` in
 * attribute values, `&` not starting a reference, invalid characters and character references, text around the
 * root, mismatched end tags it skips). Here every such document is refused.
 *
 * The DOM is xmldom's, built as its DOMParser builds it: elements, attributes and the nodes inside elements made
 * and linked as xmldom's methods would, without the checks they repeat (xmldom-nodes.ts), the rest with xmldom's
 * factory and tree methods. The nodes are the same objects with the same properties (xml-crypto, xpath and our
 * c14n read them), including xmldom's choices where it departs from the XML Infoset, but one:
 * - line ends are normalized as XML 1.0 (fifth edition, §2.11) says, not as xmldom does: CR LF and a CR alone
 *   become LF, in character data, attribute values, comments, CDATA sections and processing instructions; U+0085
 *   (NEL) and U+2028 (LINE SEPARATOR) are ordinary characters, kept (xmldom applies XML 1.1's set, where they and
 *   CR U+0085 are line ends too: a document signed by an XML 1.0 tool with them raw would not verify). In markup
 *   only XML 1.0 white space is accepted, so U+0085 or U+2028 there is refused. A document declaring
 *   `version="1.1"` is refused (see xmlDeclaration);
 * - white space between the markup of the prolog and epilog becomes Text children of the Document (but not the
 *   white space after the last markup); a byte order mark at the very start is kept as such a Text;
 * - the XML declaration becomes a processing instruction with target `xml`;
 * - an unprefixed element outside any default namespace has `namespaceURI` undefined (after `xmlns=""`: the empty
 *   string), an unprefixed attribute undefined;
 * - an empty CDATA section makes no node (the texts around it are one Text);
 * - leading white space of a processing instruction's data is dropped up to its first non-white character (in
 *   JavaScript's sense of white space, as xmldom's regex);
 * - names are limited to the Basic Multilingual Plane, like xmldom's name pattern (XML 1.0 also allows
 *   U+10000–U+EFFFF): stricter than XML 1.0, as xmldom was.
 * DOCTYPE (any `<!` other than a comment or CDATA section) is refused: no entity but the five predefined ones.
 * The structural limits (limits.ts) are counted as the document is read, and the tree is built without recursion.
 */

/** Why a document was refused: `offset` is the position in the string handed in. */
export class XmlRefusal extends Error {
  constructor(
    readonly kind: 'syntax' | 'limit' | 'doctype',
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
    this.name = 'XmlRefusal';
  }
}

export interface WellFormedXml {
  readonly document: Document;
  /** Whether a processing instruction other than the XML declaration was read. */
  readonly processingInstructions: boolean;
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const BANG = 0x21;
const QUOT = 0x22;
const HASH = 0x23;
const AMP = 0x26;
const APOS = 0x27;
const SLASH = 0x2f;
const COLON = 0x3a;
const SEMI = 0x3b;
const LT = 0x3c;
const EQ = 0x3d;
const GT = 0x3e;
const QUESTION = 0x3f;
const RSQB = 0x5d;
const LOWER_X = 0x78;
const BOM = 0xfeff;
const TEXT_NODE = 3;

const XMLNS_URI = XML_NS.xmlns;
const XML_URI = XML_NS.xml;

/** Name characters (XML 1.0 fifth edition §2.3) of the BMP, colon excluded: bit 1 starts a name, bit 2 continues one. */
const NAME_START = 1;
const NAME_CHAR = 2;
const NAMES = ((): Uint8Array => {
  const table = new Uint8Array(0x10000);
  const mark = (ranges: readonly (readonly [number, number])[], bits: number) => {
    for (const [from, to] of ranges) table.fill(bits, from, to + 1);
  };
  mark(
    [
      [0x41, 0x5a],
      [0x5f, 0x5f],
      [0x61, 0x7a],
      [0xc0, 0xd6],
      [0xd8, 0xf6],
      [0xf8, 0x2ff],
      [0x370, 0x37d],
      [0x37f, 0x1fff],
      [0x200c, 0x200d],
      [0x2070, 0x218f],
      [0x2c00, 0x2fef],
      [0x3001, 0xd7ff],
      [0xf900, 0xfdcf],
      [0xfdf0, 0xfffd],
    ],
    NAME_START | NAME_CHAR,
  );
  mark(
    [
      [0x2d, 0x2e],
      [0x30, 0x39],
      [0xb7, 0xb7],
      [0x300, 0x36f],
      [0x203f, 0x2040],
    ],
    NAME_CHAR,
  );
  return table;
})();

const isSpace = (c: number): boolean => c === SPACE || c === LF || c === TAB || c === CR;

/**
 * The namespace name as V8's one internalized copy of that string, the one a string literal of the same value is:
 * every element and attribute in the namespace gets it as `namespaceURI`, so that the checks after parsing
 * (`el.namespaceURI === NS.ds`, a few per element) compare two references instead of the characters of a slice
 * of the source. A property key is internalized: that is the way to it from JavaScript. Once per declaration.
 */
function internedUri(uri: string): string {
  const key: Record<string, true> = {};
  key[uri] = true;
  return Object.keys(key)[0] ?? uri;
}

/** XML 1.0's line-end normalization (§2.11): CR LF and a CR not followed by LF become LF. */
function normalizeLineEnds(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

const XML_DECLARATION =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"(1\.[0-9]+)"|'(1\.[0-9]+)')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"[A-Za-z][\w.-]*"|'[A-Za-z][\w.-]*'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>/y;

/**
 * Parse `src` (a whole document) into xmldom's DOM, refusing anything that is not well-formed XML 1.0 with
 * namespaces, a DOCTYPE, and documents beyond `limits`. Throws XmlRefusal.
 */
export function parseWellFormed(src: string, limits: XmlLimits = {}): WellFormedXml {
  return new Reader(src, { ...DEFAULT_XML_LIMITS, ...limits }).read();
}

class Reader {
  private readonly n: number;
  private readonly doc: Document;
  /** Position after what the last helper read. */
  private pos = 0;
  /** Colon position in the last qualified name read, or -1. */
  private colon = -1;
  private parent: Node;
  /**
   * The namespace bindings in scope: prefix (or '' for the default namespace) → URI. An element's declarations
   * are set here as its start tag is read, the binding each replaced (or undefined) kept in replacedPrefixes and
   * replacedUris, and put back at its end: O(1) a declaration and a look-up, whatever the nesting.
   */
  private readonly bindings = new Map<string, string>([['xml', XML_URI]]);
  private readonly replacedPrefixes: string[] = [];
  private readonly replacedUris: (string | undefined)[] = [];
  private readonly openNames: string[] = [];
  /** For each open element, the length of `replacedPrefixes` before its declarations. */
  private readonly openMarks: number[] = [];
  private rootSeen = false;
  private pis = false;
  private elements = 0;
  private attributes = 0;
  // The current start tag's attributes (reused).
  private readonly attrNames: string[] = [];
  private readonly attrColons: number[] = [];
  private readonly attrValues: string[] = [];
  private readonly attrAt: number[] = [];
  private readonly attrUris: (string | undefined)[] = [];

  constructor(
    private readonly src: string,
    private readonly limits: Required<XmlLimits>,
  ) {
    this.n = src.length;
    this.doc = new DOMImplementation().createDocument(null, null, null);
    this.parent = this.doc;
  }

  private fail(reason: string, at: number): never {
    throw new XmlRefusal('syntax', reason, at);
  }

  private limit(reason: string, at: number): never {
    throw new XmlRefusal('limit', reason, at);
  }

  read(): WellFormedXml {
    const { src, n } = this;
    if (n > this.limits.maxChars) this.limit(`more than ${this.limits.maxChars} characters`, 0);
    const declarationAt = src.charCodeAt(0) === BOM ? 1 : 0;
    let p = 0;
    for (;;) {
      if (this.openNames.length === 0) {
        p = this.outsideRoot(p);
        if (p >= n) break;
      } else {
        const text = this.charData(p);
        p = this.pos;
        if (text !== '') this.appendText(text);
        if (p >= n) this.fail(`element <${this.openNames[this.openNames.length - 1]}> is not closed`, p);
      }
      // src[p] is '<'.
      const next = src.charCodeAt(p + 1);
      if (next === SLASH) p = this.endTag(p);
      else if (next === QUESTION) {
        p =
          p === declarationAt && src.startsWith('<?xml', p) && isSpace(src.charCodeAt(p + 5))
            ? this.xmlDeclaration(p)
            : this.processingInstruction(p);
      } else if (next === BANG) {
        if (src.startsWith('<!--', p)) p = this.comment(p);
        else if (src.startsWith('<![CDATA[', p)) p = this.cdata(p);
        else if (/^<!DOCTYPE/i.test(src.slice(p, p + 9)))
          throw new XmlRefusal('doctype', 'a DOCTYPE is refused', p);
        else this.fail("'<!' that starts no comment or CDATA section", p);
      } else p = this.startTag(p);
    }
    countChanges(this.doc, this.elements + this.attributes);
    return { document: this.doc, processingInstructions: this.pis };
  }

  /** White space outside the root element, up to the next '<' (returned) or the end (the white space is then dropped). */
  private outsideRoot(p: number): number {
    const { src, n } = this;
    const from = p;
    let norm = false;
    for (; p < n; p++) {
      const c = src.charCodeAt(p);
      if (c === LT) break;
      if (c === CR) norm = true;
      else if (!isSpace(c) && !(c === BOM && p === 0)) {
        this.fail(this.rootSeen ? 'content after the root element' : 'text before the root element', p);
      }
    }
    if (p < n && p > from) {
      const text = src.slice(from, p);
      this.doc.appendChild(this.doc.createTextNode(norm ? normalizeLineEnds(text) : text));
    }
    return p;
  }

  /** Text content from p up to the next '<' or the end, references replaced; sets pos. */
  private charData(p: number): string {
    const { src, n } = this;
    let out = '';
    let from = p;
    let norm = false;
    while (p < n) {
      const c = src.charCodeAt(p);
      if (c < 0x80) {
        if (c >= SPACE) {
          if (c === LT) break;
          if (c === AMP) {
            out += this.cut(from, p, norm) + this.reference(p);
            norm = false;
            p = from = this.pos;
            continue;
          }
          if (c === GT && src.charCodeAt(p - 1) === RSQB && src.charCodeAt(p - 2) === RSQB)
            this.fail("']]>' in character data", p - 2);
        } else if (c === CR) norm = true;
        else if (c !== LF && c !== TAB) this.invalidChar(c, p);
      } else if (c >= 0xd800) p = this.nonBmp(c, p);
      p++;
    }
    this.pos = p;
    return out + this.cut(from, p, norm);
  }

  private cut(from: number, to: number, norm: boolean): string {
    const text = this.src.slice(from, to);
    return norm ? normalizeLineEnds(text) : text;
  }

  /** Checks the character at p (≥ U+D800) and returns the position of its last code unit. */
  private nonBmp(c: number, p: number): number {
    if (c <= 0xdbff) {
      const low = this.src.charCodeAt(p + 1);
      if (low >= 0xdc00 && low <= 0xdfff) return p + 1;
      this.fail('unpaired surrogate', p);
    }
    if (c <= 0xdfff || c >= 0xfffe) this.invalidChar(c, p);
    return p;
  }

  private invalidChar(c: number, p: number): never {
    this.fail(`invalid character U+${c.toString(16).toUpperCase().padStart(4, '0')}`, p);
  }

  /** Checks the characters of [from, to) (comment, CDATA, processing instruction); true when line ends need normalizing. */
  private checkChars(from: number, to: number): boolean {
    const src = this.src;
    let norm = false;
    for (let p = from; p < to; p++) {
      const c = src.charCodeAt(p);
      if (c < SPACE) {
        if (c === CR) norm = true;
        else if (c !== LF && c !== TAB) this.invalidChar(c, p);
      } else if (c >= 0xd800) p = this.nonBmp(c, p);
    }
    return norm;
  }

  /** The reference at p ('&'): its replacement text; sets pos after the ';'. */
  private reference(p: number): string {
    const src = this.src;
    let q = p + 1;
    if (src.charCodeAt(q) === HASH) {
      q++;
      const hex = src.charCodeAt(q) === LOWER_X;
      if (hex) q++;
      const digitsAt = q;
      let value = 0;
      for (; ; q++) {
        const c = src.charCodeAt(q);
        let digit: number;
        if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
        else if (hex && c >= 0x61 && c <= 0x66) digit = c - 0x57;
        else if (hex && c >= 0x41 && c <= 0x46) digit = c - 0x37;
        else break;
        value = Math.min(value * (hex ? 16 : 10) + digit, 0x110000);
      }
      if (q === digitsAt || src.charCodeAt(q) !== SEMI) this.fail('malformed character reference', p);
      if (
        !(value >= SPACE
          ? value <= 0xd7ff || (value >= 0xe000 && value <= 0xfffd) || (value >= 0x10000 && value <= 0x10ffff)
          : value === TAB || value === LF || value === CR)
      )
        this.fail('character reference to a character XML does not allow', p);
      this.pos = q + 1;
      return String.fromCodePoint(value);
    }
    const end = this.ncName(q);
    if (end === q) this.fail("'&' that starts no reference", p);
    if (src.charCodeAt(end) !== SEMI) this.fail("entity reference without ';'", p);
    this.pos = end + 1;
    switch (src.slice(q, end)) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return this.fail(`undeclared entity &${src.slice(q, end)};`, p);
    }
  }

  /** End of the name (without colons) at p, or p when none starts there. */
  private ncName(p: number): number {
    const src = this.src;
    if (!(NAMES[src.charCodeAt(p)]! & NAME_START)) return p;
    p++;
    while (NAMES[src.charCodeAt(p)]! & NAME_CHAR) p++;
    return p;
  }

  /** End of the qualified name at p (sets colon); refuses anything else. */
  private qName(p: number, what: string): number {
    const end = this.ncName(p);
    if (end === p) this.fail(`${what} expected`, p);
    this.colon = -1;
    if (this.src.charCodeAt(end) !== COLON) return end;
    const local = this.ncName(end + 1);
    if (local === end + 1 || this.src.charCodeAt(local) === COLON)
      this.fail(`${what} is not a qualified name (prefix:local)`, p);
    this.colon = end;
    return local;
  }

  private skipSpace(p: number): number {
    while (isSpace(this.src.charCodeAt(p))) p++;
    return p;
  }

  private append(node: Node): void {
    if (this.parent === this.doc) this.doc.appendChild(node);
    else appendToElement(this.parent, node);
  }

  /** Text in an element; joined to a Text just before it (only an empty CDATA section separates two), as xmldom's normalize() does. */
  private appendText(text: string): void {
    const last = this.parent.lastChild;
    if (last !== null && last.nodeType === TEXT_NODE) (last as Text).appendData(text);
    else appendToElement(this.parent, newText(this.doc, text));
  }

  private startTag(p: number): number {
    const { src, limits } = this;
    const nameEnd = this.qName(p + 1, 'element name');
    const nameColon = this.colon;
    const qName = src.slice(p + 1, nameEnd);
    if (this.openNames.length === 0 && this.rootSeen) this.fail('a second root element', p);
    if (++this.elements > limits.maxElements) this.limit(`more than ${limits.maxElements} elements`, p);
    if (this.openNames.length + 1 > limits.maxDepth)
      this.limit(`elements nested deeper than ${limits.maxDepth}`, p);
    const { attrNames, attrColons, attrValues, attrAt } = this;
    let count = 0;
    let empty = false;
    let q = nameEnd;
    for (;;) {
      const spaced = isSpace(src.charCodeAt(q));
      q = this.skipSpace(q);
      const c = src.charCodeAt(q);
      if (c === GT) {
        q++;
        break;
      }
      if (c === SLASH) {
        if (src.charCodeAt(q + 1) !== GT) this.fail("'/' not followed by '>' in a start tag", q);
        q += 2;
        empty = true;
        break;
      }
      if (q >= this.n) this.fail(`start tag <${qName}> is not closed`, p);
      if (!spaced) this.fail(`no white space before an attribute of <${qName}>`, q);
      const at = q;
      q = this.qName(q, 'attribute name');
      const name = src.slice(at, q);
      const colon = this.colon;
      q = this.skipSpace(q);
      if (src.charCodeAt(q) !== EQ) this.fail(`'=' expected after attribute ${name}`, q);
      q = this.skipSpace(q + 1);
      const quote = src.charCodeAt(q);
      if (quote !== QUOT && quote !== APOS) this.fail(`the value of attribute ${name} is not quoted`, q);
      const value = this.attributeValue(q + 1, quote);
      q = this.pos;
      if (count === limits.maxAttributesPerElement)
        this.limit(`more than ${limits.maxAttributesPerElement} attributes on one element`, at);
      attrNames[count] = name;
      attrColons[count] = colon === -1 ? -1 : colon - at;
      attrValues[count] = value;
      attrAt[count] = at;
      count++;
    }
    this.attributes += count;
    if (this.attributes > limits.maxAttributes) this.limit(`more than ${limits.maxAttributes} attributes`, p);

    // Namespace declarations of this element (Namespaces in XML 1.0 §3, "Reserved Prefixes and Namespace Names").
    const { bindings, replacedPrefixes, replacedUris } = this;
    const mark = replacedPrefixes.length;
    for (let k = 0; k < count; k++) {
      const name = attrNames[k]!;
      const colon = attrColons[k]!;
      let prefix: string;
      if (colon === -1 && name === 'xmlns') prefix = '';
      else if (colon === 5 && name.startsWith('xmlns')) prefix = name.slice(6);
      else continue;
      const uri = attrValues[k]!;
      if (prefix === 'xmlns') this.fail('the prefix xmlns is declared', attrAt[k]!);
      if (prefix === 'xml') {
        if (uri !== XML_URI) this.fail('the prefix xml is bound to another namespace', attrAt[k]!);
      } else if (uri === XML_URI || uri === XMLNS_URI) {
        this.fail(
          `${uri} is bound to ${prefix ? `the prefix ${prefix}` : 'the default namespace'}`,
          attrAt[k]!,
        );
      } else if (uri === '' && prefix !== '')
        this.fail(`the prefix ${prefix} is bound to no namespace`, attrAt[k]!);
      replacedPrefixes.push(prefix);
      replacedUris.push(bindings.get(prefix));
      bindings.set(prefix, internedUri(uri));
    }

    let ns: string | undefined;
    let prefix: string | undefined;
    if (nameColon === -1) ns = bindings.get('');
    else {
      prefix = qName.slice(0, nameColon - p - 1);
      if (prefix === 'xmlns') this.fail(`element <${qName}> has the prefix xmlns`, p);
      ns = bindings.get(prefix);
      if (ns === undefined) this.fail(`the prefix ${prefix} of <${qName}> is not declared`, p);
    }
    const uris = this.attrUris;
    for (let k = 0; k < count; k++) {
      const name = attrNames[k]!;
      const colon = attrColons[k]!;
      if (colon === -1) uris[k] = name === 'xmlns' ? XMLNS_URI : undefined;
      else {
        const prefix = name.slice(0, colon);
        const uri = prefix === 'xmlns' ? XMLNS_URI : bindings.get(prefix);
        if (uri === undefined)
          this.fail(`the prefix ${prefix} of attribute ${name} is not declared`, attrAt[k]!);
        uris[k] = uri;
      }
    }
    if (count > 1) this.uniqueAttributes(count);

    // Built as xmldom's DOMHandler.startElement does: the element, appended, then its attributes in order.
    const doc = this.doc;
    const el = newElement(doc, ns, qName, nameColon === -1 ? -1 : nameColon - p - 1, prefix);
    this.append(el);
    for (let k = 0; k < count; k++) addAttribute(el, uris[k], attrNames[k]!, attrColons[k]!, attrValues[k]!);
    this.rootSeen = true;
    if (!empty) {
      this.openNames.push(qName);
      this.openMarks.push(mark);
      this.parent = el;
    } else if (replacedPrefixes.length > mark) this.unbind(mark);
    return q;
  }

  /** Puts back the bindings that the declarations since `mark` replaced (the last first). */
  private unbind(mark: number): void {
    const { bindings, replacedPrefixes, replacedUris } = this;
    while (replacedPrefixes.length > mark) {
      const prefix = replacedPrefixes.pop()!;
      const uri = replacedUris.pop();
      if (uri === undefined) bindings.delete(prefix);
      else bindings.set(prefix, uri);
    }
  }

  /** No two attributes of one element with the same name, nor with the same namespace and local name (Namespaces §6.3). */
  private uniqueAttributes(count: number): void {
    const { attrNames, attrAt, attrUris } = this;
    if (count <= 8) {
      // Few attributes (nearly every element): by pairs, without allocating.
      for (let k = 1; k < count; k++) {
        for (let j = 0; j < k; j++) {
          if (attrNames[k] === attrNames[j])
            this.fail(`attribute ${attrNames[k]!} appears twice`, attrAt[k]!);
          if (this.namespaced(k) && attrUris[k] === attrUris[j] && this.localName(k) === this.localName(j))
            this.fail(`attribute ${attrNames[k]!} has the namespace and local name of another`, attrAt[k]!);
        }
      }
      return;
    }
    const names = new Set<string>();
    const expanded = new Set<string>();
    for (let k = 0; k < count; k++) {
      if (names.has(attrNames[k]!)) this.fail(`attribute ${attrNames[k]!} appears twice`, attrAt[k]!);
      names.add(attrNames[k]!);
      if (!this.namespaced(k)) continue;
      // U+0000 cannot occur in a namespace name (refused as a character and as a reference).
      const key = `${attrUris[k]!}\u0000${this.localName(k)}`;
      if (expanded.has(key))
        this.fail(`attribute ${attrNames[k]!} has the namespace and local name of another`, attrAt[k]!);
      expanded.add(key);
    }
  }

  /** Whether attribute k of the current tag is in a namespace other than the one of namespace declarations. */
  private namespaced(k: number): boolean {
    const uri = this.attrUris[k];
    return uri !== undefined && uri !== XMLNS_URI;
  }

  private localName(k: number): string {
    return this.attrNames[k]!.slice(this.attrColons[k]! + 1);
  }

  /** The attribute value from p up to its closing quote, normalized (XML 1.0 §3.3.3 for CDATA attributes); sets pos after the quote. */
  private attributeValue(p: number, quote: number): string {
    const { src, n } = this;
    let out = '';
    let from = p;
    let space = false;
    for (;;) {
      if (p >= n) this.fail('attribute value is not closed', p);
      const c = src.charCodeAt(p);
      if (c < 0x80) {
        if (c === quote) break;
        if (c >= SPACE) {
          if (c === LT) this.fail("'<' in an attribute value", p);
          if (c === AMP) {
            out += this.cutValue(from, p, space) + this.reference(p);
            space = false;
            p = from = this.pos;
            continue;
          }
        } else if (c === TAB || c === LF || c === CR) space = true;
        else this.invalidChar(c, p);
      } else if (c >= 0xd800) p = this.nonBmp(c, p);
      p++;
    }
    this.pos = p + 1;
    return out + this.cutValue(from, p, space);
  }

  /** A run of an attribute value: line ends normalized (CR LF is one line end), then TAB and LF become spaces. */
  private cutValue(from: number, to: number, space: boolean): string {
    const text = this.src.slice(from, to);
    return space ? text.replace(/\r\n?|[\t\n]/g, ' ') : text;
  }

  private endTag(p: number): number {
    const src = this.src;
    const open = this.openNames;
    const name = open[open.length - 1];
    if (name === undefined) this.fail('end tag without a start tag', p);
    let q = p + 2 + name.length;
    if (!src.startsWith(name, p + 2) || !(src.charCodeAt(q) === GT || isSpace(src.charCodeAt(q)))) {
      let end = this.ncName(p + 2);
      if (src.charCodeAt(end) === COLON) end = Math.max(end, this.ncName(end + 1));
      this.fail(`end tag </${src.slice(p + 2, end)}> does not close <${name}>`, p);
    }
    q = this.skipSpace(q);
    if (src.charCodeAt(q) !== GT) this.fail(`end tag </${name}> is not closed by '>'`, q);
    open.pop();
    this.unbind(this.openMarks.pop()!);
    // After the root, xmldom's current node is the Document (its parentNode): what follows goes there.
    this.parent = this.parent.parentNode!;
    return q + 1;
  }

  private comment(p: number): number {
    const end = this.src.indexOf('--', p + 4);
    if (end < 0) this.fail('comment is not closed', p);
    if (this.src.charCodeAt(end + 2) !== GT) this.fail("'--' in a comment", end);
    const norm = this.checkChars(p + 4, end);
    this.append(this.doc.createComment(this.cut(p + 4, end, norm)));
    return end + 3;
  }

  private cdata(p: number): number {
    if (this.openNames.length === 0) this.fail('CDATA section outside the root element', p);
    const from = p + 9;
    const end = this.src.indexOf(']]>', from);
    if (end < 0) this.fail('CDATA section is not closed', p);
    const norm = this.checkChars(from, end);
    if (end > from) this.append(this.doc.createCDATASection(this.cut(from, end, norm)));
    return end + 3;
  }

  private processingInstruction(p: number): number {
    const src = this.src;
    const targetEnd = this.ncName(p + 2);
    if (targetEnd === p + 2) this.fail('processing instruction without a target', p);
    const target = src.slice(p + 2, targetEnd);
    if (target.toLowerCase() === 'xml')
      this.fail(
        'an XML declaration (or a processing instruction named xml) after the start of the document',
        p,
      );
    let data = '';
    let end = targetEnd;
    const c = src.charCodeAt(targetEnd);
    if (c === COLON) this.fail('a colon in a processing instruction target', targetEnd);
    if (isSpace(c)) {
      end = src.indexOf('?>', targetEnd);
      if (end < 0) this.fail('processing instruction is not closed', p);
      data = this.cut(targetEnd, end, this.checkChars(targetEnd, end)).replace(/^\s+/, '');
    } else if (c !== QUESTION || src.charCodeAt(targetEnd + 1) !== GT) {
      this.fail('processing instruction target not followed by white space or ?>', targetEnd);
    }
    this.append(this.doc.createProcessingInstruction(target, data));
    this.pis = true;
    return end + 2;
  }

  /**
   * The XML declaration. `version="1.1"` is refused: XML 1.1 reads the same characters otherwise (U+0085, U+2028
   * and CR U+0085 are line ends there, C0 controls may be referenced, names differ), so a signer reading it as 1.1
   * and this reader (XML 1.0) would see different text under one signature; XML 1.0's rule (§2.8) to read 1.x as
   * 1.0, which libxml2 follows with a warning, is kept for the 1.x versions that do not exist (no other reading).
   */
  private xmlDeclaration(p: number): number {
    XML_DECLARATION.lastIndex = p;
    const m = XML_DECLARATION.exec(this.src);
    if (m === null) this.fail('malformed XML declaration', p);
    if ((m[1] ?? m[2]) === '1.1') this.fail('an XML 1.1 document (version="1.1") is refused', p + 6);
    const end = XML_DECLARATION.lastIndex - 2;
    const data = this.cut(p + 5, end, this.checkChars(p + 5, end)).replace(/^\s+/, '');
    this.append(this.doc.createProcessingInstruction('xml', data));
    return end + 2;
  }
}

/** Line and column (both from 1) of `offset` in `src`, for messages. */
export function lineAndColumn(src: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let p = src.indexOf('\n'); p >= 0 && p < offset; p = src.indexOf('\n', p + 1)) {
    line++;
    lineStart = p + 1;
  }
  return { line, column: offset - lineStart + 1 };
}
