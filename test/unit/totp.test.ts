import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { base32Decode, totp, verifyTotp } from '../../src/api/totp.js';

const vectors = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../fixtures/crypto/rfc6238-totp.json'), 'utf8'),
) as {
  seeds: Record<'sha1' | 'sha256' | 'sha512', string>;
  vectors: { time: number; sha1: string; sha256: string; sha512: string }[];
};

describe('TOTP (RFC 6238)', () => {
  const algorithms = ['sha1', 'sha256', 'sha512'] as const;
  it.each(vectors.vectors)('matches the RFC 6238 Appendix B vectors at T=$time', (v) => {
    for (const algorithm of algorithms) {
      expect(
        totp(Buffer.from(vectors.seeds[algorithm], 'ascii'), new Date(v.time * 1000), {
          digits: 8,
          algorithm,
        }),
      ).toBe(v[algorithm]);
    }
  });

  it('accepts the code of the current step and one step either side, nothing further', () => {
    const secret = Buffer.from(vectors.seeds.sha1, 'ascii');
    const now = new Date(1111111111 * 1000);
    const code = totp(secret, now);
    expect(code).toMatch(/^\d{6}$/);
    expect(verifyTotp(secret, code, now)).toBe(true);
    expect(verifyTotp(secret, code, new Date(now.getTime() + 30_000))).toBe(true);
    expect(verifyTotp(secret, code, new Date(now.getTime() - 30_000))).toBe(true);
    expect(verifyTotp(secret, code, new Date(now.getTime() + 90_000))).toBe(false);
    expect(verifyTotp(secret, String((Number(code) + 1) % 1_000_000).padStart(6, '0'), now)).toBe(false);
    expect(verifyTotp(secret, '12345', now)).toBe(false);
    expect(verifyTotp(secret, 'abcdef', now)).toBe(false);
  });

  it('decodes base32 secrets as authenticator apps show them (RFC 4648 §10 vectors)', () => {
    expect(base32Decode('MZXW6YTBOI======').toString()).toBe('foobar');
    expect(base32Decode('mzxw 6ytb oi').toString()).toBe('foobar');
    expect(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ').toString()).toBe('12345678901234567890');
    expect(() => base32Decode('MZ1W')).toThrow(/not base32/);
  });
});
