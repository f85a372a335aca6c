import { sign, verify, type KeyObject } from 'node:crypto';
import { QerdsError } from '../../core/index.js';
import { ALG } from '../model/namespaces.js';

/**
 * The signature and digest algorithms this module accepts, by W3C URI. A miss is "not supported";
 * SHA-1 based algorithms are deliberately absent (collision attacks make a SHA-1 digest forgeable).
 */
interface SignatureAlgorithm {
  readonly uri: string;
  /** node:crypto digest name, or null for EdDSA (the hash is part of the scheme). */
  readonly hash: string | null;
  readonly keyType: 'rsa' | 'ec' | 'ed25519';
}

const signatureAlgorithms: ReadonlyMap<string, SignatureAlgorithm> = new Map(
  [
    { uri: ALG.rsaSha256, hash: 'sha256', keyType: 'rsa' },
    { uri: ALG.rsaSha384, hash: 'sha384', keyType: 'rsa' },
    { uri: ALG.rsaSha512, hash: 'sha512', keyType: 'rsa' },
    { uri: ALG.ecdsaSha256, hash: 'sha256', keyType: 'ec' },
    { uri: ALG.eddsaEd25519, hash: null, keyType: 'ed25519' },
  ].map((a) => [a.uri, a as SignatureAlgorithm]),
);

const digestAlgorithms: ReadonlyMap<string, string> = new Map([
  [ALG.sha256, 'sha256'],
  [ALG.sha384, 'sha384'],
  [ALG.sha512, 'sha512'],
]);

/** node:crypto name of a digest URI, or undefined when not supported. */
export function digestName(uri: string): string | undefined {
  return digestAlgorithms.get(uri);
}

/** The signature algorithm URI to use with a key (RSA → RSA-SHA256, EC → ECDSA-SHA256, Ed25519 → EdDSA). */
export function signatureAlgorithmFor(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ALG.rsaSha256;
    case 'ec':
      return ALG.ecdsaSha256;
    case 'ed25519':
      return ALG.eddsaEd25519;
    default:
      throw new QerdsError(
        'AS4_SIGNATURE_ALGORITHM_UNSUPPORTED',
        `no signature algorithm for ${key.asymmetricKeyType} keys`,
      );
  }
}

export function isSupportedSignatureAlgorithm(uri: string): boolean {
  return signatureAlgorithms.has(uri);
}

export function signBytes(uri: string, key: KeyObject, data: Buffer): Buffer {
  const alg = signatureAlgorithms.get(uri);
  if (!alg)
    throw new QerdsError('AS4_SIGNATURE_ALGORITHM_UNSUPPORTED', `signature algorithm not supported: ${uri}`);
  // XMLDSig ECDSA values are r||s (RFC 4051 §3.3), not DER.
  return sign(alg.hash, data, alg.keyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key);
}

/** False (never throws) when the algorithm does not fit the key or the signature does not verify. */
export function verifyBytes(uri: string, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const alg = signatureAlgorithms.get(uri);
  if (!alg || key.asymmetricKeyType !== alg.keyType) return false;
  try {
    return verify(alg.hash, data, alg.keyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature);
  } catch {
    return false;
  }
}
