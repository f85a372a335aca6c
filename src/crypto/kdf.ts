import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { QerdsError } from '../core/errors.js';

/**
 * ANSI X9.63 KDF (SEC 1 v2 §3.6.1), as RFC 5753 §7.2 uses it for ECDH in CMS:
 * K = Hash(Z ‖ Counter ‖ SharedInfo) ‖ Hash(Z ‖ Counter+1 ‖ SharedInfo) ‖ …, truncated to `length` octets,
 * Counter a 32-bit big-endian number starting at 1.
 */
export function x963Kdf(hash: string, z: Buffer, sharedInfo: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let produced = 0;
  for (let counter = 1; produced < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(z).update(c).update(sharedInfo).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/**
 * HKDF (RFC 5869) as RFC 8418 §2.2 uses it for X25519 / X448 in CMS: IKM = the shared secret Z,
 * info = DER ECC-CMS-SharedInfo, salt = the ukm when the sender gave one, otherwise none (HashLen zeros).
 */
export function hkdf(hash: string, z: Buffer, sharedInfo: Buffer, length: number, ukm?: Buffer): Buffer {
  return Buffer.from(hkdfSync(hash, z, ukm ?? Buffer.alloc(0), sharedInfo, length));
}

/** RFC 3394 default initial value. */
const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

/** AES key wrap (RFC 3394) with a KEK of 16, 24 or 32 octets. */
export function aesKeyWrap(kek: Buffer, key: Buffer): Buffer {
  const cipher = createCipheriv(`id-aes${kek.length * 8}-wrap`, kek, KW_IV);
  return Buffer.concat([cipher.update(key), cipher.final()]);
}

/** AES key unwrap (RFC 3394); an integrity-check failure is CRYPTO_DECRYPT_FAILED. */
export function aesKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  try {
    const decipher = createDecipheriv(`id-aes${kek.length * 8}-wrap`, kek, KW_IV);
    return Buffer.concat([decipher.update(wrapped), decipher.final()]);
  } catch (cause) {
    throw new QerdsError('CRYPTO_DECRYPT_FAILED', 'decryption failed', { cause });
  }
}
