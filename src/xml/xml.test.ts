import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { QerdsError } from '../core/errors.js';
import { canonicalize, canonicalizeInclusive, parseXmlStrict } from './index.js';

/** xmllint (libxml2) as the independent canonicalizer. */
function xmllint(flag: '--c14n' | '--exc-c14n', xml: string): string {
  return execFileSync('xmllint', [flag, '-'], { input: xml, encoding: 'utf8' });
}

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof QerdsError ? e.code : 'not a QerdsError';
  }
  return undefined;
};

describe('xml/ strict parsing', () => {
  it('parses well-formed XML and throws the caller’s error code otherwise', () => {
    expect(
      parseXmlStrict('<?xml version="1.0"?><a xmlns="urn:a"><b/></a>', 'BAD_REQUEST').documentElement
        ?.localName,
    ).toBe('a');
    expect(code(() => parseXmlStrict('<a><b></a>', 'BAD_REQUEST'))).toBe('BAD_REQUEST');
    expect(code(() => parseXmlStrict('', 'SEAL_MALFORMED'))).toBe('SEAL_MALFORMED');
    // xmldom only warns on an unquoted attribute value: the parse is strict, so it is refused too.
    expect(code(() => parseXmlStrict('<a b=c/>', 'BAD_REQUEST'))).toBe('BAD_REQUEST');
  });

  it('refuses a DOCTYPE (entity expansion) and processing instructions unless the caller takes them', () => {
    const bomb = '<!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]><a>&y;</a>';
    expect(code(() => parseXmlStrict(bomb, 'BAD_REQUEST'))).toBe('BAD_REQUEST');
    const pi = '<a><?evil data?><b/></a>';
    expect(code(() => parseXmlStrict(pi, 'BAD_REQUEST'))).toBe('BAD_REQUEST');
    expect(
      parseXmlStrict(pi, 'BAD_REQUEST', { allowProcessingInstructions: true }).documentElement?.localName,
    ).toBe('a');
    // Right after the XML declaration, at the very start, or named like it.
    for (const xml of [
      '<?xml version="1.0"?><?evil?><a/>',
      '<?xml-stylesheet href="x"?><a/>',
      '<?xml version="1.0"?>\n<a/><?after?>',
      '<?XML x?><a/>',
    ])
      expect(
        code(() => parseXmlStrict(xml, 'BAD_REQUEST')),
        xml,
      ).toBe('BAD_REQUEST');
    expect(
      parseXmlStrict('<?xml version="1.0"?>\n<a>?&gt;</a>', 'BAD_REQUEST').documentElement?.localName,
    ).toBe('a');
  });
});

describe('xml/ canonicalization agrees with xmllint', () => {
  // Mixed-case prefixes and attributes in several namespaces: the orderings xml-crypto gets wrong on its own.
  const xml =
    '<S12:E xmlns:S12="urn:s" xmlns:eb="urn:eb" xmlns:Z="urn:z" xmlns:a="urn:a"><eb:M S12:mu="true" Z:q="1" eb:b="1" a:b="0" c="2"/></S12:E>';

  it('exclusive C14N of a document element', () => {
    const doc = parseXmlStrict(xml, 'BAD_REQUEST');
    expect(canonicalize(doc.documentElement!)).toBe(xmllint('--exc-c14n', xml));
  });

  it('inclusive C14N of a document element', () => {
    const doc = parseXmlStrict(xml, 'BAD_REQUEST');
    expect(canonicalizeInclusive(doc.documentElement!)).toBe(xmllint('--c14n', xml));
  });

  it('canonicalizing with a PrefixList leaves the document unchanged', () => {
    const doc = parseXmlStrict('<r xmlns:p="urn:p"><x:e xmlns:x="urn:x"/></r>', 'BAD_REQUEST');
    const e = doc.documentElement!.firstChild as Element;
    expect(canonicalize(e, ['p'])).toBe('<x:e xmlns:p="urn:p" xmlns:x="urn:x"></x:e>');
    expect(e.attributes.length).toBe(1);
  });
});
