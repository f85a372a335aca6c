import { QerdsError } from '../core/errors.js';

/**
 * A minimal DER reader: enough to slice the exact bytes that a signature covers (a certificate's or CRL's
 * TBS part, a Name), which must be verified as received, never as re-encoded by an ASN.1 library.
 */
export interface DerElement {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  readonly tag: number;
  /** The whole TLV. */
  readonly bytes: Buffer;
  /** The value octets. */
  readonly content: Buffer;
}

/** Identifier and length octets of one TLV (X.690 §8.1.2–8.1.3). */
export interface TlvHeader {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  readonly tag: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Content length in octets; undefined for the indefinite form (BER only, 0x80). */
  readonly length: number | undefined;
}

/**
 * The one reader of a TLV's identifier and length octets, shared by the DER reader below and the BER reader
 * of CMS (crypto/ber.ts); each says how many length octets it accepts (no multi-GB lengths from a crafted
 * header) and which error a malformed header is. It does not check that the content fits the buffer: a
 * caller sniffing the head of a stream reads only the header.
 */
export function readTlvHeader(
  buf: Buffer,
  offset: number,
  maxLengthOctets: number,
  fail: (what: string) => Error,
): TlvHeader {
  const tag = buf[offset];
  const first = buf[offset + 1];
  if (tag === undefined || first === undefined) throw fail('truncated header');
  if ((tag & 0x1f) === 0x1f) throw fail('high tag numbers are not supported');
  if (first === 0x80) return { tag, contentStart: offset + 2, length: undefined };
  if (!(first & 0x80)) return { tag, contentStart: offset + 2, length: first };
  const n = first & 0x7f;
  if (n > maxLengthOctets) throw fail('length too large');
  let length = 0;
  for (let i = 0; i < n; i++) {
    const b = buf[offset + 2 + i];
    if (b === undefined) throw fail('truncated length');
    length = length * 256 + b;
  }
  return { tag, contentStart: offset + 2 + n, length };
}

const MAX_LENGTH_OCTETS = 4;

/** The element starting at `offset`. Throws `PKI_DER_MALFORMED` on truncated or non-DER lengths. */
export function readDerElement(buf: Buffer, offset = 0): DerElement {
  const { tag, contentStart, length } = readTlvHeader(buf, offset, MAX_LENGTH_OCTETS, malformed);
  // Indefinite length (BER) is refused: DER only.
  if (length === undefined) throw malformed('unsupported length encoding');
  const end = contentStart + length;
  if (end > buf.length) throw malformed('element runs past the end of its container');
  return { tag, bytes: buf.subarray(offset, end), content: buf.subarray(contentStart, end) };
}

/** The elements inside a constructed element. */
export function derChildren(element: DerElement): DerElement[] {
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < element.content.length) {
    const child = readDerElement(element.content, offset);
    out.push(child);
    offset += child.bytes.length;
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER element. */
export function derOid(element: DerElement): string {
  if (element.tag !== 0x06) throw malformed('expected an OBJECT IDENTIFIER');
  const c = element.content;
  const arcs: number[] = [];
  let value = 0;
  for (const byte of c) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (arcs.length === 0)
        arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

function malformed(what: string): QerdsError {
  return new QerdsError('PKI_DER_MALFORMED', `malformed DER: ${what}`);
}

/*
 * The DER writers of the code base (X.690 definite lengths), shared by CMS (crypto/), RFC 3161 (timestamp/) and
 * CAdES (seal/). Readers that must accept BER (indefinite lengths) live in crypto/ber.ts; this file writes DER only.
 */

/** DER header (identifier + definite length) for content of `length` octets. */
export function derHeader(tag: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(derHeaderLength(length));
  writeDerHeader(header, 0, tag, length);
  return header;
}

/** Octets of the identifier and definite length of content of `length` octets (X.690 §8.1.3: short form below 128). */
function derHeaderLength(length: number): number {
  if (length < 0x80) return 2;
  let octets = 1;
  for (let v = length; v > 0xff; v = Math.floor(v / 256)) octets++;
  return 2 + octets;
}

/** Write the identifier and definite length at `offset` (derHeaderLength(length) octets); the offset after them. */
function writeDerHeader(out: Buffer, offset: number, tag: number, length: number): number {
  const size = derHeaderLength(length);
  out[offset] = tag;
  if (size === 2) out[offset + 1] = length;
  else {
    out[offset + 1] = 0x80 | (size - 2);
    for (let i = offset + size - 1, v = length; i > offset + 1; i--, v = Math.floor(v / 256))
      out[i] = v % 256;
  }
  return offset + size;
}

/**
 * Encode one TLV (definite length, DER). Written into one buffer of the exact size (header, then each part):
 * signers call this tens of times per signature, and a concat of the parts then of header and body cost three
 * allocations and two copies each time. Every octet of the buffer is written (its size is the header's plus the
 * parts'), so no uninitialised memory leaves here.
 */
export function derTlv(tag: number, ...content: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of content) length += part.length;
  const out = Buffer.allocUnsafe(derHeaderLength(length) + length);
  let offset = writeDerHeader(out, 0, tag, length);
  for (const part of content) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** DER SET OF with its elements sorted by encoding (X.690 §11.6), under `tag` (0x31, or 0xa0/0xa1 when IMPLICIT). */
export function derSetOf(elements: readonly Buffer[], tag = 0x31): Buffer {
  return derTlv(tag, ...[...elements].sort(Buffer.compare));
}

const oidCache = new Map<string, Buffer>();

/**
 * DER OBJECT IDENTIFIER of a dotted OID (the writer; `derOid` reads one back). The same few OIDs are encoded
 * for every signature checked and written (bigint arithmetic each time), so encodings are remembered; the
 * returned Buffer is a copy, callers may keep or change it.
 */
export function derObjectIdentifier(oid: string): Buffer {
  let der = oidCache.get(oid);
  if (!der) {
    der = encodeObjectIdentifier(oid);
    if (oidCache.size >= 256) oidCache.delete(oidCache.keys().next().value as string);
    oidCache.set(oid, der);
  }
  return Buffer.from(der);
}

function encodeObjectIdentifier(oid: string): Buffer {
  const [first = 0n, second = 0n, ...rest] = oid.split('.').map((a) => BigInt(a));
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...chunk);
  }
  return derTlv(0x06, Buffer.from(bytes));
}

/**
 * UTCTime for years 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5, RFC 5652 §11.3 signing-time);
 * whole seconds, `Z`, as DER requires.
 */
export function derTime(date: Date): Buffer {
  const digits = date.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return derTlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1'));
  return derTlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}

/** Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue } (RFC 5652 §5.3). */
export function derAttribute(oid: string, ...values: readonly Buffer[]): Buffer {
  return derTlv(0x30, derObjectIdentifier(oid), derSetOf(values));
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm, parameters ANY OPTIONAL }: absent, or NULL (RSA PKCS#1, RFC 5754 §3). */
export function derAlgorithmIdentifier(oid: string, nullParameters = false): Buffer {
  return derTlv(0x30, derObjectIdentifier(oid), ...(nullParameters ? [Buffer.from([0x05, 0x00])] : []));
}

/** DER INTEGER of a non-negative bigint (minimal two's complement). */
export function derUnsignedInteger(value: bigint): Buffer {
  if (value < 0n) throw new QerdsError('PKI_DER_MALFORMED', 'negative integers are not supported');
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return derTlv(0x02, body);
}

/** The value of a DER INTEGER's content octets, as an unsigned bigint (negative values are refused). */
export function derIntegerValue(element: DerElement): bigint {
  if (element.tag !== 0x02 || element.content.length === 0) throw malformed('expected an INTEGER');
  if ((element.content[0] ?? 0) & 0x80) throw malformed('negative INTEGER');
  return BigInt(`0x${element.content.toString('hex')}`);
}
