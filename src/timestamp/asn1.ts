import { derTlv, derUnsignedInteger, readDerElement } from '../pki/index.js';

/** Object identifiers of RFC 3161, RFC 5652, RFC 2634 and RFC 5035/5816. */
export const OID = Object.freeze({
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  /** ESS SigningCertificate (ESSCertID, SHA-1): RFC 2634 §5.4 */
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  /** ESS SigningCertificateV2 (ESSCertIDv2): RFC 5035 §3, required for TSAs by RFC 5816 */
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  timeStamping: '1.3.6.1.5.5.7.3.8',
});

/** DER OBJECT IDENTIFIER. */
export function oidDer(oid: string): Buffer {
  const arcs = oid.split('.').map((a) => BigInt(a));
  const [first = 0n, second = 0n, ...rest] = arcs;
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...chunk);
  }
  return derTlv(0x06, Buffer.from(bytes));
}

/** DER UTCTime (years 1950–2049, RFC 5280 §4.1.2.5.1) or GeneralizedTime after, whole seconds. */
export function timeDer(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return derTlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1'));
  return derTlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}

/** A CMS Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue } with one value. */
export function attributeDer(oid: string, value: Buffer): Buffer {
  return derTlv(0x30, oidDer(oid), derTlv(0x31, value));
}

/** The content octets of a DER INTEGER for a non-negative bigint (the form asn1-schema wants for INTEGER fields). */
export function integerContent(value: bigint): ArrayBuffer {
  const content = readDerElement(derUnsignedInteger(value)).content;
  return new Uint8Array(content).buffer;
}

/** INTEGER content octets (two's complement, big-endian) as an unsigned bigint; negative values are refused by callers. */
export function bytesToBigint(bytes: ArrayBuffer | Uint8Array): bigint {
  const buf = Buffer.from(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes);
  return buf.length === 0 ? 0n : BigInt(`0x${buf.toString('hex')}`);
}

/** DER SET OF: the elements sorted by their encodings (X.690 §11.6), as signed attributes must be. */
export function derSetOf(elements: readonly Buffer[]): Buffer {
  return derTlv(0x31, ...[...elements].sort(Buffer.compare));
}
