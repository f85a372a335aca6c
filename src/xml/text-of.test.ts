import { describe, expect, it } from 'vitest';
import { childElements, parseXmlStrict, textOf } from './index.js';

describe('xml/ textOf', () => {
  it('gives textContent trimmed, for a single Text or CDATA child (its fast path) and for every other shape', () => {
    const doc = parseXmlStrict(
      '<r><a> one </a><b/><c><![CDATA[ <two> ]]></c><d>x<!--c-->y</d><e> <f>in</f> out </e><g>a&amp;b</g>' +
        '<h>t<![CDATA[c]]></h><i><!--only--></i></r>',
      'BAD_REQUEST',
      { allowProcessingInstructions: true },
    );
    const els = childElements(doc.documentElement);
    expect(els.map((e) => textOf(e))).toEqual(['one', '', '<two>', 'xy', 'in out', 'a&b', 'tc', '']);
    for (const e of els) expect(textOf(e)).toBe((e.textContent ?? '').trim());
  });
});
