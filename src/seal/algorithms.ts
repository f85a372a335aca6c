import type { KeyObject } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import {
  isWeakAlgorithm,
  xmlDigestAlgorithm,
  xmlSignatureAlgorithm,
  type AlgorithmEntry,
} from '../crypto/index.js';
import { ALGORITHM_URI } from '../xml/index.js';

/**
 * XMLDSig algorithms the seal module knows, identified by their W3C URI (RFC 6931). A URI that is not
 * here is "not supported"; `forbidden` ones are refused unless the caller opts in.
 * Threat: SHA-1 collisions (SHAttered, 2017) let an attacker produce two documents with one signature.
 */
export type AlgorithmStatus = 'allowed' | 'forbidden';
export type DigestName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface DigestAlgorithm {
  readonly uri: string;
  readonly digest: DigestName;
  readonly status: AlgorithmStatus;
}

export interface SignatureAlgorithm {
  readonly uri: string;
  readonly digest: DigestName;
  readonly keyType: 'rsa' | 'ec';
  readonly status: AlgorithmStatus;
}

const U = ALGORITHM_URI;

/** The seal profile's choice among the registry's algorithms; what each one is comes from the registry. */
const SEAL_DIGESTS = [U.sha256, U.sha384, U.sha512, U.sha1] as const;
const SEAL_SIGNATURES = [
  U.rsaSha256,
  U.rsaSha384,
  U.rsaSha512,
  U.ecdsaSha256,
  U.ecdsaSha384,
  U.ecdsaSha512,
  U.rsaSha1,
  U.ecdsaSha1,
] as const;

/** The registry's weak (legacy: read-only) algorithms are `forbidden` here unless the caller opts in. */
const statusOf = (e: AlgorithmEntry): AlgorithmStatus => (isWeakAlgorithm(e) ? 'forbidden' : 'allowed');

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = SEAL_DIGESTS.map((uri) => {
  const e = xmlDigestAlgorithm(uri)!;
  return { uri, digest: e.hash as DigestName, status: statusOf(e) };
});

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = SEAL_SIGNATURES.map((uri) => {
  const e = xmlSignatureAlgorithm(uri)!;
  return { uri, digest: e.hash as DigestName, keyType: e.keyType as 'rsa' | 'ec', status: statusOf(e) };
});

export const SHA256_URI = U.sha256;
export const RSA_SHA256_URI = U.rsaSha256;
export const ECDSA_SHA256_URI = U.ecdsaSha256;

/** Look a digest algorithm up; throws SEAL_ALGORITHM_UNSUPPORTED / SEAL_ALGORITHM_FORBIDDEN. */
export function digestAlgorithm(uri: string, allowForbidden = false): DigestAlgorithm {
  return checked(
    DIGEST_ALGORITHMS.find((a) => a.uri === uri),
    uri,
    allowForbidden,
  );
}

/** Look a signature algorithm up; throws SEAL_ALGORITHM_UNSUPPORTED / SEAL_ALGORITHM_FORBIDDEN. */
export function signatureAlgorithm(uri: string, allowForbidden = false): SignatureAlgorithm {
  return checked(
    SIGNATURE_ALGORITHMS.find((a) => a.uri === uri),
    uri,
    allowForbidden,
  );
}

function checked<T extends { status: AlgorithmStatus }>(
  found: T | undefined,
  uri: string,
  allowForbidden: boolean,
): T {
  if (!found)
    throw new QerdsError('SEAL_ALGORITHM_UNSUPPORTED', `algorithm not supported: ${uri}`, {
      details: { uri },
    });
  if (found.status === 'forbidden' && !allowForbidden) {
    throw new QerdsError('SEAL_ALGORITHM_FORBIDDEN', `algorithm refused as unsafe: ${uri}`, {
      details: { uri },
    });
  }
  return found;
}

/** The default signature algorithm for a key: RSA → rsa-sha256, EC → ecdsa-sha256. */
export function defaultSignatureAlgorithm(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return RSA_SHA256_URI;
  if (key.asymmetricKeyType === 'ec') return ECDSA_SHA256_URI;
  throw new QerdsError(
    'SEAL_ALGORITHM_UNSUPPORTED',
    `no signature algorithm for ${key.asymmetricKeyType ?? 'unknown'} keys`,
  );
}

/** Key type check: a signature algorithm only runs with the key type it names. */
export function keyMatches(alg: SignatureAlgorithm, key: KeyObject): boolean {
  return key.asymmetricKeyType === alg.keyType;
}
