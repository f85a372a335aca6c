import type { KeyObject, X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { subjectKeyIdentifier as subjectKeyIdentifierOf } from '../pki/index.js';
import { readTlv, tlvBytes, tlvChildren, tlvContent } from './ber.js';

/** How a certificate is named in a RecipientIdentifier (RFC 5652 §6.2.1). */
export interface RecipientCertId {
  /** The issuer Name exactly as encoded in the certificate. */
  readonly issuerDer: Buffer;
  /** Serial number INTEGER content octets as encoded (compare through normaliseSerial). */
  readonly serial: Buffer;
  /** The subjectKeyIdentifier extension value, when present. */
  readonly subjectKeyIdentifier?: Buffer;
}

/** The key a recipient certificate holds, as far as CMS key management cares. */
export type RecipientKeyKind = 'rsa' | 'ec-p256' | 'x25519';

/** Serial numbers compare as numbers: drop the sign octet DER may add. */
export function normaliseSerial(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

export function recipientCertId(certificate: X509Certificate): RecipientCertId {
  const raw = certificate.raw;
  const cert = readTlv(raw, 0);
  const [tbs] = tlvChildren(raw, cert);
  if (!tbs) throw new QerdsError('CRYPTO_MALFORMED', 'certificate without TBSCertificate');
  const fields = tlvChildren(raw, tbs);
  const rest = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  const [serial, , issuer] = rest;
  if (!serial || serial.tag !== 0x02 || !issuer || issuer.tag !== 0x30) {
    throw new QerdsError('CRYPTO_MALFORMED', 'certificate TBSCertificate is not as RFC 5280 says');
  }
  const subjectKeyIdentifier = subjectKeyIdentifierOf(certificate);
  return {
    issuerDer: Buffer.from(tlvBytes(raw, issuer)),
    serial: Buffer.from(tlvContent(raw, serial)),
    ...(subjectKeyIdentifier ? { subjectKeyIdentifier } : {}),
  };
}

/** The CMS key-management family of a public or private key; throws CRYPTO_UNSUPPORTED_KEY otherwise. */
export function recipientKeyKind(key: KeyObject): RecipientKeyKind {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'rsa';
    case 'x25519':
      return 'x25519';
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ec-p256';
      break;
    default:
      break;
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new QerdsError(
    'CRYPTO_UNSUPPORTED_KEY',
    `key type ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''} is not supported; use RSA, EC P-256 or X25519`,
  );
}
