import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../core/ids.js';
import { loadSigningIdentity, loadTrustStore, type SigningIdentity, type TrustStore } from '../pki/index.js';
import { evidenceSamples } from '../../test/fixtures/evidence/load-samples.js';
import { opensslTsa } from '../../test/helpers/openssl-tsa.js';
import { sharedTestPki, foreignTestPki, privateCopy } from '../../test/helpers/pki.js';
import { xmlsecVerify } from '../../test/helpers/xmlsec.js';
import { formatReport, issueEvidence, verifyEvidence, xadesSealer } from './index.js';

const samples = evidenceSamples();
const clock = { now: () => new Date() };

describe('sealed evidence: issue and verify', () => {
  let pki: ReturnType<typeof sharedTestPki>;
  let identity: SigningIdentity;
  let trust: TrustStore;
  let sealedXml: string;

  beforeAll(async () => {
    pki = sharedTestPki();
    identity = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const sealer = xadesSealer({
      identity,
      tsa: opensslTsa(pki),
      clock,
      idGenerator: sequentialIdGenerator(),
    });
    const issued = await issueEvidence(samples.SubmissionAcceptance, sealer);
    expect(issued.id).toBe(samples.SubmissionAcceptance.id);
    sealedXml = issued.xml;
  });

  it('xmlsec1 accepts the sealed evidence', () => {
    const r = xmlsecVerify(sealedXml, pki.caCert);
    expect(r.output).toContain('SignedInfo References (ok/all): 2/2');
    expect(r.ok).toBe(true);
  });

  it('verifies TOTAL-PASSED at B-T and reads the evidence back from what the seal covers', async () => {
    const report = await verifyEvidence(sealedXml, { trust });
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.indication).toBe('TOTAL-PASSED');
    expect(report.subIndication).toBeUndefined();
    expect(report.seal?.level).toBe('B-T');
    expect(report.evidence).toStrictEqual(samples.SubmissionAcceptance);
    const text = formatReport(report);
    expect(text.split('\n')[0]).toBe('VALID');
    expect(text).toContain('event:      SubmissionAcceptance');
    expect(text).toContain('event time: 2025-03-01T09:30:00.123Z');
    expect(text).toContain('issuer:     Example ERDS C2 K.K. (urn:qerds-ap:ap:c2)');
    expect(text).toContain(
      'signer:     C=JP, O=Shared Dev, organizationIdentifier=urn:qerds-ap:ap:c2, CN=Shared AP c2 e-seal',
    );
    expect(text).toMatch(/timestamp: {2}\d{4}-\d{2}-\d{2}T/);
  });

  it('one byte changed in EventTime: TOTAL-FAILED, HASH_FAILURE, with a clear message', async () => {
    const tampered = sealedXml.replace(
      '<EventTime>2025-03-01T09:30:00.123Z',
      '<EventTime>2025-03-01T09:31:00.123Z',
    );
    expect(tampered).not.toBe(sealedXml);
    expect(tampered.length).toBe(sealedXml.length);
    expect(xmlsecVerify(tampered, pki.caCert).ok).toBe(false);
    const report = await verifyEvidence(tampered, { trust });
    expect(report.indication).toBe('TOTAL-FAILED');
    expect(report.subIndication).toBe('HASH_FAILURE');
    expect(report.evidence).toBeUndefined();
    const first = formatReport(report).split('\n')[0];
    expect(first).toMatch(/^INVALID \(TOTAL-FAILED\): HASH_FAILURE — .*content changed after sealing/);
  });

  it('sealed by a certificate outside the trust store: INDETERMINATE, NO_CERTIFICATE_CHAIN_FOUND', async () => {
    const foreign = foreignTestPki();
    const foreignId = loadSigningIdentity(foreign.ap('c3').sealCert, foreign.ap('c3').sealKey);
    const sealer = xadesSealer({ identity: foreignId, clock, idGenerator: sequentialIdGenerator() });
    const { xml } = await issueEvidence(samples.RelayAcceptance, sealer);
    const report = await verifyEvidence(xml, { trust });
    expect(report.indication).not.toBe('TOTAL-PASSED');
    expect(report.indication).toBe('INDETERMINATE');
    expect(report.subIndication).toBe('NO_CERTIFICATE_CHAIN_FOUND');
    expect(formatReport(report).split('\n')[0]).toMatch(
      /^INVALID \(INDETERMINATE\): NO_CERTIFICATE_CHAIN_FOUND — /,
    );
  });

  it('sealed with a certificate revoked before the validation time: TOTAL-FAILED, REVOKED', async () => {
    const other = privateCopy(foreignTestPki());
    const seal = other.ap('c3');
    const { xml } = await issueEvidence(
      samples.SubmissionRejection,
      xadesSealer({
        identity: loadSigningIdentity(seal.sealCert, seal.sealKey),
        clock,
        idGenerator: sequentialIdGenerator(),
      }),
    );
    // openssl revokes the seal certificate and issues a new CRL (its own CA database, not our code).
    const ca = ['-config', 'ca.cnf', '-keyfile', other.caKey, '-cert', other.caCert];
    execFileSync('openssl', ['ca', ...ca, '-revoke', seal.sealCert], { cwd: other.dir, stdio: 'pipe' });
    execFileSync('openssl', ['ca', ...ca, '-gencrl', '-out', other.caCrl], { cwd: other.dir, stdio: 'pipe' });
    const report = await verifyEvidence(xml, {
      trust: loadTrustStore([other.caCert, other.caCrl]),
      at: new Date(Date.now() + 60_000),
    });
    expect(report).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'REVOKED' });
  });

  it('checks the user content against the part digests', async () => {
    // C3's handover, sealed with C3's seal (the issuer it names).
    const c3 = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
    const { xml } = await issueEvidence(
      samples.ContentHandover,
      xadesSealer({ identity: c3, clock, idGenerator: sequentialIdGenerator() }),
    );
    // samples.json part-1 is SHA-256("password").
    const ok = await verifyEvidence(xml, { trust, content: Buffer.from('password') });
    expect(ok.indication).toBe('TOTAL-PASSED');
    expect(ok.findings.map((f) => f.code)).toContain('EVIDENCE_NO_TIMESTAMP'); // B-B: a warning only
    const bad = await verifyEvidence(xml, { trust, content: Buffer.from('passw0rd') });
    expect(bad).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
    const strict = await verifyEvidence(xml, { trust, requireTimestamp: true });
    expect(strict).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'NO_POE' });
  });

  it('a second evidence wrapped into the sealed one is refused (FORMAT_FAILURE)', async () => {
    const sig = /<ds:Signature [\s\S]*<\/ds:Signature>/.exec(sealedXml)?.[0] ?? '';
    const wrapped = sealedXml.replace(
      '</ev:Evidence>',
      `<ev:Extensions>${sig.replace(/Id="sig-/g, 'Id="x-')}</ev:Extensions></ev:Evidence>`,
    );
    expect(wrapped).not.toBe(sealedXml);
    const report = await verifyEvidence(wrapped, { trust });
    expect(report).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'FORMAT_FAILURE' });
  });
});
