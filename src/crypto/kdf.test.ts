import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { algorithm } from './asn1.js';
import { deriveKek } from './key-agreement.js';
import { aesKeyUnwrap, aesKeyWrap, hkdf, x963Kdf } from './kdf.js';
import { OID } from '../pki/oids.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/crypto/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    string
  >;
const hex = (s: string | undefined) => Buffer.from(s ?? '', 'hex');

/** The KDF as the openssl CLI computes it: an independent implementation of the same function. */
function opensslKdf(
  kdf: 'X963KDF' | 'HKDF',
  digest: string,
  key: Buffer,
  info: Buffer,
  length: number,
): Buffer {
  const out = execFileSync(
    'openssl',
    [
      'kdf',
      '-keylen',
      String(length),
      '-kdfopt',
      `digest:${digest}`,
      '-kdfopt',
      `hexkey:${key.toString('hex')}`,
      '-kdfopt',
      `hexinfo:${info.toString('hex')}`,
      kdf,
    ],
    { encoding: 'utf8' },
  );
  return Buffer.from(out.trim().replace(/:/g, ''), 'hex');
}

describe('key derivation and key wrap', () => {
  it('X25519 agrees on the RFC 7748 §6.1 shared secret through node:crypto', () => {
    const v = fixture('rfc7748-x25519.json');
    const pkcs8 = (raw: Buffer) =>
      createPrivateKey({
        key: Buffer.concat([hex('302e020100300506032b656e04220420'), raw]),
        format: 'der',
        type: 'pkcs8',
      });
    const spki = (raw: Buffer) =>
      createPublicKey({
        key: Buffer.concat([hex('302a300506032b656e032100'), raw]),
        format: 'der',
        type: 'spki',
      });
    const alice = pkcs8(hex(v.alicePrivate));
    expect(createPublicKey(alice).export({ format: 'der', type: 'spki' }).subarray(12)).toEqual(
      hex(v.alicePublic),
    );
    expect(diffieHellman({ privateKey: alice, publicKey: spki(hex(v.bobPublic)) })).toEqual(hex(v.shared));
    expect(
      diffieHellman({ privateKey: pkcs8(hex(v.bobPrivate)), publicKey: spki(hex(v.alicePublic)) }),
    ).toEqual(hex(v.shared));
  });

  it('AES-256 key wrap gives the RFC 3394 §4.6 vector and unwraps it', () => {
    const v = fixture('rfc3394-aes256-kw.json');
    expect(aesKeyWrap(hex(v.kek), hex(v.key))).toEqual(hex(v.wrapped));
    expect(aesKeyUnwrap(hex(v.kek), hex(v.wrapped))).toEqual(hex(v.key));
    const altered = hex(v.wrapped);
    altered[5] = (altered[5] ?? 0) ^ 1;
    expect(() => aesKeyUnwrap(hex(v.kek), altered)).toThrow(
      expect.objectContaining({ code: 'CRYPTO_DECRYPT_FAILED' }),
    );
  });

  it('X9.63 KDF matches openssl kdf X963KDF (one and several hash blocks)', () => {
    const z = randomBytes(32);
    const info = randomBytes(23);
    expect(x963Kdf('sha256', z, info, 32)).toEqual(opensslKdf('X963KDF', 'SHA256', z, info, 32));
    expect(x963Kdf('sha1', z, info, 32)).toEqual(opensslKdf('X963KDF', 'SHA1', z, info, 32));
  });

  it('HKDF matches openssl kdf HKDF with no salt', () => {
    const z = randomBytes(32);
    const info = randomBytes(21);
    expect(hkdf('sha256', z, info, 32)).toEqual(opensslKdf('HKDF', 'SHA256', z, info, 32));
  });

  it('builds the RFC 5753 ECC-CMS-SharedInfo for AES-256 wrap and feeds it to the KDF (RFC 8418 for X25519)', () => {
    const v = fixture('rfc7748-x25519.json');
    const z = hex(v.shared);
    // SEQUENCE { SEQUENCE { id-aes256-wrap }, [2] { OCTET STRING 00000100 } }: 256 bits, no ukm.
    const sharedInfo = hex('3015300b060960864801650304012da206040400000100');
    const wrap = algorithm(OID.aes256Wrap);
    expect(deriveKek({ kdf: 'hkdf', hash: 'sha256' }, z, wrap)).toEqual(
      opensslKdf('HKDF', 'SHA256', z, sharedInfo, 32),
    );
    expect(deriveKek({ kdf: 'x963', hash: 'sha256' }, z, wrap)).toEqual(
      opensslKdf('X963KDF', 'SHA256', z, sharedInfo, 32),
    );
  });
});
