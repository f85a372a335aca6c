import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  domDifference,
  ours,
  prng,
  renderings,
  xmldomStrict,
  xmlFiles,
  xmllintWellFormed,
} from '../helpers/xml-oracle.js';
import { mutated, wellFormedDocument } from '../helpers/xml-generator.js';

/*
 * src/xml/well-formed.ts against two oracles: xmldom's own DOMParser run strictly (what parseXmlStrict used before),
 * whose DOM ours must equal node for node wherever ours accepts, and xmllint (libxml2), the independent judge of
 * well-formedness. What ours accepts, both accept; what either refuses, ours refuses. Where xmldom accepts what
 * libxml2 refuses (xmldom is lax), ours refuses: those cases are counted and shown by category, and
 * well-formed-refusals.test.ts names each rule.
 * One departure from xmldom is XML 1.0's own: line ends. xmldom's DOMParser turns U+0085, U+2028 and CR U+0085
 * into LF by default (XML 1.1's set); XML 1.0 and libxml2 keep U+0085 and U+2028 as characters, and so does ours.
 * xmldom is run here with XML 1.0's normalization (its `normalizeLineEndings` option, xml10LineEnds): there the
 * oracle follows xmllint, not xmldom (line-ends.test.ts compares those cases with xmllint's canonical form).
 */

type Verdict = { xml: string; ours: Document | string; xmldom: Document | string; libxml2: boolean };

/**
 * Characters XML 1.0 never allows (§2.2), checked here: a string with an unpaired surrogate has no UTF-8 form for
 * xmllint, and libxml2 stops reading at a U+0000 after the root element, taking what came before as the document.
 */
function hasNonXmlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 ? c !== 0x09 && c !== 0x0a && c !== 0x0d : c === 0xfffe || c === 0xffff) return true;
    if (c >= 0xdc00 && c <= 0xdfff) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const low = s.charCodeAt(i + 1);
      if (!(low >= 0xdc00 && low <= 0xdfff)) return true;
      i++;
    }
  }
  return false;
}

function judge(docs: readonly string[]): Verdict[] {
  const libxml2 = xmllintWellFormed(docs.map((d) => (hasNonXmlChar(d) ? '' : d)));
  return docs.map((xml, i) => ({
    xml,
    ours: ours(xml),
    xmldom: xmldomStrict(xml),
    libxml2: !hasNonXmlChar(xml) && libxml2[i]!,
  }));
}

/**
 * xmldom refuses some well-formed documents: its guess whether a start tag is closed (`fixSelfClosed`) looks for
 * the last `</name>` spelt without white space, once per name, so a second `<name>` whose end tag is `</name >`
 * (and no `</name>` after it) is taken as unclosed ("unclosed xml attribute"). libxml2 accepts them, and ours does:
 * their DOM is compared with xmldom's DOM of the same document with the white space of end tags removed.
 */
function xmldomDom(v: Verdict): Document | string {
  if (typeof v.xmldom !== 'string' || !v.libxml2 || !v.xmldom.includes('unclosed xml attribute'))
    return v.xmldom;
  return xmldomStrict(v.xml.replace(/<\/([^\s<>/]+)[ \t\r\n]+>/g, '</$1>'));
}

/** Where ours accepts: the same DOM as xmldom's, node for node, and the same serialization and canonical forms. */
function expectSameDom(v: Verdict, label: string): void {
  const b = xmldomDom(v);
  expect(typeof b, `${label}: xmldom refused what ours accepted (${String(b)})`).not.toBe('string');
  const a = v.ours as Document;
  expect(domDifference(a, b as Document), label).toBeUndefined();
  expect(renderings(a), label).toEqual(renderings(b as Document));
}

/** The three-way rule; returns the cases where xmldom accepted and ours refused (libxml2 refusing too). */
function expectAgreement(verdicts: readonly Verdict[]): Map<string, number> {
  const stricter = new Map<string, number>();
  for (const v of verdicts) {
    const label = JSON.stringify(v.xml);
    if (typeof v.ours !== 'string') {
      expect(v.libxml2, `${label}: libxml2 refused what ours accepted`).toBe(true);
      expectSameDom(v, label);
    } else if (typeof v.xmldom !== 'string') {
      // Ours refused what xmldom took: only documents that are not well-formed (libxml2 agrees).
      expect(v.libxml2, `${label}: ours refused (${v.ours}) a document xmldom and libxml2 accept`).toBe(
        false,
      );
      const why = v.ours.replace(/ (U\+|<|&|the prefix |attribute |end tag |element |\S+:\/\/|urn:).*$/, '');
      stricter.set(why, (stricter.get(why) ?? 0) + 1);
    }
  }
  return stricter;
}

// CPU-bound (thousands of documents through three parsers and four renderings): generous on a loaded machine.
describe('xml/well-formed.ts against xmldom and libxml2', { timeout: 300_000 }, () => {
  it('gives xmldom’s DOM (node for node, serialization, exc-c14n, inclusive C14N) on every XML fixture', () => {
    const files = xmlFiles(join(import.meta.dirname, '../fixtures'));
    expect(files.length).toBeGreaterThan(100);
    const docs = files.map((f) => readFileSync(f, 'utf8'));
    const verdicts = judge(docs);
    let compared = 0;
    verdicts.forEach((v, i) => {
      if (/<!DOCTYPE/i.test(v.xml)) {
        expect(v.ours, files[i]).toMatch(/^doctype/);
        return;
      }
      expect(typeof v.ours, `${files[i]}: ${String(v.ours)}`).not.toBe('string');
      expect(v.libxml2, files[i]).toBe(true);
      expectSameDom(v, files[i]!);
      compared++;
    });
    expect(compared).toBeGreaterThan(100);
  });

  it('accepts 2000 generated well-formed documents with xmldom’s DOM', () => {
    const next = prng(2026);
    const docs = Array.from({ length: 2000 }, () => wellFormedDocument(next));
    const verdicts = judge(docs);
    for (const v of verdicts) {
      const label = JSON.stringify(v.xml);
      expect(v.libxml2, `${label}: the generator made a document libxml2 refuses`).toBe(true);
      expect(typeof v.ours, `${label}: ${String(v.ours)}`).not.toBe('string');
      expectSameDom(v, label);
    }
  });

  it('on 4000 mutated documents, accepts only what xmldom and libxml2 accept, with xmldom’s DOM', () => {
    const next = prng(17);
    const docs = Array.from({ length: 4000 }, () => mutated(next, wellFormedDocument(next)));
    const verdicts = judge(docs);
    const stricter = expectAgreement(verdicts);
    // Enough of both kinds to mean something.
    expect(verdicts.filter((v) => typeof v.ours !== 'string').length).toBeGreaterThan(200);
    expect(verdicts.filter((v) => typeof v.ours === 'string').length).toBeGreaterThan(2000);
    // xmldom is lax in several ways these edits reach (each is a rule of well-formed-refusals.test.ts).
    expect(stricter.size).toBeGreaterThan(3);
  });

  it('on mixes of end tags (missing, misspelt, hidden in comments and CDATA), agrees with both', () => {
    const pieces = [
      '<a>',
      '</a>',
      '<ab>',
      '</ab>',
      '</a >',
      '<b x="1">',
      '</b>',
      '</b\n>',
      '<p:c xmlns:p="urn:p">',
      '</p:c>',
      '<a/>',
      '<b />',
      'text',
      '&lt;/a&gt;',
      '<!-- </b> -->',
      '<![CDATA[</a>]]>',
      '</',
      '>',
      '<',
      '/',
      ' ',
      '\n',
      '</ab',
      '<é>',
      '</é>',
      '</a/>',
    ];
    const next = prng(17);
    const docs = Array.from({ length: 3000 }, () => {
      const body = Array.from(
        { length: 1 + Math.floor(next() * 14) },
        () => pieces[Math.floor(next() * pieces.length)],
      ).join('');
      return next() < 0.5 ? `<r>${body}</r>` : body;
    });
    const verdicts = judge(docs);
    expectAgreement(verdicts);
    expect(verdicts.filter((v) => typeof v.ours !== 'string').length).toBeGreaterThan(50);
  });

  it('refuses every truncation of a receipt, an evidence and an AS4 message before the end of its root', () => {
    const fixtures = [
      'as4/captures/phase4-receipt-soap12.tmpl.xml',
      'evidence/old-form/ContentHandover.xml',
      'seal/foreign/dss/xades-extended-t.xml',
    ];
    for (const name of fixtures) {
      const xml = readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8');
      const rootEnd = xml.lastIndexOf('>') + 1;
      expect(typeof ours(xml), name).not.toBe('string');
      for (let at = 0; at < rootEnd; at++) {
        if (typeof ours(xml.slice(0, at)) !== 'string') expect.fail(`${name} cut at ${at} was accepted`);
      }
      expect(typeof ours(xml.slice(0, rootEnd)), name).not.toBe('string');
    }
  });
});
