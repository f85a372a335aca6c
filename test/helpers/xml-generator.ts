/*
 * Random well-formed XML documents (XML 1.0 + Namespaces) that exercise what a reader can get wrong: namespace
 * declarations, re-declarations, un-declaration of the default, one URI under two prefixes, prefixed and
 * unprefixed attributes, xml:*, both quote kinds, white space of every kind inside tags, references (the five
 * entities, decimal and hex character references, beyond the BMP), line ends (CR LF, CR, U+0085, U+2028 in data),
 * CDATA sections (empty too), comments, processing instructions, the XML declaration's forms, a byte order mark,
 * white space, comments and PIs around the root. Every document is well-formed (xmllint checks the generator).
 */

type Rnd = () => number;
const pick = <T>(rnd: Rnd, items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
const some = (rnd: Rnd, max: number, make: () => string): string =>
  Array.from({ length: Math.floor(rnd() * (max + 1)) }, make).join('');

const DECLARATIONS = [
  '<?xml version="1.0"?>',
  "<?xml version='1.0' encoding='UTF-8'?>",
  '<?xml version="1.0" encoding="utf-8" standalone="yes" ?>',
  '<?xml  version = "1.0"\n?>',
  '<?xml version="1.0" standalone=\'no\'?>',
];
const SPACE = [' ', '  ', '\n', '\t', '\r\n', '\r', ' \n\t'];
const LOCAL = ['a', 'b', 'é', 'x-y.z', '_u', 'A1', 'ab', 'n·\u0300', '中', 'Body', 'xmlnsx', 'xml-y'];
const NAMESPACES = ['urn:p', 'urn:q', 'http://example.com/a#b', 'urn:p&amp;x', 'rel', 'urn:&#x71;', ''];
const TEXT = [
  'x',
  ' ',
  '\n',
  '\r\n',
  '\r',
  '\t',
  'a&amp;b',
  '&lt;',
  '&gt;',
  '&quot;',
  '&apos;',
  '&#65;',
  '&#x41;',
  '&#x1F600;',
  '&#10;',
  '&#13;',
  '&#9;',
  '&#0000066;',
  '\u0085',
  '\u2028',
  'é',
  '😀',
  ']]',
  ']',
  '>',
  '\u00a0',
  '\ufeff',
  '\u0080',
  'x]]&gt;',
  ']&#93;>',
  '"',
  "'",
  '\r\u0085',
];
const VALUE = [
  'v',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\r',
  '&amp;',
  '&lt;',
  '&#9;',
  '&#10;',
  '&#13;',
  '&#x20;',
  '>',
  'é',
  '😀',
  '\u0085',
  '\u2028',
  ']]>',
  '&#x10FFFF;',
];
const COMMENT = ['c', ' ', '-', '\r\n', 'é', '<', '&', '>', ']]>', '\u2028', '<!-', '😀'];
const PI_DATA = ['d', ' ', '"', '<', '&', '?', '>', '\r\n', '\u2028', 'é', '\u00a0'];
const CDATA = ['x', '<', '&', ']]', ']', '>', '\r\n', 'é', '😀', '<![CDATA[', '\u0085'];

function comment(rnd: Rnd): string {
  const body = some(rnd, 5, () => pick(rnd, COMMENT))
    .replace(/-{2,}/g, '-')
    .replace(/-$/, '-x');
  return `<!--${body}-->`;
}

function pi(rnd: Rnd): string {
  const target = pick(rnd, ['pi', 'x-y', 'php', 'xml-stylesheet', 'é', 'xmlx']);
  const data = some(rnd, 5, () => pick(rnd, PI_DATA)).replace(/\?>/g, '? >');
  return data === '' && rnd() < 0.5 ? `<?${target}?>` : `<?${target}${pick(rnd, SPACE)}${data}?>`;
}

function misc(rnd: Rnd): string {
  return some(rnd, 3, () => pick(rnd, [pick(rnd, SPACE), comment(rnd), pi(rnd)]));
}

/** Prefix → URI in scope ('' for the default namespace). */
type Scope = ReadonlyMap<string, string>;

function element(rnd: Rnd, depth: number, scope: Scope): string {
  const inner = new Map(scope);
  const attrs: string[] = [];
  const quoted = (value: string) => {
    const q = rnd() < 0.5 ? '"' : "'";
    return `${q}${value.replaceAll(q, q === '"' ? '&quot;' : '&apos;')}${q}`;
  };
  const eq = () => pick(rnd, ['=', '=', ' = ', '\n=\t']);
  // Namespace declarations.
  for (const prefix of ['', 'p', 'q', 'r']) {
    if (rnd() < 0.25) {
      const uri = pick(rnd, NAMESPACES);
      if (uri === '' && prefix !== '') continue;
      inner.set(prefix, uri.replace('&amp;', '&').replace('&#x71;', 'q'));
      attrs.push(`${prefix ? `xmlns:${prefix}` : 'xmlns'}${eq()}${quoted(uri)}`);
    }
  }
  if (rnd() < 0.05) attrs.push(`xmlns:xml${eq()}"http://www.w3.org/XML/1998/namespace"`);
  const bound = [...inner.keys()].filter((p) => p !== '' && inner.get(p) !== '');
  const name = (forAttribute: boolean) => {
    const local = pick(rnd, LOCAL);
    const prefixes = forAttribute ? [...bound, 'xml'] : bound;
    return prefixes.length > 0 && rnd() < 0.5 ? `${pick(rnd, prefixes)}:${local}` : local;
  };
  const tag = name(false);
  // Attributes: no two with the same name, nor the same namespace and local name.
  const expanded = new Set<string>();
  for (let k = Math.floor(rnd() * 5); k > 0; k--) {
    const qn = name(true);
    const colon = qn.indexOf(':');
    const uri = colon < 0 ? '' : qn.startsWith('xml:') ? 'xml' : inner.get(qn.slice(0, colon))!;
    const key = `${uri} ${qn.slice(colon + 1)}`;
    if (expanded.has(key) || qn === 'xmlns') continue;
    expanded.add(key);
    attrs.push(`${qn}${eq()}${quoted(some(rnd, 4, () => pick(rnd, VALUE)))}`);
  }
  const open = `<${tag}${attrs.map((a) => `${pick(rnd, SPACE)}${a}`).join('')}${rnd() < 0.3 ? pick(rnd, SPACE) : ''}`;
  if (depth >= 5 || rnd() < 0.2) return `${open}/>`;
  const content = some(rnd, 6, () => {
    const r = rnd();
    // Never `]]>` in text, also not across two texts in a row.
    if (r < 0.35)
      return some(rnd, 3, () => pick(rnd, TEXT))
        .replaceAll(']]>', ']]&gt;')
        .replace(/]$/, ']x');
    if (r < 0.7) return element(rnd, depth + 1, inner);
    if (r < 0.8) return comment(rnd);
    if (r < 0.88) return pi(rnd);
    return `<![CDATA[${some(rnd, 4, () => pick(rnd, CDATA)).replaceAll(']]>', ']] >')}]]>`;
  });
  return `${open}>${content}</${tag}${rnd() < 0.2 ? pick(rnd, SPACE) : ''}>`;
}

/** A random well-formed document. */
export function wellFormedDocument(rnd: Rnd): string {
  const bom = rnd() < 0.1 ? '\ufeff' : '';
  const declaration = rnd() < 0.6 ? pick(rnd, DECLARATIONS) : '';
  return `${bom}${declaration}${misc(rnd)}${element(rnd, 0, new Map())}${misc(rnd)}`;
}

const INSERTS = [
  '<',
  '>',
  '&',
  ';',
  '"',
  "'",
  '=',
  '/',
  ':',
  ']]>',
  '--',
  '<!--',
  '-->',
  '<?',
  '?>',
  '<![CDATA[',
  '\u0000',
  '\u0001',
  '\ufffe',
  ' ',
  ' xmlns:z="urn:z"',
  ' xmlns:z=""',
  'z:',
  '&#0;',
  '&#x110000;',
  '&foo;',
  '&#xD800;',
  '<a>',
  '</a>',
  '<b/>',
  '\u0085',
  '\u2028',
  '\u00a0',
  'x',
  ' p:a="1"',
  ' a="1"',
  '<?xml version="1.0"?>',
  '<!DOCTYPE a>',
  '&#x;',
  '&#65',
  'é',
  '\ufeff',
];

/** `xml` with one to three random edits: a deletion, an insertion of a token that matters to XML, a duplicated or swapped piece, a truncation. */
export function mutated(rnd: Rnd, xml: string): string {
  let s = xml;
  for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
    const at = Math.floor(rnd() * (s.length + 1));
    const r = rnd();
    if (r < 0.3) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 3));
    else if (r < 0.75) s = s.slice(0, at) + pick(rnd, INSERTS) + s.slice(at);
    else if (r < 0.85) s = s.slice(0, at) + s.slice(at, at + 8) + s.slice(at);
    else if (r < 0.95) s = s.slice(0, at) + s.slice(at + 1, at + 2) + s.slice(at, at + 1) + s.slice(at + 2);
    else s = s.slice(0, at);
  }
  return s;
}
