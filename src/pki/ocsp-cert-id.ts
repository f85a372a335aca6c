import { createHash, type X509Certificate } from 'node:crypto';
import { OID } from './oids.js';
import { certificateNameDer } from './crl.js';
import {
  derAlgorithmIdentifier,
  derChildren,
  derIntegerValue,
  derOid,
  derTlv,
  derUnsignedInteger,
  readDerElement,
  type DerElement,
} from './der.js';

/** id-sha1: the CertID hash of RFC 6960 §4.1.1 that every responder (openssl's included) understands. */
export const OID_SHA1 = OID.sha1;
/** id-pkix-ocsp-basic (RFC 6960 §4.2.1). */
export const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
/** id-pkix-ocsp-nonce (RFC 6960 §4.4.1). */
export const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

/**
 * CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                       issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }   (RFC 6960 §4.1.1)
 */
export interface CertId {
  readonly hashAlgorithm: string;
  readonly issuerNameHash: Buffer;
  readonly issuerKeyHash: Buffer;
  /** Normalised serial (lower-case hex, no leading zeros). */
  readonly serial: string;
}

/** The value of the issuer's subjectPublicKey BIT STRING (without the unused-bits octet): what issuerKeyHash hashes. */
export function subjectPublicKeyBits(cert: X509Certificate): Buffer {
  const spki = readDerElement(cert.publicKey.export({ type: 'spki', format: 'der' }));
  const bits = derChildren(spki)[1];
  if (!bits) throw new Error('SubjectPublicKeyInfo without a subjectPublicKey');
  return bits.content.subarray(1);
}

/** Hash algorithms a CertID may be computed with: SHA-1 (RFC 6960's default) and the SHA-2 family. */
export type CertIdHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';
const CERT_ID_HASH_OIDS: Readonly<Record<CertIdHash, string>> = Object.freeze({
  sha1: OID_SHA1,
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
});
/** The CertIdHash of an AlgorithmIdentifier OID, undefined for one we do not compute. */
export function certIdHashOf(oid: string): CertIdHash | undefined {
  return (Object.entries(CERT_ID_HASH_OIDS) as [CertIdHash, string][]).find(([, o]) => o === oid)?.[0];
}

/**
 * The CertID of `serialHex` under `issuer`, hashed with `hash` (SHA-1 unless asked: every responder
 * understands it; responders that answer with SHA-256 CertIDs, as RFC 6960 §4.3 allows, are matched with
 * the same algorithm by the verifier).
 */
export function certIdFor(issuer: X509Certificate, serialHex: string, hash: CertIdHash = 'sha1'): CertId {
  const digest = (data: Buffer): Buffer => createHash(hash).update(data).digest();
  return {
    hashAlgorithm: CERT_ID_HASH_OIDS[hash],
    issuerNameHash: digest(certificateNameDer(issuer, 'subject')),
    issuerKeyHash: digest(subjectPublicKeyBits(issuer)),
    serial: serialHex.toLowerCase().replace(/^0+(?=.)/, ''),
  };
}

export function encodeCertId(id: CertId): Buffer {
  return derTlv(
    0x30,
    derAlgorithmIdentifier(id.hashAlgorithm, true),
    derTlv(0x04, id.issuerNameHash),
    derTlv(0x04, id.issuerKeyHash),
    derUnsignedInteger(BigInt(`0x${id.serial}`)),
  );
}

export function decodeCertId(element: DerElement): CertId {
  const [alg, nameHash, keyHash, serial] = derChildren(element);
  const algOid = alg && derChildren(alg)[0];
  if (!algOid || !nameHash || !keyHash || !serial) throw new Error('CertID needs four elements');
  return {
    hashAlgorithm: derOid(algOid),
    issuerNameHash: nameHash.content,
    issuerKeyHash: keyHash.content,
    serial: derIntegerValue(serial).toString(16),
  };
}

/** Same certificate under the same issuer: hashes compared only when computed with the same algorithm. */
export function sameCertId(a: CertId, b: CertId): boolean {
  return (
    a.hashAlgorithm === b.hashAlgorithm &&
    a.serial === b.serial &&
    a.issuerNameHash.equals(b.issuerNameHash) &&
    a.issuerKeyHash.equals(b.issuerKeyHash)
  );
}

/** GeneralizedTime (RFC 6960 times are GeneralizedTime whatever the year), whole seconds, `Z`. */
export function derGeneralizedTime(date: Date): Buffer {
  return derTlv(
    0x18,
    Buffer.from(
      date
        .toISOString()
        .replace(/[-:T]/g, '')
        .replace(/\.\d+Z$/, 'Z'),
      'ascii',
    ),
  );
}

export function parseGeneralizedTime(element: DerElement): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(element.content.toString('ascii'));
  if (element.tag !== 0x18 || !m) throw new Error('expected a GeneralizedTime in Z form');
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}
