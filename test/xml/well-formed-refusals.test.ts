import { describe, expect, it } from 'vitest';
import { QerdsError } from '../../src/core/errors.js';
import { parseXmlStrict, serializeXml } from '../../src/xml/index.js';
import { parseWellFormed, XmlRefusal } from '../../src/xml/well-formed.js';
import { ours, xmldomStrict, xmllintWellFormed } from '../helpers/xml-oracle.js';

/*
 * What src/xml/well-formed.ts refuses, rule by rule (XML 1.0 fifth edition, Namespaces in XML 1.0 third edition),
 * each with xmllint (libxml2) agreeing that the document is not well-formed, and what xmldom's own reader, run as
 * parseXmlStrict ran it before (every warning fatal), made of it: `laxXmldom` marks the documents it accepted.
 * Then hostile shapes: depth, attribute counts, long names, reference-like text, entity expansion, UTF-16.
 */

const refusal = (xml: string, limits = {}): XmlRefusal | undefined => {
  try {
    parseWellFormed(xml, limits);
  } catch (e) {
    if (e instanceof XmlRefusal) return e;
    throw e;
  }
  return undefined;
};

const strictError = (xml: string, options = {}): QerdsError | undefined => {
  try {
    parseXmlStrict(xml, 'BAD_REQUEST', { what: 'document', ...options });
  } catch (e) {
    if (e instanceof QerdsError) return e;
    throw e;
  }
  return undefined;
};

/** [rule, document, laxXmldom]: every document is not well-formed. */
const RULES: readonly (readonly [string, string, boolean])[] = [
  ['mismatched end tag', '<a></b>', false],
  ['unclosed root', '<a>', false],
  ['unclosed, same name nested', '<a><a></a>', true],
  ['end tag without start', '<a/></a>', true],
  ['two roots', '<a/><b/>', false],
  ['text before root', 'x<a/>', true],
  ['text after root', '<a/>x', true],
  ['no root', '<!--c-->', false],
  ['CDATA outside root', '<![CDATA[x]]><a/>', true],
  ['reference outside root', '&amp;<a/>', true],
  ['non-XML white space before root', '\u00a0<a/>', true],
  ['non-XML white space after root', '<a/>\u00a0', true],
  ['XML declaration not at start', ' <?xml version="1.0"?><a/>', true],
  ['XML declaration without version', '<?xml encoding="UTF-8"?><a/>', true],
  ['XML declaration, version 2.0', '<?xml version="2.0"?><a/>', true],
  ['XML declaration, bad standalone', '<?xml version="1.0" standalone="maybe"?><a/>', true],
  ['XML declaration, order', '<?xml encoding="UTF-8" version="1.0"?><a/>', true],
  ['PI named xml', '<a><?xml x?></a>', true],
  ['PI named XmL', '<a><?XmL x?></a>', true],
  ['PI without target', '<a><? x?></a>', true],
  ['colon in PI target', '<a><?p:q x?></a>', true],
  ['PI target glued to data', '<a><?pi"x"?></a>', true],
  ['PI not closed', '<a><?pi x</a>', true],
  ['element declaration', '<!ELEMENT a ANY><a/>', true],
  ['duplicate attribute', '<a x="1" x="2"/>', false],
  ['duplicate expanded name', '<a xmlns:p="urn:u" xmlns:q="urn:u" p:x="1" q:x="2"/>', true],
  ['duplicate namespace declaration', '<a xmlns:p="urn:u" xmlns:p="urn:u"/>', false],
  ['unquoted value', '<a x=1/>', false],
  ['attribute without value', '<a x/>', false],
  ['no white space between attributes', '<a x="1"y="2"/>', false],
  ['< in attribute value', '<a x="<"/>', true],
  ['& alone in attribute value', '<a x="a & b"/>', true],
  ['attribute value not closed', '<a x="1/>', false],
  ['unbound element prefix', '<p:a/>', true],
  ['unbound attribute prefix', '<a p:x="1"/>', true],
  ['empty prefix binding', '<a xmlns:p=""/>', true],
  ['xml prefix rebound', '<a xmlns:xml="urn:x"/>', true],
  ['xmlns prefix declared', '<a xmlns:xmlns="urn:x"/>', true],
  ['XML namespace under another prefix', '<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>', true],
  ['xmlns namespace bound', '<a xmlns:p="http://www.w3.org/2000/xmlns/"/>', true],
  ['XML namespace as default', '<a xmlns="http://www.w3.org/XML/1998/namespace"/>', true],
  ['xmlns namespace as default', '<a xmlns="http://www.w3.org/2000/xmlns/"/>', true],
  ['element prefix xmlns', '<xmlns:a/>', true],
  ['prefix used out of scope', '<a><b xmlns:p="urn:u"/><p:c/></a>', true],
  ['two colons', '<a:b:c xmlns:a="urn:u"/>', false],
  ['empty local part', '<a: xmlns:a="urn:u"/>', false],
  ['empty prefix', '<:a/>', false],
  ['name starts with digit', '<1a/>', false],
  [']]> in text', '<a>]]></a>', true],
  ['& alone in text', '<a>a & b</a>', true],
  ['undeclared entity', '<a>&nbsp;</a>', false],
  ['entity name beyond \\w', '<a>&a-b;</a>', true],
  ['reference without ;', '<a>&amp</a>', true],
  ['&#0;', '<a>&#0;</a>', true],
  ['&#xD800;', '<a>&#xD800;</a>', true],
  ['&#x110000;', '<a>&#x110000;</a>', true],
  ['&#xFFFE;', '<a>&#xFFFE;</a>', true],
  ['&#x;', '<a>&#x;</a>', true],
  ['&#X41;', '<a>&#X41;</a>', true],
  ['&#12a;', '<a>&#12a;</a>', true],
  ['&#;', '<a>&#;</a>', true],
  ['&#-1;', '<a>&#-1;</a>', true],
  ['&#x1;', '<a>&#x1;</a>', true],
  ['U+0001 in text', '<a>\u0001</a>', true],
  ['U+0001 in attribute', '<a x="\u0001"/>', true],
  ['U+0000 in comment', '<a><!--\u0000--></a>', true],
  ['U+001F in PI', '<a><?pi \u001f?></a>', true],
  ['U+0008 in CDATA', '<a><![CDATA[\u0008]]></a>', true],
  ['U+FFFF in text', '<a>\uffff</a>', true],
  ['U+FFFE in attribute', '<a x="\ufffe"/>', true],
  ['U+2028 in a start tag', '<a\u2028b="1"/>', true],
  ['U+0085 in a start tag', '<a b="1"\u0085/>', true],
  ['U+00A0 in a start tag', '<a\u00a0b="1"/>', false],
  ['U+0085 in an end tag', '<a></a\u0085>', true],
  ['-- in a comment', '<a><!-- a -- b --></a>', true],
  ['comment ending in -', '<a><!-- a ---></a>', true],
  ['comment not closed', '<a><!-- x</a>', false],
  ['CDATA not closed', '<a><![CDATA[x</a>', true],
  ['/ not followed by >', '<a/ >', true],
  ['white space after <', '< a/>', false],
  ['white space after </', '<a></ a>', false],
  ['end tag with content', '<a></a b>', false],
  ['end tag not closed', '<a></a', false],
  ['start tag not closed', '<a x="1"', false],
  ['byte order mark after the start', ' \ufeff<a/>', true],
];

describe('xml/well-formed.ts refuses what XML 1.0 and Namespaces refuse', () => {
  const libxml2 = xmllintWellFormed(RULES.map(([, xml]) => xml));

  it.each(RULES.map((r, i) => [...r, i] as const))('%s: %j', (_rule, xml, laxXmldom, i) => {
    expect(strictError(xml)?.code).toBe('BAD_REQUEST');
    expect(libxml2[i], 'libxml2 accepts it: not a rule of XML').toBe(false);
    // Documents xmldom accepted are refused now; the others were refused before too.
    expect(typeof xmldomStrict(xml, 'xmldom') !== 'string').toBe(laxXmldom);
  });

  it('covers the rules xmldom was lax on', () => {
    expect(RULES.filter(([, , lax]) => lax).length).toBeGreaterThan(60);
  });

  it('says what and where: line and column of the offending character', () => {
    expect(strictError('<a>\n  <b>]]></b>\n</a>')?.message).toBe(
      "document is not well-formed XML (']]>' in character data, line 2 column 6)",
    );
    expect(strictError('<r>\n<p:a/></r>')?.message).toBe(
      'document is not well-formed XML (the prefix p of <p:a> is not declared, line 2 column 1)',
    );
    expect(strictError('')?.message).toBe('document has no root element');
    expect(strictError('<!doctype a><a/>')?.message).toBe('document with a DOCTYPE is refused');
  });

  it('accepts what xmldom accepted and XML allows where a reader could be too strict', () => {
    for (const xml of [
      '\ufeff<?xml version="1.0"?><a/>',
      '<?xml version="1.0" encoding="ISO-8859-2" standalone="no"?><a/>',
      '<?xml version="1.9"?><a/>',
      '<a\ufeff/>',
      '<a xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="en"/>',
      '<a xmlns="urn:a"><b xmlns=""/></a>',
      '<a xmlns:p="urn:u" p:x="1" x="2"/>',
      '<a>]] ]&#93;> ]]&gt;</a>',
      '<a>&#x10FFFF;&#xE000;&#9;&#32;</a>',
      '<a b="&lt;&#60;>"/>',
      '<a><!----><?pi?><![CDATA[]]></a>',
      '<a></a \n>',
    ]) {
      expect(typeof ours(xml), xml).not.toBe('string');
      expect(typeof xmldomStrict(xml, 'xmldom'), xml).not.toBe('string');
    }
    expect(xmllintWellFormed(['<a>]] ]&#93;> ]]&gt;</a>', '<a></a \n>'])).toEqual([true, true]);
  });
});

describe('xml/well-formed.ts against hostile documents', () => {
  it('refuses 100 000-deep nesting at the depth limit, and reads it without recursion when allowed', () => {
    const deep = `${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}`;
    expect(strictError(deep)?.message).toBe(
      'document exceeds a structural limit: elements nested deeper than 256',
    );
    const doc = parseWellFormed(deep, { maxDepth: 200_000, maxElements: 200_000 }).document;
    let depth = 0;
    for (let n: Node | null = doc.documentElement; n; n = n.firstChild) depth++;
    expect(depth).toBe(100_000);
  });

  it('counts attributes while reading: per element, in all, and finds duplicates among thousands', () => {
    const many = (n: number, extra = '') =>
      `<r xmlns:p="urn:u" xmlns:q="urn:u"${Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('')}${extra}/>`;
    expect(strictError(many(300))?.message).toBe(
      'document exceeds a structural limit: more than 256 attributes on one element',
    );
    const limits = { maxAttributesPerElement: 10_000 };
    expect(parseWellFormed(many(5000), limits).document.documentElement!.attributes.length).toBe(5002);
    expect(refusal(many(5000, ' a4999="x"'), limits)?.reason).toBe('attribute a4999 appears twice');
    expect(refusal(many(5000, ' p:z="1" q:z="2"'), limits)?.reason).toBe(
      'attribute q:z has the namespace and local name of another',
    );
    expect(refusal(many(3, ' p:z="1" q:z="2"'))?.reason).toBe(
      'attribute q:z has the namespace and local name of another',
    );
    expect(
      strictError(`<r>${'<e a="1" b="2"/>'.repeat(6)}</r>`, { limits: { maxAttributes: 10 } })?.message,
    ).toBe('document exceeds a structural limit: more than 10 attributes');
    expect(strictError(`<r>${'<e/>'.repeat(11)}</r>`, { limits: { maxElements: 10 } })?.message).toBe(
      'document exceeds a structural limit: more than 10 elements',
    );
    expect(strictError(`<r>${'x'.repeat(101)}</r>`, { limits: { maxChars: 100 } })?.message).toBe(
      'document exceeds a structural limit: more than 100 characters',
    );
  });

  it('ends a namespace declaration’s scope with its element, putting back the binding it replaced', () => {
    const doc = parseWellFormed(
      '<a xmlns:p="urn:1" xmlns="urn:d"><b xmlns:p="urn:2" xmlns=""><p:c/><e/></b><p:c/><e/>' +
        '<b xmlns:p="urn:3" xmlns:q="urn:q"/><p:c p:x="1"/><b xmlns:q="urn:q"></b></a>',
    ).document;
    const seen = Array.from(doc.getElementsByTagName('*')).map((e) => `${e.tagName}=${e.namespaceURI}`);
    expect(seen).toEqual([
      'a=urn:d',
      'b=',
      'p:c=urn:2',
      'e=',
      'p:c=urn:1',
      'e=urn:d',
      'b=urn:d',
      'p:c=urn:1',
      'b=urn:d',
    ]);
    expect(doc.getElementsByTagName('p:c')[2]!.attributes[0]!.namespaceURI).toBe('urn:1');
    expect(refusal('<a><b xmlns:q="urn:q"></b><q:c/></a>')?.reason).toBe(
      'the prefix q of <q:c> is not declared',
    );
    expect(refusal('<a><b xmlns:q="urn:q"/><c q:x="1"/></a>')?.reason).toBe(
      'the prefix q of attribute q:x is not declared',
    );
  });

  it('reads long names and refuses an end tag that differs in the last character', () => {
    const name = `n${'é'.repeat(1_000_000)}`;
    expect(parseWellFormed(`<${name} ${name}="1"></${name}>`).document.documentElement!.localName).toBe(name);
    expect(refusal(`<${name}></${name.slice(0, -1)}x>`)?.reason).toMatch(/^end tag <\/n.* does not close/);
  });

  it('refuses reference-like text that is no reference, and floods of markup starts', () => {
    for (const xml of [
      '<a>&amp</a>',
      '<a>&;</a>',
      '<a>&#</a>',
      '<a>&#x</a>',
      '<a>&#x41</a>',
      `<a>&#${'9'.repeat(100_000)};</a>`,
      `<a>&${'a'.repeat(100_000)};</a>`,
      '<a>&lt</a>',
      '<a>& lt;</a>',
      '<a b="&quot"/>',
      `<a>${'&'.repeat(100_000)}</a>`,
      '<'.repeat(100_000),
      `<a>${'<!'.repeat(100_000)}</a>`,
      `<a>${'</'.repeat(100_000)}`,
      `<a ${'b'.repeat(100_000)}`,
      `<a>${'<?'.repeat(100_000)}`,
    ])
      expect(refusal(xml), xml.slice(0, 40)).toBeDefined();
  });

  it('refuses the billion laughs: the DOCTYPE, and its entities without one', () => {
    const lol = [
      '<!DOCTYPE lolz [<!ENTITY lol "lol">',
      ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`),
      ']><lolz>&lol9;</lolz>',
    ].join('');
    expect(strictError(lol)?.message).toBe('document with a DOCTYPE is refused');
    expect(refusal(lol)?.kind).toBe('doctype');
    expect(refusal('<lolz>&lol9;</lolz>')?.reason).toBe('undeclared entity &lol9;');
  });

  it('refuses unpaired UTF-16 surrogates everywhere and keeps pairs', () => {
    for (const bad of ['\ud800', '\udc00', '\udbff\ud800', '\udc00\ud800'])
      for (const xml of [
        `<a>${bad}</a>`,
        `<a>x${bad}`,
        `<a b="${bad}"/>`,
        `<a><!--${bad}--></a>`,
        `<a><?pi ${bad}?></a>`,
        `<a><![CDATA[${bad}]]></a>`,
        `<a${bad}/>`,
        `<a/>${bad}`,
      ])
        expect(refusal(xml), JSON.stringify(xml)).toBeDefined();
    expect(refusal('<a>\ud800')?.reason).toBe('unpaired surrogate');
    expect(refusal('<a b="\udc00"/>')?.reason).toBe('invalid character U+DC00');
    const pair = '<a b="😀">😀<!--😀--><![CDATA[😀]]><?pi 😀?></a>';
    expect(serializeXml(parseXmlStrict(pair, 'BAD_REQUEST', { allowProcessingInstructions: true }))).toBe(
      pair,
    );
  });
});
