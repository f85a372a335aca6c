import { describe, expect, it } from 'vitest';
import { QerdsError } from '../../src/core/errors.js';
import { derTlv, readDerElement, readTlvHeader } from '../../src/pki/index.js';
import { readTlv } from '../../src/crypto/ber.js';

const fail = (what: string) => new Error(what);

describe('readTlvHeader (the one reader of X.690 identifier and length octets)', () => {
  it('reads the short, long and indefinite forms', () => {
    expect(readTlvHeader(Buffer.from('3003020100', 'hex'), 0, 4, fail)).toEqual({
      tag: 0x30,
      contentStart: 2,
      length: 3,
    });
    const long = derTlv(0x04, Buffer.alloc(300));
    expect(readTlvHeader(long, 0, 4, fail)).toEqual({ tag: 0x04, contentStart: 4, length: 300 });
    expect(readTlvHeader(Buffer.from('30800000', 'hex'), 0, 4, fail)).toEqual({
      tag: 0x30,
      contentStart: 2,
      length: undefined,
    });
  });

  it('refuses truncated headers, high tag numbers and more length octets than allowed, with the caller’s error', () => {
    expect(() => readTlvHeader(Buffer.from('30', 'hex'), 0, 4, fail)).toThrow('truncated header');
    expect(() => readTlvHeader(Buffer.from('1f0100', 'hex'), 0, 4, fail)).toThrow('high tag numbers');
    expect(() => readTlvHeader(Buffer.from('3085ffffffffff', 'hex'), 0, 4, fail)).toThrow('length too large');
    expect(() => readTlvHeader(Buffer.from('308201', 'hex'), 0, 4, fail)).toThrow('truncated length');
  });

  it('is what the DER reader (PKI_DER_MALFORMED, no indefinite form) and the CMS BER reader (CRYPTO_MALFORMED) use', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof QerdsError ? e.code : 'not a QerdsError';
      }
      return 'no error';
    };
    expect(code(() => readDerElement(Buffer.from('30800000', 'hex')))).toBe('PKI_DER_MALFORMED');
    expect(code(() => readDerElement(Buffer.from('308201', 'hex')))).toBe('PKI_DER_MALFORMED');
    expect(readTlv(Buffer.from('30800000', 'hex'), 0).end).toBe(4);
    expect(code(() => readTlv(Buffer.from('308201', 'hex'), 0))).toBe('CRYPTO_MALFORMED');
  });
});
