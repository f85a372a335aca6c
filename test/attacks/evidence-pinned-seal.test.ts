import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatParticipantId,
  isQerdsError,
  sequentialIdGenerator,
  type EvidenceData,
} from '../../src/core/index.js';
import type { DirectoryEntry } from '../../src/directory/index.js';
import { formatReport, issueEvidence, verifyEvidence, xadesSealer } from '../../src/evidence/index.js';
import { checkReturnedEvidence, type PipelineContext } from '../../src/pipeline/index.js';
import { generateRsaKey, importRsaSigningKey, issueLeaf } from '../../src/pki/cert-factory.js';
import {
  devApId,
  loadSigningIdentity,
  loadTrustStore,
  x509,
  type SigningIdentity,
} from '../../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';
import { c2ReturnedEvidenceContext } from '../helpers/returned-evidence-context.js';

/**
 * Issue 13 follow-up: returned evidence from a peer whose e-seal certificate has no organizationIdentifier. The
 * verifier alone cannot bind the issuer such an evidence names to its seal (INDETERMINATE, EVIDENCE_ISSUER_UNBOUND);
 * C2 accepts it only when its directory pins, for the AP serving the message's recipient, exactly that certificate
 * and the AP's id (`apCertificate` + `apId`): the binding is then reported as `directory-pin`.
 */
const pki = sharedTestPki();
const work = mkdtempSync(join(tmpdir(), 'qerds-attack-pinned-seal-'));
const trust = loadTrustStore([pki.caCert, pki.caCrl]);
const clock = { now: () => new Date() };
const tsa = createLocalTsaClient(
  createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
);
const PEER = devApId('c3');
const sample = evidenceSamples().ContentHandover;
const c2Seal = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);

let unbound: SigningIdentity;
let otherUnbound: SigningIdentity;

/** An e-seal (digitalSignature + nonRepudiation) of the shared CA with no organizationIdentifier in its subject. */
async function sealWithoutOrganizationIdentifier(name: string): Promise<SigningIdentity> {
  const ca = {
    cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
  };
  const key = await generateRsaKey(2048);
  const cert = await issueLeaf(ca, key.keys.publicKey, {
    subject: [{ C: ['JP'] }, { O: ['Closed Network ERDS'] }, { CN: [name] }],
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
  });
  writeFileSync(join(work, `${name}.crt.pem`), cert.toString('pem') + '\n');
  writeFileSync(join(work, `${name}.key.pem`), key.pkcs8Pem, { mode: 0o600 });
  return loadSigningIdentity(join(work, `${name}.crt.pem`), join(work, `${name}.key.pem`));
}

async function seal(identity: SigningIdentity, issuerId = PEER): Promise<{ id: string; xml: string }> {
  const data: EvidenceData = { ...sample, issuer: { name: 'Closed Network ERDS C3', id: issuerId } };
  return issueEvidence(data, xadesSealer({ identity, tsa, clock, idGenerator: sequentialIdGenerator() }));
}

/** The part of C2's pipeline context that checkReturnedEvidence reads: our message about `sample`, and a directory. */
function c2Context(entry: Partial<DirectoryEntry>): PipelineContext {
  return c2ReturnedEvidenceContext({ sample, trust: trust, ownSeal: c2Seal.certificate, entry });
}

const pinOf = (identity: SigningIdentity) => ({
  apCertificatePem: identity.certificate.toString(),
  apId: PEER,
});

beforeAll(async () => {
  unbound = await sealWithoutOrganizationIdentifier('c3-seal-no-orgid');
  otherUnbound = await sealWithoutOrganizationIdentifier('c9-seal-no-orgid');
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the verifier: issuer pins bind a seal certificate without organizationIdentifier', () => {
  it('no pin: INDETERMINATE CHAIN_CONSTRAINTS_FAILURE (EVIDENCE_ISSUER_UNBOUND), no binding reported', async () => {
    const { xml } = await seal(unbound);
    const report = await verifyEvidence(xml, { trust });
    expect([report.indication, report.subIndication]).toEqual(['INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE']);
    expect(report.findings.map((f) => f.code)).toContain('EVIDENCE_ISSUER_UNBOUND');
    expect(report.issuerBinding).toBeUndefined();
  });

  it('pinned for the issuer it names: TOTAL-PASSED, bound by directory-pin (and said so in the text report)', async () => {
    const { xml } = await seal(unbound);
    const report = await verifyEvidence(xml, {
      trust,
      issuerPins: [{ issuerId: PEER, fingerprint256: unbound.certificate.fingerprint256 }],
    });
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect([report.indication, report.issuerBinding]).toEqual(['TOTAL-PASSED', 'directory-pin']);
    expect(formatReport(report)).toContain('bound to the seal by a directory pin');
  });

  it('pinned as the seal of another issuer: TOTAL-FAILED EVIDENCE_ISSUER_MISMATCH', async () => {
    const { xml } = await seal(unbound, devApId('c4'));
    const report = await verifyEvidence(xml, {
      trust,
      issuerPins: [{ issuerId: PEER, fingerprint256: unbound.certificate.fingerprint256 }],
    });
    expect([report.indication, report.subIndication]).toEqual(['TOTAL-FAILED', 'SIG_CONSTRAINTS_FAILURE']);
    expect(report.findings.map((f) => f.code)).toContain('EVIDENCE_ISSUER_MISMATCH');
  });

  it('a pin of another certificate binds nothing; a pin never overrides an organizationIdentifier', async () => {
    const { xml } = await seal(unbound);
    const other = await verifyEvidence(xml, {
      trust,
      issuerPins: [{ issuerId: PEER, fingerprint256: otherUnbound.certificate.fingerprint256 }],
    });
    expect(other.findings.map((f) => f.code)).toContain('EVIDENCE_ISSUER_UNBOUND');
    // C2's seal names urn:qerds-ap:ap:c2: pinning it for c3 does not make it speak for c3.
    const { xml: c2Xml } = await seal(c2Seal);
    const overridden = await verifyEvidence(c2Xml, {
      trust,
      issuerPins: [{ issuerId: PEER, fingerprint256: c2Seal.certificate.fingerprint256 }],
    });
    expect(overridden.findings.map((f) => f.code)).toContain('EVIDENCE_ISSUER_MISMATCH');
    expect(overridden.indication).toBe('TOTAL-FAILED');
    // The ordinary case reports its binding too.
    const { xml: own } = await seal(c2Seal, devApId('c2'));
    expect((await verifyEvidence(own, { trust })).issuerBinding).toBe('organizationIdentifier');
  });
});

describe("C2's intake of returned evidence sealed without organizationIdentifier", () => {
  it('the directory pins that certificate and the AP id: accepted, bound by directory-pin', async () => {
    const { id, xml } = await seal(unbound);
    const checked = await checkReturnedEvidence(
      c2Context(pinOf(unbound)),
      xml,
      unbound.certificate.fingerprint256,
    );
    expect(checked.check).toMatchObject({ valid: true, id, issuerId: PEER, issuerBinding: 'directory-pin' });
    expect(checked.message.id).toBe('m1');
  });

  it('the directory pins nothing: refused (PIPELINE_EVIDENCE_INVALID, the verifier could not bind the issuer)', async () => {
    const { xml } = await seal(unbound);
    const refused = await checkReturnedEvidence(c2Context({}), xml).catch((e: unknown) => e);
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_INVALID'), String(refused)).toBe(true);
    expect((refused as Error).message).toMatch(
      /no organizationIdentifier.*\(apSealCertificate or apCertificate, \+ apId\)/s,
    );
  });

  it('the directory pins the certificate but names no AP id: refused alike (the pin names no issuer to bind)', async () => {
    const { xml } = await seal(unbound);
    const refused = await checkReturnedEvidence(
      c2Context({ apCertificatePem: unbound.certificate.toString() }),
      xml,
    ).catch((e: unknown) => e);
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_INVALID'), String(refused)).toBe(true);
  });

  it('the directory pins another certificate: refused', async () => {
    const { xml } = await seal(unbound);
    const refused = await checkReturnedEvidence(c2Context(pinOf(otherUnbound)), xml).catch((e: unknown) => e);
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_INVALID'), String(refused)).toBe(true);
  });

  it('the pinned certificate sealed it, but the evidence names another issuer: refused (TOTAL-FAILED)', async () => {
    const { xml } = await seal(unbound, devApId('c4'));
    const refused = await checkReturnedEvidence(c2Context(pinOf(unbound)), xml).catch((e: unknown) => e);
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_INVALID'), String(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/^returned evidence rejected: TOTAL-FAILED/);
    expect((refused as Error).message).toContain('pinned as the seal of "urn:qerds-ap:ap:c3"');
  });

  it('a seal with organizationIdentifier whose directory entry names another AP id: refused (PIPELINE_EVIDENCE_SEAL_MISMATCH)', async () => {
    const c3 = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
    const { xml } = await seal(c3, devApId('c3'));
    const pinned = { apCertificatePem: c3.certificate.toString() };
    const ok = await checkReturnedEvidence(c2Context({ ...pinned, apId: devApId('c3') }), xml);
    expect(ok.check.issuerBinding).toBe('organizationIdentifier');
    const refused = await checkReturnedEvidence(c2Context({ ...pinned, apId: devApId('c9') }), xml).catch(
      (e: unknown) => e,
    );
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_SEAL_MISMATCH'), String(refused)).toBe(true);
    expect(formatParticipantId(sample.recipient.id)).toContain(sample.recipient.id.value);
  });
});
