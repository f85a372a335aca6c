import { sign, verify, type KeyObject } from 'node:crypto';
import { QerdsError } from '../../core/index.js';
import { xmlDigestAlgorithm, xmlSignatureAlgorithm, type AlgorithmEntry } from '../../crypto/index.js';
import { ALG } from '../model/namespaces.js';

/**
 * The signature and digest algorithms this module accepts, by W3C URI; what each one is (digest, key type)
 * comes from the algorithm registry. A miss is "not supported"; SHA-1 based algorithms are deliberately absent
 * (collision attacks make a SHA-1 digest forgeable).
 */
const signatureAlgorithms: ReadonlyMap<string, AlgorithmEntry> = new Map(
  [ALG.rsaSha256, ALG.rsaSha384, ALG.rsaSha512, ALG.ecdsaSha256, ALG.eddsaEd25519].map((uri) => [
    uri,
    xmlSignatureAlgorithm(uri)!,
  ]),
);

const digestAlgorithms: ReadonlyMap<string, string> = new Map(
  [ALG.sha256, ALG.sha384, ALG.sha512].map((uri) => [uri, xmlDigestAlgorithm(uri)!.hash!]),
);

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
  return sign(alg.hash ?? null, data, alg.keyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key);
}

/** False (never throws) when the algorithm does not fit the key or the signature does not verify. */
export function verifyBytes(uri: string, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const alg = signatureAlgorithms.get(uri);
  if (!alg || key.asymmetricKeyType !== alg.keyType) return false;
  try {
    return verify(
      alg.hash ?? null,
      data,
      alg.keyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key,
      signature,
    );
  } catch {
    return false;
  }
}
