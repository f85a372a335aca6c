import { describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { issueEvidence, parseEvidenceXml, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import { loadSigningIdentity, loadTrustStore } from '../../src/pki/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * verifyEvidence reads the evidence from the parsed input's nodes that the verified whole-document reference
 * digested, not from a parse of the canonical form. What exclusive C14N (without comments) leaves out or
 * rewrites — comments, CDATA sections — keeps the seal valid, so the DOM read must say what the canonical form says.
 */
describe('evidence: read from the signed DOM', () => {
  const pki = sharedTestPki();
  const identity = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
  const trust = loadTrustStore([pki.caCert, pki.caCrl]);
  const sealed = async (): Promise<string> =>
    (
      await issueEvidence(
        evidenceSamples().SubmissionAcceptance,
        xadesSealer({ identity, clock: { now: () => new Date() }, idGenerator: sequentialIdGenerator() }),
      )
    ).xml;

  it('a comment and a CDATA section inside signed text: the seal holds and the evidence reads as the canonical form', async () => {
    const xml = await sealed();
    const id = evidenceSamples().SubmissionAcceptance.messageId;
    const tampered = xml.replace(
      `<ev:MessageIdentifier>${id}</ev:MessageIdentifier>`,
      `<ev:MessageIdentifier>${id.slice(0, 3)}<!-- x --><![CDATA[${id.slice(3)}]]></ev:MessageIdentifier>`,
    );
    expect(tampered).not.toBe(xml);
    const report = await verifyEvidence(tampered, { trust });
    const signedDocument = report.seal?.signedDocument;
    if (signedDocument === undefined) throw new Error('the seal covers no document');
    expect(report.seal?.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.evidence).toEqual(parseEvidenceXml(signedDocument));
    expect(report.evidence?.messageId).toBe(id);
  });

  it('a CDATA section with text between evidence elements is refused as the canonical form would be', async () => {
    const xml = await sealed();
    const tampered = xml.replace('</ev:EvidenceIdentifier>', '</ev:EvidenceIdentifier><![CDATA[junk]]>');
    const report = await verifyEvidence(tampered, { trust });
    // The added text changes the canonical form: the digest fails and nothing is read.
    expect(report.indication).toBe('TOTAL-FAILED');
    expect(report.evidence).toBeUndefined();
  });
});
