import type { X509Certificate } from 'node:crypto';
import { certificateNameDer, derChildren, derTlv, readDerElement } from '../pki/index.js';

/**
 * The content of xades:IssuerSerialV2 (EN 319 132-1 §5.2.2): the DER encoding of one IssuerSerial of
 * RFC 5035, base64 in the XML.
 *
 * ```asn1
 * IssuerSerial ::= SEQUENCE {
 *   issuer        GeneralNames,            -- one directoryName [4]: the certificate's issuer Name
 *   serialNumber  CertificateSerialNumber }
 * ```
 * Built from the certificate's own DER slices (issuer Name and serialNumber INTEGER as issued), which
 * is both exact and, on the seal and verify hot paths, far cheaper than an ASN.1 object round trip.
 */
export function issuerSerialV2Der(certificate: X509Certificate): Buffer {
  const issuer = certificateNameDer(certificate, 'issuer');
  const [tbs] = derChildren(readDerElement(certificate.raw));
  const parts = tbs ? derChildren(tbs) : [];
  // [0] version is optional; serialNumber follows it.
  const serial = parts[parts[0]?.tag === 0xa0 ? 1 : 0];
  if (!serial || serial.tag !== 0x02) throw new Error('certificate has no serialNumber');
  // GeneralName directoryName is [4] EXPLICIT Name (a CHOICE member: explicit tagging).
  const generalNames = derTlv(0x30, derTlv(0xa4, issuer));
  return derTlv(0x30, Buffer.concat([generalNames, serial.bytes]));
}
