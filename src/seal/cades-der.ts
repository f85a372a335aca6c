import { derTlv } from '../pki/index.js';

/**
 * Small DER writers for CAdES (a few lines each; the timestamp module keeps its own for RFC 3161, since
 * a module's internals are not shared).
 */
export const CMS_OID = Object.freeze({
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
});

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

/** UTCTime for 1950–2049 (RFC 5652 §11.3 signing-time), GeneralizedTime otherwise; whole seconds. */
export function timeDer(date: Date): Buffer {
  const digits = date.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return derTlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1'));
  return derTlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}

/** Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }, one value. */
export function attributeDer(oid: string, value: Buffer): Buffer {
  return derTlv(0x30, oidDer(oid), derTlv(0x31, value));
}

/** DER SET OF with its elements sorted by encoding (X.690 §11.6), under `tag` (0x31, or 0xa0/0xa1 implicit). */
export function setOfDer(elements: readonly Buffer[], tag = 0x31): Buffer {
  return derTlv(tag, ...[...elements].sort(Buffer.compare));
}

export function algorithmIdentifierDer(oid: string, nullParameters = false): Buffer {
  return derTlv(0x30, oidDer(oid), ...(nullParameters ? [Buffer.from([0x05, 0x00])] : []));
}
