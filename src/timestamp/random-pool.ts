import { randomFillSync } from 'node:crypto';

/**
 * Random octets drawn from a buffer refilled by the CSPRNG in blocks: a nonce or a serial number per token
 * each cost a randomBytes call (≈ 5 µs, the call into OpenSSL dominating) where a slice of a pool costs a
 * copy. Only for values that are public once used (TSTInfo serial numbers, request nonces): the pool keeps
 * the next values in memory until they are drawn, which exposes nothing a reader of the tokens will not see.
 */
export function createRandomPool(blockSize = 4096): (length: number) => Buffer {
  const pool = Buffer.allocUnsafe(blockSize);
  let used = blockSize;
  return (length) => {
    if (length > blockSize) throw new RangeError(`at most ${blockSize} octets at a time`);
    if (used + length > blockSize) {
      randomFillSync(pool);
      used = 0;
    }
    // A copy: the caller's value must not change when the pool is refilled.
    const out = Buffer.from(pool.subarray(used, used + length));
    used += length;
    return out;
  };
}
