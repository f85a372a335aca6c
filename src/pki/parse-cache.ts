import { createHash, X509Certificate } from 'node:crypto';

/**
 * Memoised parsing by content. An AP parses the same few certificates (its peer's signing and encryption
 * certificates, the TSA's, the CA's) and the same CRL for every message, in every AS4 signature, timestamp
 * token and evidence seal: node's X509Certificate costs ~0.25 ms a parse and a CRL through @peculiar/x509
 * more, tens of times per message. The key is the SHA-256 of the exact input bytes, so a cached result is
 * only ever returned for input identical to what it was parsed from; nothing is verified here, so the
 * cache cannot make anything be accepted that the caller's own checks would refuse. Parse errors are not
 * cached (the parse runs again and throws again).
 */
export function memoByContent<I extends Uint8Array | string, T>(
  parse: (data: I) => T,
  limit = 256,
): (data: I) => T {
  const cache = new Map<string, T>();
  return (data: I) => {
    const key = createHash('sha256')
      .update(typeof data === 'string' ? 's' : 'b')
      .update(data)
      .digest('base64');
    const hit = cache.get(key);
    if (hit !== undefined) {
      // Least recently used goes first: re-insert to move this one to the end.
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const value = parse(data);
    cache.set(key, value);
    if (cache.size > limit) cache.delete(cache.keys().next().value as string);
    return value;
  };
}

/**
 * A certificate from DER or PEM, like `new X509Certificate(data)` (same errors), shared between calls with
 * the same bytes: X509Certificate objects are immutable.
 */
export const certificateFrom: (data: Uint8Array | string) => X509Certificate = memoByContent(
  (data: Uint8Array | string) => new X509Certificate(data),
);
