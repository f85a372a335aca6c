import { describe, expect, it } from 'vitest';
import { createRandomPool } from './random-pool.js';

describe('createRandomPool', () => {
  it('draws distinct values that stay as drawn when the pool is refilled', () => {
    const random = createRandomPool(64);
    const first = random(16);
    const kept = Buffer.from(first);
    const drawn = new Set<string>([first.toString('hex')]);
    // 40 draws of 16 octets from a 64-octet pool: ten refills.
    for (let i = 0; i < 40; i++) drawn.add(random(16).toString('hex'));
    expect(drawn.size).toBe(41);
    expect(first).toEqual(kept);
    expect(random(64)).toHaveLength(64);
    expect(() => random(65)).toThrow(RangeError);
  });
});
