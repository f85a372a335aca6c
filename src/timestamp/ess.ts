import type { X509Certificate } from 'node:crypto';
import { derChildren, derOid, digestNameOfOid, readDerElement } from '../pki/index.js';
import { certificateHash, certificateIssuerSerial } from './certificate-ids.js';

/**
 * ESS signing-certificate attributes, which bind the signer's certificate into the signed attributes so that
 * a token cannot be re-attributed to another certificate with the same key (RFC 2634 §5.4, RFC 5035, RFC 5816).
 *
 *   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies SEQUENCE OF PolicyInformation OPTIONAL }
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *                              certHash Hash, issuerSerial IssuerSerial OPTIONAL }
 *   ESSCertID   ::= SEQUENCE { certHash Hash (SHA-1), issuerSerial IssuerSerial OPTIONAL }
 *   IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 *
 * Parsed here; written by crypto's CMS builder (signingCertificateV2Der) and pki (issuerSerialDer).
 */

export interface EssCertId {
  readonly version: 1 | 2;
  /** Node digest name; 'sha1' only for ESSCertID (v1). */
  readonly hashAlgorithm: string;
  readonly certHash: Buffer;
  /** The serialNumber INTEGER element, when issuerSerial is present. */
  readonly serialNumber?: Buffer;
}

/** The first certificate identifier of a SigningCertificate(V2) value (the signer's, RFC 2634 §5.4). */
export function parseFirstEssCertId(value: Buffer, version: 1 | 2): EssCertId {
  const [certs] = derChildren(readDerElement(value));
  const [first] = certs ? derChildren(certs) : [];
  if (!first) throw new Error('SigningCertificate without certificates');
  const parts = derChildren(first);
  let hashAlgorithm = version === 2 ? 'sha256' : 'sha1';
  if (version === 2 && parts[0]?.tag === 0x30) {
    const algOid = derOid(derChildren(parts.shift()!)[0]!);
    const name = digestNameOfOid(algOid);
    if (!name) throw new Error(`unsupported ESSCertIDv2 hash algorithm ${algOid}`);
    hashAlgorithm = name;
  }
  const [certHash, issuerSerial] = parts;
  if (certHash?.tag !== 0x04) throw new Error('ESSCertID without certHash');
  const serial = issuerSerial ? derChildren(issuerSerial)[1] : undefined;
  return {
    version,
    hashAlgorithm,
    certHash: Buffer.from(certHash.content),
    ...(serial ? { serialNumber: Buffer.from(serial.bytes) } : {}),
  };
}

/** Whether `id` identifies `cert`: the hash of the whole certificate and, when present, its serial number. */
export function essCertIdMatches(id: EssCertId, cert: X509Certificate): boolean {
  if (!certificateHash(cert, id.hashAlgorithm).equals(id.certHash)) return false;
  return id.serialNumber === undefined || id.serialNumber.equals(certificateIssuerSerial(cert).serial);
}
