import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import {
  issueEvidence,
  verifyEvidence,
  xadesSealer,
  type VerificationReport,
} from '../../src/evidence/index.js';
import { generateRsaKey, issueLeaf, issueRootCa } from '../../src/pki/cert-factory.js';
import { loadSigningIdentity, loadTrustStore, type TrustStore } from '../../src/pki/index.js';
import { x509 } from '../../src/pki/x509.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';

/*
 * What verification remembers across documents (certificates parsed per exact DER, per-certificate Name DERs,
 * IssuerSerial, validity dates, issuer signature checks, parsed CRLs) must never carry a verdict over: after a
 * good evidence, a tampered copy and one sealed by a look-alike certificate (same subject, issued by a CA that
 * has only the trusted CA's name) still fail, and the good one still passes.
 */
const samples = evidenceSamples();
const clock = { now: () => new Date() };
const errors = (r: VerificationReport) => r.findings.filter((f) => f.severity === 'error').map((f) => f.code);

describe('evidence verification after a good one', () => {
  let trust: TrustStore;
  let good: string;
  let forged: string;

  beforeAll(async () => {
    const pki = sharedTestPki();
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
    const identity = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
    const seal = (id: typeof identity) =>
      xadesSealer({ identity: id, tsa, clock, idGenerator: sequentialIdGenerator() });
    good = (await issueEvidence(samples.ContentHandover, seal(identity))).xml;

    // The look-alike: the real CA's name on another key, and the real seal certificate's subject under it.
    const realCa = new x509.X509Certificate(readFileSync(pki.caCert, 'utf8'));
    const realSeal = new x509.X509Certificate(readFileSync(pki.ap('c3').sealCert, 'utf8'));
    const [caKey, sealKey] = await Promise.all([generateRsaKey(), generateRsaKey()]);
    const from = new Date(Date.now() - 86_400_000);
    const to = new Date(Date.now() + 30 * 86_400_000);
    const fakeCa = await issueRootCa(caKey.keys, realCa.subjectName.toJSON(), from, to);
    const fakeSeal = await issueLeaf(
      { cert: fakeCa, signingKey: caKey.keys.privateKey },
      sealKey.keys.publicKey,
      {
        subject: realSeal.subjectName.toJSON(),
        notBefore: from,
        notAfter: to,
        keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
      },
    );
    const dir = mkdtempSync(join(tmpdir(), 'qerds-lookalike-'));
    writeFileSync(join(dir, 'seal.crt.pem'), fakeSeal.toString('pem'));
    writeFileSync(join(dir, 'seal.key.pem'), sealKey.pkcs8Pem);
    const lookAlike = loadSigningIdentity(join(dir, 'seal.crt.pem'), join(dir, 'seal.key.pem'));
    expect(lookAlike.certificate.subject).toBe(identity.certificate.subject);
    expect(lookAlike.certificate.issuer).toBe(identity.certificate.issuer);
    forged = (await issueEvidence(samples.ContentHandover, seal(lookAlike))).xml;
  });

  it('good, tampered, look-alike, good again', async () => {
    const first = await verifyEvidence(good, { trust });
    expect(errors(first)).toEqual([]);
    expect(first.indication).toBe('TOTAL-PASSED');

    const tampered = good.replace(
      /(<ev:MessageIdentifier>)(.)/,
      (_, open: string, c: string) => open + (c === 'x' ? 'y' : 'x'),
    );
    expect(tampered).not.toBe(good);
    const t = await verifyEvidence(tampered, { trust });
    expect(t.indication).toBe('TOTAL-FAILED');
    expect(errors(t)).toContain('SEAL_DIGEST_MISMATCH');

    const f = await verifyEvidence(forged, { trust });
    expect(f.indication).not.toBe('TOTAL-PASSED');
    expect(errors(f)).toContain('SEAL_CERT_PATH_INVALID');
    // No path to the trusted CA: its key identifier names the look-alike CA (or its signature does not verify).
    expect(errors(f).some((c) => c === 'PKI_PATH_NOT_FOUND' || c === 'PKI_SIGNATURE_INVALID')).toBe(true);

    const again = await verifyEvidence(good, { trust });
    expect(again.indication).toBe('TOTAL-PASSED');
    expect(again.seal?.signer?.fingerprint256).toBe(first.seal?.signer?.fingerprint256);
    expect(f.seal?.signer?.fingerprint256).not.toBe(first.seal?.signer?.fingerprint256);
  });
});
