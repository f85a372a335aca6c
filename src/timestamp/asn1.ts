import { derUnsignedInteger, readDerElement } from '../pki/index.js';

/*
 * The asn1-schema glue of RFC 3161: INTEGER content octets in and out. DER writers are pki's (pki/der.ts),
 * object identifiers crypto's CMS table (CMS_OID).
 */

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
