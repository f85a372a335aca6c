import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalElement, canonicalText, type CanonicalAttribute } from './canonical-text.js';
import { canonicalize } from './c14n.js';
import { parseXmlStrict } from './parse.js';

/*
 * canonicalElement writes an element in its Exclusive C14N form when the caller declares what exc-c14n outputs
 * there. Generated elements with declarations and attributes in any order (non-ASCII prefixes and local names,
 * upper before lower case), hostile values: the text
 * equals our exc-c14n of it parsed, and libxml2's (xmllint --exc-c14n).
 */
const valueChar = fc.constantFrom(
  '&',
  '<',
  '>',
  '"',
  "'",
  '\r',
  '\n',
  '\t',
  ' ',
  'a',
  'é',
  '\ue000',
  '😀',
  ']]>',
);
const value = fc.array(valueChar, { maxLength: 12 }).map((a) => a.join(''));
const prefixes = ['a', 'b', 'Z', 'p\uf900', 'p\u00e9', 'xx'];
const uri = fc.constantFrom('urn:a', 'urn:b', 'urn:a:b', 'urn:a%20', 'urn:B');

/** An element using some prefixes for its attributes (each declared on it), unqualified attributes too. */
const element = fc
  .record({
    used: fc.subarray(prefixes, { minLength: 1 }),
    uris: fc.array(uri, { minLength: prefixes.length, maxLength: prefixes.length }),
    plain: fc.uniqueArray(fc.constantFrom('id', 'Id', 'b', 'a', 'z\uf900', 'z\u00e9'), { maxLength: 4 }),
    values: fc.array(value, { minLength: 12, maxLength: 12 }),
    text: value,
  })
  .map(({ used, uris, plain, values, text }) => {
    const declarations = used.map((p) => [p, uris[prefixes.indexOf(p)]!] as const);
    const attributes: CanonicalAttribute[] = [
      ...used
        .slice(1)
        .map((p, i) => [uris[prefixes.indexOf(p)]!, `l${i}`, `${p}:l${i}`, values[i]!] as const),
      ...plain.map((name, i) => ['', name, name, values[6 + i]!] as const),
    ];
    // Shuffled input order: canonicalElement sorts.
    return canonicalElement(
      `${used[0]}:e`,
      [...declarations].reverse(),
      [...attributes].reverse(),
      canonicalText(text) + canonicalElement(`${used[0]}:c`, [], [], canonicalText(text)),
    );
  });

describe('canonicalElement', () => {
  it('writes the exc-c14n form of what it writes (our canonicalizer)', () => {
    fc.assert(
      fc.property(element, (xml) => {
        const doc = parseXmlStrict(xml, 'BAD_REQUEST');
        expect(canonicalize(doc.documentElement!)).toBe(xml);
      }),
      { numRuns: 300 },
    );
  });

  it('writes the exc-c14n form of what it writes (xmllint)', () => {
    for (const xml of fc.sample(element, { numRuns: 15, seed: 3 })) {
      const r = spawnSync('xmllint', ['--exc-c14n', '-'], { input: xml, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(xml);
    }
  });

  it('refuses what XML 1.0 cannot carry, in text and in attributes', () => {
    expect(() => canonicalText('a\u0000')).toThrow(/U\+0000/);
    expect(() => canonicalElement('e', [], [['', 'a', 'a', '\ud83d']], '')).toThrow(/not allowed/);
    expect(canonicalText('\ud83d\ude00')).toBe('😀');
  });
});
