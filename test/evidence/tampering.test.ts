import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import type { TsaClient } from '../../src/core/ports.js';
import {
  issueEvidence,
  verifyEvidence,
  xadesSealer,
  type VerificationReport,
} from '../../src/evidence/index.js';
import {
  loadSigningIdentity,
  loadTrustStore,
  revokeCertificate,
  type SigningIdentity,
  type TrustStore,
} from '../../src/pki/index.js';
import { augmentXmlSeal } from '../../src/seal/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki, foreignTestPki, privateCopy } from '../helpers/pki.js';
import { xmlsecVerify } from '../helpers/xmlsec.js';

const samples = evidenceSamples();
const clock = { now: () => new Date() };

/** Flip one byte of the base64 value of the `index`-th match of `element`, `fromEnd` bytes before its end. */
function flipBase64(xml: string, element: string, fromEnd: number, index = 0): string {
  const re = new RegExp(`(<${element}[^>]*>)([A-Za-z0-9+/=\\s]+)(</${element}>)`, 'g');
  let n = 0;
  const out = xml.replace(re, (all, open: string, b64: string, close: string) => {
    if (n++ !== index) return all;
    const der = Buffer.from(b64, 'base64');
    const at = der.length - fromEnd;
    der[at] = (der[at] as number) ^ 0x01;
    return `${open}${der.toString('base64')}${close}`;
  });
  if (out === xml) throw new Error(`no ${element} #${index} to flip`);
  return out;
}

/** Change one character of the text of the first `element`. */
function flipText(xml: string, element: string): string {
  const out = xml.replace(
    new RegExp(`(<${element}[^>]*>)(.)`),
    (_, open: string, c: string) => `${open}${c === '2' ? '3' : '2'}`,
  );
  if (out === xml) throw new Error(`no ${element}`);
  return out;
}

const errors = (r: VerificationReport) => r.findings.filter((f) => f.severity === 'error').map((f) => f.code);

// The systematic sweep (every event type, every text node and attribute) is tampering-sweep.test.ts.
describe('tampering suite: one changed byte in a B-LTA evidence', () => {
  let pki: ReturnType<typeof sharedTestPki>;
  let trust: TrustStore;
  let lta: string;
  const content = Buffer.from('password'); // samples.json ContentHandover part-1 is SHA-256("password")

  beforeAll(async () => {
    pki = sharedTestPki();
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const identity = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
    const bt = (
      await issueEvidence(
        samples.ContentHandover,
        xadesSealer({ identity, tsa, clock, idGenerator: sequentialIdGenerator() }),
      )
    ).xml;
    lta = await augmentXmlSeal(bt, {
      level: 'B-LTA',
      tsa,
      crls: [readFileSync(pki.caCrl)],
      certificates: [...trust.anchors],
    });
  });

  it('untouched: TOTAL-PASSED at B-LTA, with the content', async () => {
    const r = await verifyEvidence(lta, { trust, content });
    expect(errors(r)).toEqual([]);
    expect(r).toMatchObject({ indication: 'TOTAL-PASSED', seal: { level: 'B-LTA' } });
  });

  it('(a) the content: one byte of the user content, or of the evidence text → TOTAL-FAILED HASH_FAILURE', async () => {
    const other = Buffer.from(content);
    other[3] = (other[3] as number) ^ 0x01;
    const r1 = await verifyEvidence(lta, { trust, content: other });
    expect(r1).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
    expect(errors(r1)).toContain('EVIDENCE_CONTENT_MISMATCH');
    const tampered = flipText(lta, 'ev:MessageIdentifier');
    expect(tampered.length).toBe(lta.length);
    expect(xmlsecVerify(tampered, pki.caCert).ok).toBe(false);
    const r2 = await verifyEvidence(tampered, { trust });
    expect(r2).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
    expect(errors(r2)).toContain('SEAL_DIGEST_MISMATCH');
    expect(r2.evidence).toBeUndefined();
  });

  it('(b) a signed property (SigningTime, the DataObjectFormat MimeType) → TOTAL-FAILED HASH_FAILURE', async () => {
    for (const tampered of [
      flipText(lta, 'xades:SigningTime'),
      lta.replace('<xades:MimeType>text/xml<', '<xades:MimeType>text/xmm<'),
    ]) {
      expect(tampered).not.toBe(lta);
      expect(xmlsecVerify(tampered, pki.caCert).ok).toBe(false);
      const r = await verifyEvidence(tampered, { trust });
      expect(r).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
      expect(errors(r)).toContain('SEAL_DIGEST_MISMATCH');
    }
  });

  it('(c) the SignatureTimeStamp token (its signature, its TSTInfo) → TOTAL-FAILED SIG_CRYPTO_FAILURE; xmlsec1 does not see it', async () => {
    for (const fromEnd of [10, 400]) {
      const tampered = flipBase64(lta, 'xades:EncapsulatedTimeStamp', fromEnd, 0);
      // Unsigned properties are outside SignedInfo: a plain XMLDSig verifier cannot notice.
      expect(xmlsecVerify(tampered, pki.caCert).ok).toBe(true);
      const r = await verifyEvidence(tampered, { trust });
      expect(r, `byte ${fromEnd} from the end`).toMatchObject({
        indication: 'TOTAL-FAILED',
        subIndication: 'SIG_CRYPTO_FAILURE',
      });
      expect(errors(r)).toContain('SEAL_TIMESTAMP_SIG_FAILURE');
      // The archive timestamp covers the SignatureTimeStamp, so it no longer matches either.
      expect(errors(r)).toContain('SEAL_TIMESTAMP_HASH_FAILURE');
    }
  });

  it('(d) the KeyInfo certificate → TOTAL-FAILED HASH_FAILURE at B-LTA (the archive timestamp covers KeyInfo); INDETERMINATE at B-T', async () => {
    const tampered = flipBase64(lta, 'ds:X509Certificate', 20);
    expect(xmlsecVerify(tampered, pki.caCert).ok).toBe(false);
    const r = await verifyEvidence(tampered, { trust });
    expect(r).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
    expect(errors(r)).toEqual(
      expect.arrayContaining(['SEAL_SIGNING_CERT_MISMATCH', 'SEAL_TIMESTAMP_HASH_FAILURE']),
    );
    // Without the archive timestamp, EN 319 102-1 says INDETERMINATE: the certificate named by
    // SigningCertificateV2 is simply not there.
    const bt = tampered.replace(/<xadesv141:ArchiveTimeStamp[\s\S]*?<\/xadesv141:ArchiveTimeStamp>/, '');
    const r2 = await verifyEvidence(bt, { trust });
    expect(r2).toMatchObject({ indication: 'INDETERMINATE', subIndication: 'NO_SIGNING_CERTIFICATE_FOUND' });
  });

  it('(e) the ArchiveTimeStamp token → TOTAL-FAILED SIG_CRYPTO_FAILURE; an embedded CRL byte → HASH_FAILURE', async () => {
    const tampered = flipBase64(lta, 'xades:EncapsulatedTimeStamp', 10, 1);
    expect(xmlsecVerify(tampered, pki.caCert).ok).toBe(true);
    const r = await verifyEvidence(tampered, { trust });
    expect(r).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'SIG_CRYPTO_FAILURE' });
    const crl = await verifyEvidence(flipBase64(lta, 'xades:EncapsulatedCRLValue', 5), { trust });
    expect(crl).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
  });
});

describe('revocation of the seal certificate (revokeCertificate of src/pki)', () => {
  let pki: ReturnType<typeof foreignTestPki>;
  let tsa: TsaClient;
  const trustNow = () => loadTrustStore([pki.caCert, pki.caCrl]);

  beforeAll(() => {
    pki = privateCopy(foreignTestPki());
    tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
  });
  // Each test revokes the seal certificate of its own AP (c2, c3), so they do not depend on each other.
  const seal = async (ap: 'c2' | 'c3', withTsa: boolean) => {
    const identity: SigningIdentity = loadSigningIdentity(pki.ap(ap).sealCert, pki.ap(ap).sealKey);
    // Issued in the name of the AP whose seal seals it (the seal's organizationIdentifier, src/pki/dev-ap-id.ts).
    const data = {
      ...samples.SubmissionAcceptance,
      issuer: { ...samples.SubmissionAcceptance.issuer, id: `urn:qerds-ap:ap:${ap}` },
    };
    return (
      await issueEvidence(
        data,
        xadesSealer({ identity, clock, idGenerator: sequentialIdGenerator(), ...(withTsa ? { tsa } : {}) }),
      )
    ).xml;
  };

  it('signed before the revocation, with a timestamp from before: TOTAL-PASSED; without a timestamp: REVOKED', async () => {
    const bt = await seal('c2', true);
    const bb = await seal('c2', false);
    const lt = await augmentXmlSeal(bt, { level: 'B-LT', crls: [readFileSync(pki.caCrl)] });
    const revokedAt = new Date(Date.now() + 2_000);
    await revokeCertificate(pki, readFileSync(pki.ap('c2').sealCert, 'utf8'), 'keyCompromise', revokedAt);
    const at = new Date(revokedAt.getTime() + 60_000);
    const r = await verifyEvidence(bt, { trust: trustNow(), at });
    expect(errors(r)).toEqual([]);
    expect(r.indication).toBe('TOTAL-PASSED');
    expect(r.findings.map((f) => f.code)).toContain('PKI_CERT_REVOKED_LATER');
    expect(await verifyEvidence(lt, { trust: trustNow(), at })).toMatchObject({ indication: 'TOTAL-PASSED' });
    // A B-B seal proves no time: it is judged at `at`, after the revocation.
    expect(await verifyEvidence(bb, { trust: trustNow(), at })).toMatchObject({
      indication: 'TOTAL-FAILED',
      subIndication: 'REVOKED',
    });
  });

  it('signed after the revocation: TOTAL-FAILED REVOKED, from the trust store’s CRL or from the embedded one alone', async () => {
    await revokeCertificate(
      pki,
      readFileSync(pki.ap('c3').sealCert, 'utf8'),
      'keyCompromise',
      new Date(Date.now() - 1_000),
    );
    const bt = await seal('c3', true);
    expect(await verifyEvidence(bt, { trust: trustNow() })).toMatchObject({
      indication: 'TOTAL-FAILED',
      subIndication: 'REVOKED',
    });
    const lt = await augmentXmlSeal(bt, { level: 'B-LT', crls: [readFileSync(pki.caCrl)] });
    const anchorsOnly = loadTrustStore([pki.caCert]);
    // Without the CRL nothing tells that the seal certificate was revoked: not PASSED but INDETERMINATE TRY_LATER
    // (EN 319 102-1 §5.2.6), and the B-LT form, which carries the CRL, settles it offline.
    expect(await verifyEvidence(bt, { trust: anchorsOnly })).toMatchObject({
      indication: 'INDETERMINATE',
      subIndication: 'TRY_LATER',
    });
    const r = await verifyEvidence(lt, { trust: anchorsOnly });
    expect(r).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'REVOKED' });
    expect(r.findings.find((f) => f.code === 'PKI_CERT_REVOKED')?.message).toContain('embedded CRL');
  });
});
