import { describe, expect, it } from 'vitest';
import type { EvidenceData } from '../../src/core/index.js';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { buildEvidenceDocument } from '../../src/evidence/build-evidence.js';
import { issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import { loadSigningIdentity, loadTrustStore } from '../../src/pki/index.js';
import { sealXml } from '../../src/seal/index.js';
import { parseXmlStrict } from '../../src/xml/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';
import { oneOfEachEvent } from './one-of-each-event.js';

/** Strings that the serializer must escape, and CR/TAB/LF that a parser normalizes, in every free-text field. */
const NASTY = 'a<b>&c"d\'e]]>f\r\ng\rh\ti\nj &amp; &#0; <!-- x --> <?pi?> <![CDATA[y]]> é 𝄞';

function nastyVariant(): EvidenceData {
  const base = evidenceSamples().SubmissionAcceptance;
  const [first, second] = base.parts;
  const who = (p: EvidenceData['sender']): EvidenceData['sender'] => ({
    ...p,
    name: `${NASTY} ${p.name ?? ''}`,
    id: { scheme: p.id.scheme, value: `${p.id.value}${NASTY}` },
    identification: {
      method: `urn:x:${NASTY}`,
      assuranceLevel: 'http://eidas.europa.eu/LoA/low',
      authenticatedAt: new Date('2026-01-01T10:00:00.123Z'),
    },
  });
  return {
    ...base,
    id: `ev:${NASTY}`,
    messageId: `<${NASTY}@example>`,
    issuer: { ...base.issuer, name: `${NASTY}`, id: `${base.issuer.id}` },
    sender: who(base.sender),
    recipient: who(base.recipient),
    previousEvidenceId: `prev ${NASTY}`,
    issuerPolicyIds: [`urn:policy:${NASTY}`],
    parts: [
      {
        ...first!,
        partId: `p1 ${NASTY}`,
        contentType: `text/plain; x="${NASTY}"`,
        plaintextSha256: 'b'.repeat(64),
      },
      {
        ...second!,
        partId: `p2 ${NASTY}`,
        sealedOnBehalf: {
          format: 'XAdES',
          submittedSha256: 'c'.repeat(64),
          certificateSha256: 'd'.repeat(64),
        },
      },
    ],
  } as EvidenceData;
}

describe('evidence: sealing in the builder DOM', () => {
  const pki = sharedTestPki();
  const identity = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
  // One instant for both seals of a case (the signing time is in the bytes compared), within the test PKI's validity.
  const fixed = new Date();
  const clock = { now: () => fixed };
  const cases: { name: string; data: EvidenceData }[] = [
    ...Object.entries(evidenceSamples()).map(([name, data]) => ({ name, data: data as EvidenceData })),
    ...oneOfEachEvent().map(({ name, data }) => ({ name: `event ${name}`, data })),
    { name: 'markup, CR, TAB and entities in every free-text field', data: nastyVariant() },
  ];

  // issueEvidence seals in the DOM buildEvidenceDocument returns instead of in a parse of its text: the two
  // must give the same sealed bytes, or the seal would cover something a reader of the text does not get.
  it.each(cases)(
    '$name: the same sealed bytes as sealing in a strict parse of the text',
    async ({ data }) => {
      const { xml, doc } = buildEvidenceDocument(data);
      const options = { identity, clock };
      const fromParse = await sealXml(
        xml,
        { ...options, idGenerator: sequentialIdGenerator() },
        parseXmlStrict(xml, 'EVIDENCE_INVALID_DATA'),
      );
      const fromBuilt = await sealXml(xml, { ...options, idGenerator: sequentialIdGenerator() }, doc);
      expect(fromBuilt).toBe(fromParse);
    },
  );

  it('the hostile-text evidence verifies and reads back the text as given, CR normalized', async () => {
    const data = nastyVariant();
    const { xml } = await issueEvidence(
      data,
      xadesSealer({ identity, clock, idGenerator: sequentialIdGenerator() }),
    );
    const report = await verifyEvidence(xml, {
      trust: loadTrustStore([pki.caCert, pki.caCrl]),
      at: clock.now(),
    });
    expect(report.findings.filter((f) => f.severity === 'error' && !f.code.includes('REVOCATION'))).toEqual(
      [],
    );
    expect(report.evidence?.messageId).toBe(data.messageId.replace(/\r\n?/g, '\n'));
    expect(report.evidence?.parts[0]?.contentType).toBe(data.parts[0]!.contentType.replace(/\r\n?/g, '\n'));
    // A part id travels as Identifier text and as PlaintextDigest/@PartId and SealedOnBehalf/@PartId attributes:
    // all three read back as one id, CR normalized as in the text.
    const partId = data.parts[0]!.partId.replace(/\r\n?/g, '\n');
    expect(report.evidence?.parts[0]?.partId).toBe(partId);
    expect(report.evidence?.parts[0]?.plaintextSha256).toBe('b'.repeat(64));
    expect(xml).toContain(`PartId="${'p1 '}`);
    expect(xml).not.toMatch(/PartId="[^"]*&#13;/);
  });

  it('a character XML 1.0 cannot hold is still refused before sealing', async () => {
    const data = { ...evidenceSamples().SubmissionAcceptance, messageId: 'm\u0000' } as EvidenceData;
    await expect(
      issueEvidence(data, xadesSealer({ identity, clock, idGenerator: sequentialIdGenerator() })),
    ).rejects.toMatchObject({ code: 'EVIDENCE_INVALID_DATA' });
  });
});
