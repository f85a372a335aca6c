import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { QerdsError } from '../../src/core/errors.js';
import { mentionsDoctype } from '../../src/xml/parse.js';
import { parseXmlStrict } from '../../src/xml/index.js';

/** parseXmlStrict's DOCTYPE scan (mentionsDoctype) finds what `/<!DOCTYPE/i` found, and nothing else. */
describe('xml/ the DOCTYPE scan before parsing', () => {
  const regex = (s: string) => /<!DOCTYPE/i.test(s);

  it('agrees with /<!DOCTYPE/i on crafted and random strings', () => {
    const crafted = [
      '',
      '<!',
      '<!DOCTYP',
      '<!DOCTYPE',
      '<!doctype x>',
      '<a><!-- <!DocType --></a>',
      '<a b="&lt;!DOCTYPE"/>',
      '<a><![CDATA[<!DOCTYPE]]></a>',
      '<<!<!DOCTYPE',
      '<!DOCTYPÉ',
      '<!\u0131DOCTYPE',
      '<!DOCTYP\u0045',
      '<!DOCTYPd',
      '<!D\u0000CTYPE',
    ];
    for (const s of crafted) expect(mentionsDoctype(s), s).toBe(regex(s));
    // Random strings over an alphabet that makes near misses likely (the letters in both cases, '<', '!', others).
    const alphabet = '<!<!DOCTYPEdoctypeXx \u0130\u0131\u017f\u212a';
    for (let n = 0; n < 20_000; n++) {
      let s = '';
      for (let i = randomInt(0, 24); i > 0; i--) s += alphabet[randomInt(0, alphabet.length)];
      if (randomInt(0, 4) === 0) s = s.replace('<!', '<!DocTyPe');
      expect(mentionsDoctype(s), JSON.stringify(s)).toBe(regex(s));
    }
  });

  it('refuses a document with one anywhere, in any case', () => {
    const code = (xml: string) => {
      try {
        parseXmlStrict(xml, 'SEAL_MALFORMED');
        return undefined;
      } catch (e) {
        return e instanceof QerdsError ? e.message : 'other';
      }
    };
    expect(code('<a><!-- x --></a>')).toBeUndefined();
    expect(code('<a><!-- <!dOcTyPe --></a>')).toMatch(/DOCTYPE is refused/);
    expect(code('<!DOCTYPE a><a/>')).toMatch(/DOCTYPE is refused/);
  });
});
