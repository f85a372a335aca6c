import { verify, type KeyObject } from 'node:crypto';
import { OID } from './oids.js';

/**
 * X.509 / CMS signature algorithm OIDs we verify, mapped to the node digest name (null: the key type fixes
 * it, as for EdDSA). SHA-1 and MD5 based signatures are absent on purpose: collisions make them forgeable.
 */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, string | null>> = Object.freeze({
  [OID.sha256WithRSAEncryption]: 'sha256',
  [OID.sha384WithRSAEncryption]: 'sha384',
  [OID.sha512WithRSAEncryption]: 'sha512',
  [OID.ecdsaWithSHA256]: 'sha256',
  [OID.ecdsaWithSHA384]: 'sha384',
  [OID.ecdsaWithSHA512]: 'sha512',
  [OID.ed25519]: null,
  [OID.ed448]: null,
});

/** Digest algorithm OIDs (NIST SHA-2) by node name, and back. */
export const DIGEST_OIDS = Object.freeze({
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
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
  if (signatureAlgorithmOid === OID.rsaEncryption || signatureAlgorithmOid === OID.ecPublicKey) {
    try {
      return verify(digest, data, publicKey, signature);
    } catch {
      return false;
    }
  }
  return verifyWithAlgorithm(signatureAlgorithmOid, data, signature, publicKey);
}
