import { QerdsError } from '../core/errors.js';
import { derOid, readTlvHeader } from '../pki/index.js';

/**
 * A BER/DER TLV reader over one Buffer that never copies: CMS messages carry the whole (possibly
 * 100 MiB+) ciphertext, more than an ASN.1 object model should hold (asn1js refuses such lengths).
 * It reads definite lengths (DER) and the indefinite lengths `openssl cms -stream` writes (BER);
 * small parts are then handed to @peculiar/asn1-schema. Writing is DER only, with pki's writers (pki/der.ts).
 */
export interface Tlv {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  readonly tag: number;
  readonly constructed: boolean;
  /** Offsets into the buffer: the TLV spans [start, end); its content [contentStart, contentEnd). */
  readonly start: number;
  readonly contentStart: number;
  readonly contentEnd: number;
  readonly end: number;
}

/** Nesting beyond this is refused: a crafted message could otherwise exhaust the stack. */
const MAX_DEPTH = 64;
const MAX_LENGTH_OCTETS = 6;

export function malformed(what: string): QerdsError {
  return new QerdsError('CRYPTO_MALFORMED', `malformed CMS: ${what}`);
}

/** The TLV starting at `offset`, which must end by `limit`. */
export function readTlv(buf: Buffer, offset: number, limit = buf.length, depth = 0): Tlv {
  if (depth > MAX_DEPTH) throw malformed('nesting too deep');
  if (offset + 2 > limit) throw malformed('truncated header');
  const { tag, contentStart, length } = readTlvHeader(buf, offset, MAX_LENGTH_OCTETS, malformed);
  const constructed = (tag & 0x20) !== 0;
  if (length === undefined) {
    // Indefinite length: only for constructed encodings; the content runs to the end-of-contents octets.
    if (!constructed) throw malformed('indefinite length on a primitive element');
    let cursor = contentStart;
    for (;;) {
      if (cursor + 2 > limit) throw malformed('missing end-of-contents');
      if (buf[cursor] === 0 && buf[cursor + 1] === 0) break;
      cursor = readTlv(buf, cursor, limit, depth + 1).end;
    }
    return { tag, constructed, start: offset, contentStart, contentEnd: cursor, end: cursor + 2 };
  }
  const end = contentStart + length;
  if (end > limit) throw malformed('element runs past the end of its container');
  return { tag, constructed, start: offset, contentStart, contentEnd: end, end };
}

/** The elements inside a constructed TLV. */
export function tlvChildren(buf: Buffer, parent: Tlv): Tlv[] {
  if (!parent.constructed)
    throw malformed(`expected a constructed element, got tag 0x${parent.tag.toString(16)}`);
  const out: Tlv[] = [];
  for (let offset = parent.contentStart; offset < parent.contentEnd;) {
    const child = readTlv(buf, offset, parent.contentEnd);
    out.push(child);
    offset = child.end;
  }
  return out;
}

export function tlvBytes(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.start, tlv.end);
}

export function tlvContent(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.contentStart, tlv.contentEnd);
}

/**
 * The segments of an OCTET STRING value, primitive or constructed (BER), in order, as views into `buf`.
 * Segments of a constructed string must be primitive OCTET STRINGs (tag 0x04) or nested constructed ones.
 */
export function octetStringSegments(buf: Buffer, tlv: Tlv, depth = 0): Buffer[] {
  if (!tlv.constructed) return [tlvContent(buf, tlv)];
  if (depth > MAX_DEPTH) throw malformed('nesting too deep');
  const out: Buffer[] = [];
  for (const child of tlvChildren(buf, tlv)) {
    if ((child.tag & 0xdf) !== 0x04)
      throw malformed('constructed OCTET STRING holds a non-OCTET STRING segment');
    out.push(...octetStringSegments(buf, child, depth + 1));
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER TLV (decoded by pki's derOid once the tag is checked here). */
export function tlvOid(buf: Buffer, tlv: Tlv): string {
  if (tlv.tag !== 0x06 || tlv.contentEnd === tlv.contentStart)
    throw malformed('expected an OBJECT IDENTIFIER');
  return derOid({ tag: tlv.tag, bytes: tlvBytes(buf, tlv), content: tlvContent(buf, tlv) });
}

/** The DER writers are pki's (derTlv stays importable from here for the CMS tamper helpers of the tests). */
export { derTlv } from '../pki/index.js';
