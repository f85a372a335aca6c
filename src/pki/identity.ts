import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SigningIdentity } from './types.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** All certificates in a PEM text, in order. */
export function parsePemCertificates(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => new X509Certificate(block));
}

/**
 * Load a signing identity from PEM files. The certificate file may hold the chain after the leaf.
 * The key file may be PKCS#8 or traditional PEM; `passphrase` decrypts an encrypted key.
 */
export function loadSigningIdentity(certFile: string, keyFile: string, passphrase?: string): SigningIdentity {
  const certs = parsePemCertificates(readFileSync(certFile, 'utf8'));
  const [certificate, ...chain] = certs;
  if (!certificate) throw new Error(`no certificate in ${certFile}`);
  const privateKey = createPrivateKey({ key: readFileSync(keyFile), format: 'pem', passphrase });
  if (!certificate.checkPrivateKey(privateKey))
    throw new Error(`key ${keyFile} does not match certificate ${certFile}`);
  return { privateKey, certificate, chain };
}
