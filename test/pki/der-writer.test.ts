import { describe, expect, it } from 'vitest';
import { derHeader, derTlv, readDerElement } from '../../src/pki/index.js';

/** X.690 §8.1.3 written out by hand: the short form below 128, else 0x80 | n then n big-endian length octets. */
function expectedHeader(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const octets: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) octets.unshift(v % 256);
  return Buffer.from([tag, 0x80 | octets.length, ...octets]);
}

describe('derHeader and derTlv (the DER writers, one buffer of the exact size)', () => {
  it('write each length form at its boundaries', () => {
    for (const length of [0, 1, 127, 128, 255, 256, 257, 65_535, 65_536, 0xffffff, 0x1000000, 0x12345678])
      expect(derHeader(0x30, length).toString('hex'), `length ${length}`).toBe(
        expectedHeader(0x30, length).toString('hex'),
      );
  });

  it('write the header then every part in order, nothing else, and read back', () => {
    for (const size of [0, 60, 127, 128, 200, 255, 256, 40_000, 70_000]) {
      const parts = [Buffer.alloc(size, 0xab), Buffer.from([1, 2, 3]), Buffer.alloc(0)];
      const tlv = derTlv(0x04, ...parts);
      expect(tlv.equals(Buffer.concat([expectedHeader(0x04, size + 3), ...parts])), `size ${size}`).toBe(
        true,
      );
      const read = readDerElement(tlv);
      expect(read.bytes.length).toBe(tlv.length);
      expect(read.content.equals(Buffer.concat(parts))).toBe(true);
    }
  });

  it('nest (a TLV inside a TLV) and write no part twice', () => {
    const inner = derTlv(0x02, Buffer.from([0x01]));
    expect(derTlv(0x30, inner, inner).toString('hex')).toBe('3006020101020101');
    expect(derTlv(0x30).toString('hex')).toBe('3000');
  });
});
