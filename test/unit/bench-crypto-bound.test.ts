import { diffieHellman, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { allCoreRate, countPrivateKeyOperations, cryptoBound } from '../../bench/crypto-bound.js';

/**
 * The bench's private-key operation counter (bench/crypto-bound.ts) on the operations of eDelivery AS4 2.0: an
 * Ed25519 signature, an X25519 key agreement and the sender's ephemeral X25519 key. Each must be counted under its
 * own kind and get an all-core rate, or the bound `npm run bench` prints would leave them out.
 */
describe('bench crypto bound: eDelivery AS4 2.0 operations', () => {
  it('counts Ed25519 signs, X25519 derives and X25519 key generations by kind (through ESM imports, as src/ calls them)', () => {
    const ed = generateKeyPairSync('ed25519');
    const peer = generateKeyPairSync('x25519');
    const counter = countPrivateKeyOperations();
    try {
      sign(null, Buffer.from('data'), ed.privateKey);
      const ephemeral = generateKeyPairSync('x25519');
      diffieHellman({ privateKey: ephemeral.privateKey, publicKey: peer.publicKey });
      diffieHellman({ privateKey: peer.privateKey, publicKey: ephemeral.publicKey });
    } finally {
      counter.stop();
    }
    expect(Object.fromEntries(counter.counts)).toEqual({
      'sign:ed25519': 1,
      'generate:x25519': 1,
      'derive:x25519': 2,
    });
    // Stopped: node:crypto is itself again.
    sign(null, Buffer.from('data'), ed.privateKey);
    expect(counter.counts.get('sign:ed25519')).toBe(1);
  });

  it('measures an all-core rate for each of those kinds, and the bound sums their costs', async () => {
    for (const kind of ['sign:ed25519', 'derive:x25519', 'generate:x25519']) {
      const rate = await allCoreRate(kind, 100);
      expect(rate, kind).toBeGreaterThan(0);
      expect(Number.isFinite(rate), kind).toBe(true);
    }
    const bound = await cryptoBound(new Map([['sign:ed25519', 2]]), 1);
    expect(bound.kinds).toEqual([{ kind: 'sign:ed25519', perMessage: 2, rate: expect.any(Number) }]);
    expect(bound.messagesPerSecond).toBeCloseTo(bound.kinds[0]!.rate / 2, 6);
  });
});
