import type { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { certificateNameDer } from './crl.js';
import { derChildren, derTlv, readDerElement } from './der.js';

/** The certificate's serialNumber INTEGER element (the whole TLV), as encoded in the certificate. */
export function certificateSerialNumberDer(cert: X509Certificate): Buffer {
  const [tbs] = derChildren(readDerElement(cert.raw));
  const parts = tbs ? derChildren(tbs) : [];
  // [0] version is optional; serialNumber follows it.
  const serial = parts[parts[0]?.tag === 0xa0 ? 1 : 0];
  if (!serial || serial.tag !== 0x02)
    throw new QerdsError('PKI_DER_MALFORMED', 'certificate has no serialNumber');
  return Buffer.from(serial.bytes);
}

/**
 * The DER of one IssuerSerial of RFC 5035 (ESSCertIDv2, and xades:IssuerSerialV2 of EN 319 132-1 §5.2.2):
 *
 * ```asn1
 * IssuerSerial ::= SEQUENCE {
 *   issuer        GeneralNames,            -- one directoryName [4]: the certificate's issuer Name
 *   serialNumber  CertificateSerialNumber }
 * ```
 * Built from the certificate's own DER slices (issuer Name and serialNumber INTEGER as issued), which
 * is both exact and, on the seal and verify hot paths, far cheaper than an ASN.1 object round trip.
 */
export function issuerSerialDer(cert: X509Certificate): Buffer {
  let der = issuerSerials.get(cert);
  if (!der) {
    // GeneralName directoryName is [4] EXPLICIT Name (a CHOICE member: explicit tagging).
    const generalNames = derTlv(0x30, derTlv(0xa4, certificateNameDer(cert, 'issuer')));
    der = derTlv(0x30, generalNames, certificateSerialNumberDer(cert));
    issuerSerials.set(cert, der);
  }
  return der;
}

/**
 * issuerSerialDer per X509Certificate object (immutable; one per content through parse-cache.ts): each seal
 * verified checks its signer's IssuerSerialV2 against it. Callers must not change the Buffer.
 */
const issuerSerials = new WeakMap<X509Certificate, Buffer>();

/** IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber } (RFC 5652 §10.2.4), a CMS SignerIdentifier. */
export function issuerAndSerialNumberDer(cert: X509Certificate): Buffer {
  return derTlv(0x30, certificateNameDer(cert, 'issuer'), certificateSerialNumberDer(cert));
}
