import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isQerdsError, sequentialIdGenerator, type EvidenceData } from '../../src/core/index.js';
import type { DirectoryEntry } from '../../src/directory/index.js';
import { issueEvidence, xadesSealer } from '../../src/evidence/index.js';
import { checkReturnedEvidence, type PipelineContext } from '../../src/pipeline/index.js';
import { devApId, loadSigningIdentity, loadTrustStore, type SigningIdentity } from '../../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { foreignTestPki, sharedTestPki } from '../helpers/pki.js';
import { c2ReturnedEvidenceContext } from '../helpers/returned-evidence-context.js';

/**
 * Evidence returned by a qerds-ap that C2 found by SMP: the SMP answer names the AP's Peppol AP certificate (its AS4
 * identity) and no e-seal, since a Peppol AP's QSealC is not its AP certificate. C2 then takes evidence carried by
 * the AP certificate of the SMP answer whose seal the QERDS trust (pki.trust, without the Peppol AP CAs) accepts as
 * the e-seal of the issuer it names — and nothing else (returned-evidence.ts `sealJudgedByTrust`).
 */
const pki = sharedTestPki();
const work = mkdtempSync(join(tmpdir(), 'qerds-smp-peer-evidence-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
/** The QERDS trust of C2: the CA of the e-seals only. */
const qerdsTrust = loadTrustStore([pki.caCert, pki.caCrl]);
const clock = { now: () => new Date() };
const tsa = createLocalTsaClient(
  createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
);
const PEER = devApId('c3');
const sample = evidenceSamples().ContentHandover;
const c2Seal = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
const c3Seal = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
/**
 * C3's AS4 certificate as the SMP answer names it (only its fingerprint counts here: the AS4 signature and the
 * Peppol AP check of the carrier ran before, in the /as4 endpoint).
 */
const c3ApCertificate = loadSigningIdentity(pki.ap('c3').tlsCert, pki.ap('c3').tlsKey).certificate;
const otherCarrier = loadSigningIdentity(pki.ap('c2').tlsCert, pki.ap('c2').tlsKey).certificate;

async function seal(identity: SigningIdentity, issuerId = PEER): Promise<string> {
  const data: EvidenceData = { ...sample, issuer: { name: 'qerds-ap C3', id: issuerId } };
  return (
    await issueEvidence(data, xadesSealer({ identity, tsa, clock, idGenerator: sequentialIdGenerator() }))
  ).xml;
}

function c2Context(entry: Partial<DirectoryEntry>): PipelineContext {
  return c2ReturnedEvidenceContext({ sample, trust: qerdsTrust, ownSeal: c2Seal.certificate, entry });
}

/** The entry of an SMP answer: one certificate, the AP's AS4 one; no e-seal, no AP id. */
const smpEntry: Partial<DirectoryEntry> = {
  apCertificatePem: c3ApCertificate.toString(),
  apEncryptionCertificatePem: c3ApCertificate.toString(),
  transportProfile: 'peppol-transport-as4-v2_0',
  source: 'http://smp.invalid/iso6523-actorid-upis%3A%3A0188%3A5011001099999',
};
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('evidence of a qerds-ap found by SMP: carrier by the SMP answer, seal by the QERDS trust', () => {
  it("its e-seal (naming it) carried by the SMP answer's AP certificate: accepted, bound by organizationIdentifier", async () => {
    const checked = await checkReturnedEvidence(
      c2Context(smpEntry),
      await seal(c3Seal),
      c3ApCertificate.fingerprint256,
    );
    expect(checked.check).toMatchObject({
      valid: true,
      issuerId: PEER,
      issuerBinding: 'organizationIdentifier',
    });
  });

  it('carried by another certificate than the one the SMP answer names: refused', async () => {
    const refused = await refusal(
      checkReturnedEvidence(c2Context(smpEntry), await seal(c3Seal), otherCarrier.fingerprint256),
    );
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_INVALID'), String(refused)).toBe(true);
    expect((refused as Error).message).toContain('sealed by another certificate than the AP that sent it');
  });

  it('sealed by an e-seal outside the QERDS trust (another PKI): refused, whatever carried it', async () => {
    const foreign = foreignTestPki();
    const outsider = loadSigningIdentity(foreign.ap('c3').sealCert, foreign.ap('c3').sealKey);
    const refused = await refusal(
      checkReturnedEvidence(c2Context(smpEntry), await seal(outsider), c3ApCertificate.fingerprint256),
    );
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_INVALID'), String(refused)).toBe(true);
  });

  it("sealed by a trusted e-seal that names another issuer (C2's own seal): refused", async () => {
    const refused = await refusal(
      checkReturnedEvidence(c2Context(smpEntry), await seal(c2Seal), c3ApCertificate.fingerprint256),
    );
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_INVALID'), String(refused)).toBe(true);
  });

  it('the same evidence and carrier under a static entry pinning only that AS4 certificate: refused (a static pin is never relaxed)', async () => {
    const { source: _smp, ...staticEntry } = smpEntry;
    const refused = await refusal(
      checkReturnedEvidence(c2Context(staticEntry), await seal(c3Seal), c3ApCertificate.fingerprint256),
    );
    expect(isQerdsError(refused, 'PIPELINE_EVIDENCE_INVALID'), String(refused)).toBe(true);
    // Pinning the e-seal beside the AS4 certificate is what a static entry does instead.
    const pinned = await checkReturnedEvidence(
      c2Context({ ...staticEntry, apSealCertificatePem: c3Seal.certificate.toString() }),
      await seal(c3Seal),
      c3ApCertificate.fingerprint256,
    );
    expect(pinned.check.valid).toBe(true);
  });
});
