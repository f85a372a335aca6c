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

const MAX_LENGTH_OCTETS = 4;

/** The element starting at `offset`. Throws `PKI_DER_MALFORMED` on truncated or non-DER lengths. */
export function readDerElement(buf: Buffer, offset = 0): DerElement {
  const tag = buf[offset];
  const first = buf[offset + 1];
  if (tag === undefined || first === undefined) throw malformed('truncated header');
  if ((tag & 0x1f) === 0x1f) throw malformed('high tag numbers are not supported');
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    // Indefinite length (BER) and absurd lengths are refused: DER only, and no multi-GB allocations.
    if (n === 0 || n > MAX_LENGTH_OCTETS) throw malformed('unsupported length encoding');
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = buf[offset + 2 + i];
      if (b === undefined) throw malformed('truncated length');
      length = length * 256 + b;
    }
    header += n;
  }
  const end = offset + header + length;
  if (end > buf.length) throw malformed('element runs past the end of its container');
  return { tag, bytes: buf.subarray(offset, end), content: buf.subarray(offset + header, end) };
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
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

function malformed(what: string): QerdsError {
  return new QerdsError('PKI_DER_MALFORMED', `malformed DER: ${what}`);
}

/** Encode one TLV (definite length, DER). */
export function derTlv(tag: number, ...content: readonly Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let header: Buffer;
  if (n < 0x80) header = Buffer.from([tag, n]);
  else {
    const len: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) len.unshift(v % 256);
    header = Buffer.from([tag, 0x80 | len.length, ...len]);
  }
  return Buffer.concat([header, body]);
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
