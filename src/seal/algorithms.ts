import type { KeyObject } from 'node:crypto';
import { QerdsError } from '../core/errors.js';

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

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = [
  { uri: 'http://www.w3.org/2001/04/xmlenc#sha256', digest: 'sha256', status: 'allowed' },
  { uri: 'http://www.w3.org/2001/04/xmldsig-more#sha384', digest: 'sha384', status: 'allowed' },
  { uri: 'http://www.w3.org/2001/04/xmlenc#sha512', digest: 'sha512', status: 'allowed' },
  { uri: 'http://www.w3.org/2000/09/xmldsig#sha1', digest: 'sha1', status: 'forbidden' },
];

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = [
  {
    uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    digest: 'sha256',
    keyType: 'rsa',
    status: 'allowed',
  },
  {
    uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
    digest: 'sha384',
    keyType: 'rsa',
    status: 'allowed',
  },
  {
    uri: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
    digest: 'sha512',
    keyType: 'rsa',
    status: 'allowed',
  },
  {
    uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
    digest: 'sha256',
    keyType: 'ec',
    status: 'allowed',
  },
  {
    uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
    digest: 'sha384',
    keyType: 'ec',
    status: 'allowed',
  },
  {
    uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
    digest: 'sha512',
    keyType: 'ec',
    status: 'allowed',
  },
  { uri: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', digest: 'sha1', keyType: 'rsa', status: 'forbidden' },
  {
    uri: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1',
    digest: 'sha1',
    keyType: 'ec',
    status: 'forbidden',
  },
];

export const SHA256_URI = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const RSA_SHA256_URI = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const ECDSA_SHA256_URI = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';

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
