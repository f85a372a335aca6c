import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTrustStore, loadTrustStore } from '../../src/pki/index.js';
import { verifyXadesDocument } from '../../src/seal/index.js';
import { canonicalize, canonicalizeDocument } from '../../src/xml/c14n.js';
import { parseWellFormed, XmlRefusal } from '../../src/xml/well-formed.js';
import { sharedTestPki } from '../helpers/pki.js';
import { xmllintWellFormed } from '../helpers/xml-oracle.js';
import { xmlsecSign, xmlsecVerify } from '../helpers/xmlsec.js';

/*
 * End-of-line handling as XML 1.0 (fifth edition) says (§2.11): CR LF and a CR alone become LF, nothing else;
 * U+0085 (NEL) and U+2028 (LINE SEPARATOR) are ordinary characters (line ends of XML 1.1 only). In an attribute
 * value (§3.3.3) TAB, CR and LF, after that normalization, become spaces, character references to them stay.
 * libxml2 (xmllint, xmlsec1) reads XML 1.0 so; xmldom's own reader applies XML 1.1's set, which ours did too.
 */

const NEL = '\u0085';
const LS = '\u2028';

const read = (xml: string): Document => parseWellFormed(xml).document;
const rootText = (xml: string): string => read(xml).documentElement!.textContent!;
const attr = (xml: string): string => read(xml).documentElement!.getAttribute('a')!;

/** xmllint's Exclusive C14N (without comments) of a document, as a string. */
function xmllintExcC14n(xml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'qerds-line-ends-')), 'doc.xml');
  writeFileSync(file, xml, 'utf8');
  const r = spawnSync('xmllint', ['--exc-c14n', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xmllint --exc-c14n: ${r.stderr}`);
  return r.stdout;
}

describe('XML 1.0 end-of-line handling (well-formed.ts)', () => {
  it('keeps NEL and U+2028 in text, turns CR LF and a lone CR into LF (CR NEL is LF then NEL)', () => {
    expect(rootText(`<a>x${NEL}y</a>`)).toBe(`x${NEL}y`);
    expect(rootText(`<a>x${LS}y</a>`)).toBe(`x${LS}y`);
    expect(rootText('<a>x\r\ny</a>')).toBe('x\ny');
    expect(rootText('<a>x\ry</a>')).toBe('x\ny');
    expect(rootText('<a>x\r\r\ny\r</a>')).toBe('x\n\ny\n');
    expect(rootText(`<a>x\r${NEL}y</a>`)).toBe(`x\n${NEL}y`);
    expect(rootText(`<a>&#xD;\r&amp;\r\n${NEL}&#x85;</a>`)).toBe(`\r\n&\n${NEL}${NEL}`);
  });

  it('in an attribute value: TAB, CR LF, CR, LF become one space each, NEL and U+2028 are kept', () => {
    expect(attr(`<r a="x${NEL}y"/>`)).toBe(`x${NEL}y`);
    expect(attr(`<r a="x${LS}y"/>`)).toBe(`x${LS}y`);
    expect(attr('<r a="x\r\ny"/>')).toBe('x y');
    expect(attr('<r a="x\ry"/>')).toBe('x y');
    expect(attr('<r a="x\ny\tz"/>')).toBe('x y z');
    expect(attr(`<r a="x\r${NEL}y"/>`)).toBe(`x ${NEL}y`);
    expect(attr('<r a="\r\n\r\n"/>')).toBe('  ');
    // Character references are not normalized (§3.3.3: "append the referenced character").
    expect(attr('<r a="&#xD;&#xA;&#x9;&#x85;\r&lt;"/>')).toBe(`\r\n\t${NEL} <`);
  });

  it('in comments, CDATA sections and processing instructions too', () => {
    const doc = read(`<a><!--c${NEL}\r\n${LS}\r--><![CDATA[d${NEL}\r${LS}]]><?pi e${NEL}\r\n${LS}?></a>`);
    const [comment, cdata, pi] = Array.from(doc.documentElement!.childNodes) as CharacterData[];
    expect(comment!.data).toBe(`c${NEL}\n${LS}\n`);
    expect(cdata!.data).toBe(`d${NEL}\n${LS}`);
    expect(pi!.data).toBe(`e${NEL}\n${LS}`);
  });

  it('refuses NEL and U+2028 where XML 1.0 wants white space (markup), as libxml2 does', () => {
    const docs = [`<a${LS}b="1"/>`, `<a b="1"${NEL}/>`, `<a></a${NEL}>`, `${NEL}<a/>`, `<a/>${LS}`];
    for (const xml of docs) expect(() => read(xml), JSON.stringify(xml)).toThrow(XmlRefusal);
    expect(xmllintWellFormed(docs)).toEqual(docs.map(() => false));
  });

  it('refuses a version="1.1" document (libxml2 reads it as 1.0 with a warning), reads other 1.x as 1.0', () => {
    for (const xml of [`<?xml version="1.1"?><a>x${NEL}</a>`, "<?xml version='1.1' encoding='UTF-8'?><a/>"]) {
      expect(() => read(xml)).toThrow('an XML 1.1 document (version="1.1") is refused');
    }
    expect(xmllintWellFormed([`<?xml version="1.1"?><a>x${NEL}</a>`])).toEqual([true]);
    expect(rootText(`<?xml version="1.9"?><a>x${NEL}</a>`)).toBe(`x${NEL}`);
    expect(rootText(`<?xml version="1.10"?><a>x${NEL}</a>`)).toBe(`x${NEL}`);
  });

  // xmllint --exc-c14n keeps comments, our canonicalizer drops them: no comments in these documents.
  it('gives the octets of xmllint --exc-c14n for documents with every kind of line end', () => {
    const ends = [NEL, LS, '\r\n', '\r', `\r${NEL}`, `\r${LS}`, '\n', '\t', '&#xD;', '&#x85;', '\r\r\n'];
    const docs = [
      `<a xmlns="urn:a" b="1${ends.join('2')}3">${ends.join('x')}<c>${NEL}</c>${LS}</a>`,
      `<?xml version="1.0" encoding="UTF-8"?>\r\n<p:a xmlns:p="urn:p" p:b="${NEL}\r\n${LS}"><![CDATA[${NEL}\r${LS}\r\n]]>\r</p:a>\r\n`,
      ...ends.map((e) => `<a b="${e}">${e}</a>`),
    ];
    for (const xml of docs) {
      const doc = read(xml);
      const expected = xmllintExcC14n(xml);
      expect(canonicalizeDocument(doc), JSON.stringify(xml)).toBe(expected);
      expect(canonicalize(doc.documentElement!), JSON.stringify(xml)).toBe(expected);
    }
  });

  it('verifies a document that xmlsec1 signed with NEL and U+2028 raw in text and attribute values', async () => {
    const pki = sharedTestPki();
    const c2 = pki.ap('c2');
    const template = [
      '<?xml version="1.0" encoding="UTF-8"?>\n',
      `<doc xmlns="urn:line-ends" note="a${NEL}b${LS}c\r\nd\re">`,
      `<t>one${NEL}two${LS}three\r${NEL}four\r\nfive\rsix</t>`,
      `<!-- a comment${NEL} -->`,
      '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>',
      '<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>',
      '<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>',
      '<Reference URI=""><Transforms>',
      '<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>',
      '<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>',
      '<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference>',
      '</SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></doc>\n',
    ].join('');
    const signed = xmlsecSign(template, c2.sealKey, c2.sealCert);
    // libxml2 writes them back raw (the document is UTF-8) and verifies its own signature.
    expect(signed).toContain(`one${NEL}two${LS}three\n${NEL}four`);
    expect(signed).toContain(`note="a${NEL}b${LS}c`);
    expect(xmlsecVerify(signed, pki.caCert).ok).toBe(true);

    const trust = loadTrustStore([pki.caCert]);
    const report = await verifyXadesDocument(signed, { trust });
    const signature = report.signatures[0]!;
    expect(signature.signatureValueVerified).toBe(true);
    expect(signature.references.map((r) => r.status)).toEqual(['matched']);
    expect(signature.findings.filter((f) => /DIGEST|SIGNATURE_VALUE|FORMAT/.test(f.code))).toEqual([]);

    // What the XML 1.1 reading (xmldom's, ours before) sees: other octets under the same signature.
    const asXml11 = signed.replace(/\r?[\u0085\u2028]/g, '\n');
    const wrong = await verifyXadesDocument(asXml11, { trust: createTrustStore([]) });
    expect(wrong.signatures[0]!.references.map((r) => r.status)).toEqual(['mismatch']);
    expect(wrong.indication).toBe('TOTAL-FAILED');
  });
});
