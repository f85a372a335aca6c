import type { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, GeneralName, GeneralNames } from '@peculiar/asn1-x509';

/**
 * The content of xades:IssuerSerialV2 (EN 319 132-1 §5.2.2): the DER encoding of one IssuerSerial of
 * RFC 5035, base64 in the XML.
 *
 * ```asn1
 * IssuerSerial ::= SEQUENCE {
 *   issuer        GeneralNames,            -- one directoryName: the certificate's issuer Name
 *   serialNumber  CertificateSerialNumber }
 * ```
 */
export function issuerSerialV2Der(certificate: X509Certificate): Buffer {
  const cert = AsnConvert.parse(certificate.raw, Certificate);
  const generalNames = new GeneralNames([new GeneralName({ directoryName: cert.tbsCertificate.issuer })]);
  const issuer = Buffer.from(AsnConvert.serialize(generalNames));
  // serialNumber is kept by asn1-x509 as the INTEGER's content octets (two's complement, as in the DER).
  const serial = tlv(0x02, Buffer.from(cert.tbsCertificate.serialNumber));
  return tlv(0x30, Buffer.concat([issuer, serial]));
}

function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([tag, len]);
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}
