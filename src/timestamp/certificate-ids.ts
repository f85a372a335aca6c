import { createHash, type X509Certificate } from 'node:crypto';
import { certificateNameDer, certificateSerialNumberDer } from '../pki/index.js';

/**
 * What a token names its signer certificate by (the SignerIdentifier's issuer and serial number, the ESS
 * certificate hash), read from a certificate once. Every token of a TSA names the same certificate, and
 * certificates are immutable and shared by content (pki/parse-cache.ts), so each is computed once per
 * X509Certificate object; a WeakMap lets them go with the certificate.
 */
interface CertificateIds {
  readonly issuer: Buffer;
  readonly serial: Buffer;
  readonly hashes: Map<string, Buffer>;
}

const ids = new WeakMap<X509Certificate, CertificateIds>();

function idsOf(cert: X509Certificate): CertificateIds {
  let entry = ids.get(cert);
  if (!entry) {
    entry = {
      issuer: certificateNameDer(cert, 'issuer'),
      serial: certificateSerialNumberDer(cert),
      hashes: new Map(),
    };
    ids.set(cert, entry);
  }
  return entry;
}

/** The issuer Name DER and serialNumber INTEGER element, as in the certificate. Callers must not change them. */
export function certificateIssuerSerial(cert: X509Certificate): {
  readonly issuer: Buffer;
  readonly serial: Buffer;
} {
  return idsOf(cert);
}

/** The `algorithm` (node digest name) hash of the whole certificate DER. Callers must not change it. */
export function certificateHash(cert: X509Certificate, algorithm: string): Buffer {
  const { hashes } = idsOf(cert);
  let hash = hashes.get(algorithm);
  if (!hash) {
    hash = createHash(algorithm).update(cert.raw).digest();
    hashes.set(algorithm, hash);
  }
  return hash;
}
