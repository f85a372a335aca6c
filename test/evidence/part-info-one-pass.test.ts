import { describe, expect, it } from 'vitest';
import { buildEvidenceXml, parseEvidenceXml } from '../../src/evidence/index.js';
import { QerdsError } from '../../src/core/errors.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';

/*
 * A PartInfo's children are read in one pass (parse-evidence.ts parsePartInfo): what it reads must stay what one
 * look-up per child read, the first of each name in its namespace, whatever the order, with elements of another
 * namespace or name passed over.
 */
describe('evidence/ PartInfo read in one pass', () => {
  const sample = evidenceSamples().SubmissionAcceptance;
  const xml = buildEvidenceXml(sample);
  const first = /<ev:PartInfo>([\s\S]*?)<\/ev:PartInfo>/.exec(xml)![1]!;
  const withFirst = (inner: string) => xml.replace(first, inner);
  const codeOf = (doc: string): string | undefined => {
    try {
      parseEvidenceXml(doc);
      return undefined;
    } catch (e) {
      return e instanceof QerdsError ? e.code : 'not a QerdsError';
    }
  };
  const part0 = (doc: string) => parseEvidenceXml(doc).parts[0];

  it('reads the first Identifier, ContentType, ds:DigestMethod and ds:DigestValue, in any order', () => {
    const original = part0(xml);
    expect(original?.partId).toBe(sample.parts[0]?.partId);
    const children = first.match(
      /<(Identifier|ContentType|ds:DigestMethod|ds:DigestValue)[\s\S]*?(?:\/>|<\/\1>)/g,
    )!;
    expect(children).toHaveLength(4);
    expect(part0(withFirst([...children].reverse().join('')))).toEqual(original);
    // A second of each comes after the first: the first is read.
    const other =
      '<Identifier>other</Identifier><ContentType>x/y</ContentType>' +
      '<ds:DigestValue>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</ds:DigestValue>';
    expect(part0(withFirst(first + other))).toEqual(original);
  });

  it('passes over children of another namespace and refuses a PartInfo that lacks one in its own', () => {
    const original = part0(xml);
    const foreign =
      '<x:Identifier xmlns:x="urn:x">other</x:Identifier><DigestValue>AAAA</DigestValue><ds:Identifier>z</ds:Identifier>';
    expect(part0(withFirst(foreign + first))).toEqual(original);
    // The Identifier in the evidence namespace is not the (unqualified, local) Identifier of the standard form.
    const qualified = first.replace(/<Identifier>([^<]*)<\/Identifier>/, '<ev:Identifier>$1</ev:Identifier>');
    expect(qualified).not.toBe(first);
    expect(codeOf(withFirst(qualified))).toBe('EVIDENCE_MALFORMED');
    const unqualifiedDigest = first.replace(
      /<ds:DigestValue>([^<]*)<\/ds:DigestValue>/,
      '<DigestValue>$1</DigestValue>',
    );
    expect(unqualifiedDigest).not.toBe(first);
    expect(codeOf(withFirst(unqualifiedDigest))).toBe('EVIDENCE_MALFORMED');
  });
});
