import { verify, type KeyObject } from 'node:crypto';

/**
 * X.509 / CMS signature algorithm OIDs we verify, mapped to the node digest name (null: the key type fixes
 * it, as for EdDSA). SHA-1 and MD5 based signatures are absent on purpose: collisions make them forgeable.
 */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, string | null>> = Object.freeze({
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13': 'sha512', // sha512WithRSAEncryption
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4': 'sha512', // ecdsa-with-SHA512
  '1.3.101.112': null, // Ed25519
  '1.3.101.113': null, // Ed448
});

/** Digest algorithm OIDs (NIST SHA-2) by node name, and back. */
export const DIGEST_OIDS = Object.freeze({
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const);

export type DigestName = keyof typeof DIGEST_OIDS;

export function digestNameOfOid(oid: string): DigestName | undefined {
  return (Object.keys(DIGEST_OIDS) as DigestName[]).find((name) => DIGEST_OIDS[name] === oid);
}

/**
 * Verify `signature` over `data` with the algorithm `oid` (an X.509 signatureAlgorithm).
 * Returns 'unsupported' for algorithms outside the table above (including RSASSA-PSS, not yet wired).
 */
export function verifyWithAlgorithm(
  oid: string,
  data: Buffer,
  signature: Buffer,
  publicKey: KeyObject,
): boolean | 'unsupported' {
  if (!(oid in SIGNATURE_ALGORITHMS)) return 'unsupported';
  try {
    return verify(SIGNATURE_ALGORITHMS[oid] ?? null, data, publicKey, signature);
  } catch {
    // Key type and algorithm disagree (an RSA OID with an EC key…): not a valid signature.
    return false;
  }
}

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/**
 * Verify a CMS SignerInfo signature (RFC 5652 §5.6): `signatureAlgorithm` is either a combined algorithm
 * (sha256WithRSAEncryption, ecdsa-with-SHA256 …) or a bare key algorithm (rsaEncryption, id-ecPublicKey,
 * as OpenSSL writes), in which case `digest` — the SignerInfo's digestAlgorithm — selects the hash.
 */
export function verifyCmsSignature(
  signatureAlgorithmOid: string,
  digest: DigestName,
  data: Buffer,
  signature: Buffer,
  publicKey: KeyObject,
): boolean | 'unsupported' {
  if (signatureAlgorithmOid === RSA_ENCRYPTION || signatureAlgorithmOid === EC_PUBLIC_KEY) {
    try {
      return verify(digest, data, publicKey, signature);
    } catch {
      return false;
    }
  }
  return verifyWithAlgorithm(signatureAlgorithmOid, data, signature, publicKey);
}
