import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateRsaKey, importRsaSigningKey, issueLeaf } from '../../src/pki/cert-factory.js';
import { loadSigningIdentity, x509, type DevPkiLayout, type SigningIdentity } from '../../src/pki/index.js';

/**
 * Every kind of certificate the dev PKI (`qerds pki init`, src/pki/dev-pki.ts) issues, each with its key, for the
 * "who may sign what" attack tests. `c9` is a third AP of the same CA that no directory names.
 */
export function devCertificateKinds(pki: DevPkiLayout): Record<string, SigningIdentity> {
  const id = (cert: string, key: string) => loadSigningIdentity(cert, key);
  return {
    'recipient encryption-only (alice)': id(pki.recipient('alice').cert, pki.recipient('alice').key),
    'C3 AS4 encryption': id(pki.ap('c3').encCert, pki.ap('c3').encKey),
    'C3 TLS': id(pki.ap('c3').tlsCert, pki.ap('c3').tlsKey),
    'C2 TLS': id(pki.ap('c2').tlsCert, pki.ap('c2').tlsKey),
    TSA: id(pki.tsaCert, pki.tsaKey),
    'trusted list signer': id(pki.tlSignerCert, pki.tlSignerKey),
    'C2 seal': id(pki.ap('c2').sealCert, pki.ap('c2').sealKey),
    'C3 seal': id(pki.ap('c3').sealCert, pki.ap('c3').sealKey),
    'unlisted AP c9 seal': id(pki.ap('c9').sealCert, pki.ap('c9').sealKey),
  };
}

/**
 * An e-seal of the dev CA (digitalSignature + nonRepudiation) whose subject carries organizationIdentifier
 * (2.5.4.97) `organization`: a QSealC-shaped certificate, which the evidence issuer check compares.
 */
export async function sealWithOrganizationIdentifier(
  pki: DevPkiLayout,
  dir: string,
  organization: string,
): Promise<SigningIdentity> {
  const ca = {
    cert: new x509.X509Certificate(readFileSync(pki.caCert, 'utf8')),
    signingKey: await importRsaSigningKey(readFileSync(pki.caKey, 'utf8')),
  };
  const key = await generateRsaKey(2048);
  const now = Date.now();
  const cert = await issueLeaf(ca, key.keys.publicKey, {
    subject: [
      { C: ['JP'] },
      { O: ['qerds-ap DEV ONLY'] },
      { '2.5.4.97': [organization] },
      { CN: [`seal of ${organization}`] },
    ],
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 30 * 86_400_000),
  });
  const tag = randomBytes(4).toString('hex');
  const certFile = join(dir, `org-seal-${tag}.crt.pem`);
  const keyFile = join(dir, `org-seal-${tag}.key.pem`);
  writeFileSync(certFile, cert.toString('pem') + '\n');
  writeFileSync(keyFile, key.pkcs8Pem, { mode: 0o600 });
  return loadSigningIdentity(certFile, keyFile);
}
