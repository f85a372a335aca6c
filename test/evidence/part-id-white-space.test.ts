import { describe, expect, it } from 'vitest';
import type { EvidenceData } from '../../src/core/index.js';
import { buildEvidenceXml, parseEvidenceXml } from '../../src/evidence/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';

/**
 * A part id with white space at either end (a submitter's file name, say): the PartInfo Identifier text is read
 * trimmed, and the extensions that name the part by their PartId attribute are read the same way, so our own
 * evidence still reads (it was EVIDENCE_MALFORMED: "names part …, which has no PartInfo").
 */
describe('evidence whose part id has white space at either end', () => {
  const sample = evidenceSamples().SubmissionAcceptance as EvidenceData;
  const part = sample.parts[0]!;

  it('reads back with its plaintext digest and its sealed-on-behalf entry bound to the part', () => {
    const data: EvidenceData = {
      ...sample,
      parts: [
        {
          ...part,
          partId: '  invoice 1.xml \t',
          plaintextSha256: 'a'.repeat(64),
          sealedOnBehalf: {
            format: 'XAdES',
            submittedSha256: 'b'.repeat(64),
            certificateSha256: 'c'.repeat(64),
          },
        },
      ],
    };
    const read = parseEvidenceXml(buildEvidenceXml(data));
    expect(read.parts[0]).toMatchObject({
      partId: 'invoice 1.xml',
      plaintextSha256: 'a'.repeat(64),
      sealedOnBehalf: { format: 'XAdES', submittedSha256: 'b'.repeat(64), certificateSha256: 'c'.repeat(64) },
    });
  });

  it('still refuses an extension naming a part that has no PartInfo', () => {
    const xml = buildEvidenceXml({
      ...sample,
      parts: [{ ...part, plaintextSha256: 'a'.repeat(64) }],
    }).replace(`PartId="${part.partId}"`, 'PartId="another part"');
    expect(() => parseEvidenceXml(xml)).toThrow(/which has no PartInfo/);
  });
});
