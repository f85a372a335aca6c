import { describe, expect, it } from 'vitest';
import { buildEvidenceXml, parseEvidenceXml } from '../../src/evidence/index.js';
import { QerdsError } from '../../src/core/errors.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';

/** The evidence reader refuses text where EN 319 522-3 has element-only content; white space (as trim() sees it) is not text. */
describe('evidence/ text between elements', () => {
  const sample = evidenceSamples().SubmissionAcceptance;
  const xml = buildEvidenceXml(sample);
  const codeOf = (doc: string): string | undefined => {
    try {
      parseEvidenceXml(doc);
      return undefined;
    } catch (e) {
      return e instanceof QerdsError ? e.code : 'not a QerdsError';
    }
  };

  it('refuses a text or CDATA child in a PartInfo (read child by child) and in the root', () => {
    expect(xml).toContain('<ev:PartInfo>');
    expect(xml).toContain('</EventTime>');
    expect(codeOf(xml)).toBeUndefined();
    expect(codeOf(xml.replace('<ev:PartInfo>', '<ev:PartInfo>x'))).toBe('EVIDENCE_MALFORMED');
    expect(codeOf(xml.replace('<ev:PartInfo>', '<ev:PartInfo><![CDATA[x]]>'))).toBe('EVIDENCE_MALFORMED');
    // After the children that are read: every child is looked at, not only up to the one sought.
    expect(codeOf(xml.replace('</ev:PartInfo>', 'x</ev:PartInfo>'))).toBe('EVIDENCE_MALFORMED');
    expect(codeOf(xml.replace('</EventTime>', '</EventTime>x'))).toBe('EVIDENCE_MALFORMED');
  });

  it('accepts white space there, including the characters trim() removes beyond XML white space', () => {
    const spaced = xml.replace('<ev:PartInfo>', '<ev:PartInfo>\n \u00a0\u2003');
    expect(parseEvidenceXml(spaced).parts).toEqual(parseEvidenceXml(xml).parts);
  });
});
