import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { devName, generateRsaKey, issueCrl, issueLeaf, issueRootCa } from '../../src/pki/cert-factory.js';
import { certificateNameDer } from '../../src/pki/crl.js';
import {
  certificateSerialNumberDer,
  createTrustStore,
  derTlv,
  issuerSerialDer,
} from '../../src/pki/index.js';
import { certificateFrom } from '../../src/pki/parse-cache.js';
import { x509 } from '../../src/pki/x509.js';

/*
 * What verification remembers per certificate object (its Name DERs, IssuerSerial, validity dates, issuer
 * signature checks) is keyed on the object, which parse-cache.ts hands out per exact DER: a certificate that
 * only looks the same (same subject, same issuer name) is another object and is read for itself, and the
 * checks that depend on the validation time or on the CRLs still run at every validation.
 */
const subject = devName('Memo Seal');
const caName = devName('Memo CA');
const day = 86_400_000;
const now = Date.now();
const notBefore = new Date(now - day);
const notAfter = new Date(now + 30 * day);
const profile = {
  subject,
  notBefore,
  notAfter,
  keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
};

let ca: X509Certificate;
let lookAlikeCa: X509Certificate;
let leafA: X509Certificate;
let leafB: X509Certificate;
let forged: X509Certificate;
let caSigner: { cert: x509.X509Certificate; signingKey: CryptoKey };

beforeAll(async () => {
  const [caKey, otherCaKey, keyA, keyB] = await Promise.all([1, 2, 3, 4].map(() => generateRsaKey()));
  const caCert = await issueRootCa(caKey!.keys, caName, notBefore, notAfter);
  const otherCert = await issueRootCa(otherCaKey!.keys, caName, notBefore, notAfter);
  caSigner = { cert: caCert, signingKey: caKey!.keys.privateKey };
  const other = { cert: otherCert, signingKey: otherCaKey!.keys.privateKey };
  const der = (c: x509.X509Certificate) => Buffer.from(c.rawData);
  ca = certificateFrom(der(caCert));
  lookAlikeCa = certificateFrom(der(otherCert));
  leafA = certificateFrom(der(await issueLeaf(caSigner, keyA!.keys.publicKey, profile)));
  leafB = certificateFrom(der(await issueLeaf(caSigner, keyB!.keys.publicKey, profile)));
  // Same subject and issuer name as leafA, signed by a CA that only has the trusted CA's name.
  forged = certificateFrom(der(await issueLeaf(other, keyA!.keys.publicKey, profile)));
});

describe('pki/ per-certificate memos', () => {
  it('give each certificate its own IssuerSerial, even with the same subject and issuer name', () => {
    expect(leafA.subject).toBe(leafB.subject);
    expect(certificateNameDer(leafA, 'subject').equals(certificateNameDer(leafB, 'subject'))).toBe(true);
    const a = issuerSerialDer(leafA);
    const b = issuerSerialDer(leafB);
    expect(a.equals(b)).toBe(false);
    // What a fresh object (not the memoised one) reads from the same bytes.
    const freshA = new X509Certificate(leafA.raw);
    expect(freshA).not.toBe(leafA);
    expect(issuerSerialDer(freshA).equals(a)).toBe(true);
    const expected = derTlv(
      0x30,
      derTlv(0x30, derTlv(0xa4, certificateNameDer(freshA, 'issuer'))),
      certificateSerialNumberDer(freshA),
    );
    expect(a.equals(expected)).toBe(true);
    expect(issuerSerialDer(leafB).equals(b)).toBe(true);
  });

  it('a look-alike (same names, another CA key) fails after the real one validated, and the real one still passes', () => {
    const store = createTrustStore([ca]);
    const at = new Date(now);
    expect(store.validate(leafA, { at }).valid).toBe(true);
    const bad = store.validate(forged, { at, intermediates: [lookAlikeCa] });
    expect(bad.valid).toBe(false);
    expect(bad.findings.map((f) => f.code)).toContain('PKI_SIGNATURE_INVALID');
    expect(store.validate(leafA, { at }).valid).toBe(true);
    expect(store.validate(leafB, { at }).valid).toBe(true);
  });

  it('the validity period and the CRLs are checked at every validation of a certificate seen before', async () => {
    const store = createTrustStore([ca]);
    expect(store.validate(leafA, { at: new Date(now) }).valid).toBe(true);
    const later = store.validate(leafA, { at: new Date(now + 60 * day) });
    expect(later.valid).toBe(false);
    expect(later.findings.map((f) => f.code)).toContain('PKI_CERT_EXPIRED');
    const earlier = store.validate(leafA, { at: new Date(now - 2 * day) });
    expect(earlier.findings.map((f) => f.code)).toContain('PKI_CERT_NOT_YET_VALID');
    const crl = await issueCrl(caSigner, {
      crlNumber: 1n,
      thisUpdate: new Date(now - 1000),
      nextUpdate: new Date(now + day),
      entries: [{ serialNumber: leafA.serialNumber, revocationDate: new Date(now - 2000) }],
    });
    const revoking = createTrustStore([ca], { crls: [Buffer.from(crl.rawData)] });
    const revoked = revoking.validate(leafA, { at: new Date(now) });
    expect(revoked.valid).toBe(false);
    expect(revoked.findings.map((f) => f.code)).toContain('PKI_CERT_REVOKED');
    // Its twin of the same subject is not revoked: the CRL is matched by serial, per certificate.
    expect(revoking.validate(leafB, { at: new Date(now) }).valid).toBe(true);
    expect(store.validate(leafA, { at: new Date(now) }).valid).toBe(true);
  });
});
