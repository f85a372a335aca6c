import { QerdsError } from '../core/errors.js';
import { ALGORITHM_URI } from '../xml/namespaces.js';
import { OID } from '../pki/oids.js';
import type {
  AlgorithmEntry,
  AlgorithmKind,
  AlgorithmRegistry,
  AlgorithmStatus,
  AlgorithmUse,
  SignatureKeyType,
} from './types.js';

const U = ALGORITHM_URI;

const entry = (
  identifier: string,
  id: string,
  kind: AlgorithmKind,
  status: AlgorithmStatus,
  facts: Pick<AlgorithmEntry, 'hash' | 'keyType'> = {},
): AlgorithmEntry => Object.freeze({ identifier, id, kind, status, ...facts });
const digest = (identifier: string, hash: string, status: AlgorithmStatus) =>
  entry(identifier, hash, 'digest', status, { hash });
const signature = (
  identifier: string,
  id: string,
  hash: string | null,
  keyType: SignatureKeyType,
  status: AlgorithmStatus,
) => entry(identifier, id, 'signature', status, { hash, keyType });

/**
 * XMLDSig digest algorithms by URI (XMLDSig 1.1 §6.2, RFC 6931 §2.1.2, §2.1.5): a verifier of signatures other
 * products make computes each; those not `allowed` are weak (SHA-1: collisions are practical, SHAttered 2017).
 */
export const XML_DIGEST_ALGORITHMS: readonly AlgorithmEntry[] = Object.freeze([
  digest(U.sha1, 'sha1', 'legacy'),
  digest(U.sha224, 'sha224', 'allowed'),
  digest(U.sha256, 'sha256', 'allowed'),
  digest(U.sha384, 'sha384', 'allowed'),
  digest(U.sha512, 'sha512', 'allowed'),
  digest(U.sha3_256, 'sha3-256', 'allowed'),
  digest(U.sha3_384, 'sha3-384', 'allowed'),
  digest(U.sha3_512, 'sha3-512', 'allowed'),
]);

/**
 * XMLDSig signature algorithms by URI (XMLDSig 1.1 §6.4, RFC 6931 §2.3, RFC 9231 §2.3.6 for Ed25519): node's
 * digest name, the key type, PSS and EdDSA; those not `allowed` are weak (SHA-1 based).
 */
export const XML_SIGNATURE_ALGORITHMS: readonly AlgorithmEntry[] = Object.freeze([
  signature(U.rsaSha1, 'rsa-sha1', 'sha1', 'rsa', 'legacy'),
  signature(U.rsaSha224, 'rsa-sha224', 'sha224', 'rsa', 'allowed'),
  signature(U.rsaSha256, 'rsa-sha256', 'sha256', 'rsa', 'allowed'),
  signature(U.rsaSha384, 'rsa-sha384', 'sha384', 'rsa', 'allowed'),
  signature(U.rsaSha512, 'rsa-sha512', 'sha512', 'rsa', 'allowed'),
  signature(U.ecdsaSha1, 'ecdsa-sha1', 'sha1', 'ec', 'legacy'),
  signature(U.ecdsaSha224, 'ecdsa-sha224', 'sha224', 'ec', 'allowed'),
  signature(U.ecdsaSha256, 'ecdsa-sha256', 'sha256', 'ec', 'allowed'),
  signature(U.ecdsaSha384, 'ecdsa-sha384', 'sha384', 'ec', 'allowed'),
  signature(U.ecdsaSha512, 'ecdsa-sha512', 'sha512', 'ec', 'allowed'),
  signature(U.rsaPssSha256, 'rsa-pss-sha256', 'sha256', 'rsa-pss', 'allowed'),
  signature(U.rsaPssSha384, 'rsa-pss-sha384', 'sha384', 'rsa-pss', 'allowed'),
  signature(U.rsaPssSha512, 'rsa-pss-sha512', 'sha512', 'rsa-pss', 'allowed'),
  signature(U.eddsaEd25519, 'ed25519', null, 'ed25519', 'allowed'),
]);

/**
 * The default policy, as data. SHA-1, PKCS#1 v1.5 key transport and CBC without integrity are the usual
 * suspects: SHA-1 collisions are practical; RSA PKCS#1 v1.5 decryption is a Bleichenbacher/Marvin oracle
 * (Node refuses it by default since CVE-2023-46809); unauthenticated CBC allows padding-oracle and
 * bit-flipping attacks on the content, which is why only AuthEnvelopedData is accepted at all.
 */
export const DEFAULT_ALGORITHMS: readonly AlgorithmEntry[] = Object.freeze([
  // digests
  digest(OID.sha256, 'sha256', 'allowed'),
  digest(OID.sha384, 'sha384', 'allowed'),
  digest(OID.sha512, 'sha512', 'allowed'),
  digest(OID.sha1, 'sha1', 'legacy'),
  ...XML_DIGEST_ALGORITHMS,
  // signatures (XML)
  ...XML_SIGNATURE_ALGORITHMS,
  // canonicalization
  entry(U.excC14n, 'exc-c14n', 'c14n', 'allowed'),
  entry(U.excC14nWithComments, 'exc-c14n-comments', 'c14n', 'legacy'),
  entry(U.c14n10, 'c14n10', 'c14n', 'allowed'),
  // key transport
  entry(OID.rsaesOaep, 'rsaes-oaep', 'key-transport', 'allowed'),
  entry(OID.rsaEncryption, 'rsaes-pkcs1-v1_5', 'key-transport', 'forbidden'),
  entry(U.rsaOaep, 'rsaes-oaep', 'key-transport', 'allowed'),
  entry(U.rsaOaepMgf1p, 'rsaes-oaep-sha1', 'key-transport', 'legacy'),
  entry(U.rsa15, 'rsaes-pkcs1-v1_5', 'key-transport', 'forbidden'),
  // key agreement (CMS: RFC 5753, RFC 8418)
  entry(OID.dhSinglePassStdDhSha256Kdf, 'ecdh-x963-sha256', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhSha384Kdf, 'ecdh-x963-sha384', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhSha512Kdf, 'ecdh-x963-sha512', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhSha1Kdf, 'ecdh-x963-sha1', 'key-agreement', 'legacy'),
  entry(OID.dhSinglePassStdDhHkdfSha256, 'ecdh-hkdf-sha256', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhHkdfSha384, 'ecdh-hkdf-sha384', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhHkdfSha512, 'ecdh-hkdf-sha512', 'key-agreement', 'allowed'),
  entry(U.ecdhEs, 'ecdh-es', 'key-agreement', 'allowed'),
  // key wrap
  entry(OID.aes256Wrap, 'aes256-wrap', 'key-wrap', 'allowed'),
  entry(OID.aes192Wrap, 'aes192-wrap', 'key-wrap', 'allowed'),
  entry(OID.aes128Wrap, 'aes128-wrap', 'key-wrap', 'allowed'),
  entry(U.kwAes256, 'aes256-wrap', 'key-wrap', 'allowed'),
  entry(U.kwAes128, 'aes128-wrap', 'key-wrap', 'allowed'),
  // content encryption
  entry(OID.aes256Gcm, 'aes256-gcm', 'content-encryption', 'allowed'),
  entry(OID.aes192Gcm, 'aes192-gcm', 'content-encryption', 'legacy'),
  entry(OID.aes128Gcm, 'aes128-gcm', 'content-encryption', 'legacy'),
  entry(U.aes256Gcm, 'aes256-gcm', 'content-encryption', 'allowed'),
  entry(U.aes128Gcm, 'aes128-gcm', 'content-encryption', 'legacy'),
  entry(U.aes256Cbc, 'aes256-cbc', 'content-encryption', 'forbidden'),
  entry(U.aes128Cbc, 'aes128-cbc', 'content-encryption', 'forbidden'),
  entry(OID.aes256Cbc, 'aes256-cbc', 'content-encryption', 'forbidden'),
  entry('2.16.840.1.101.3.4.1.2', 'aes128-cbc', 'content-encryption', 'forbidden'),
]);

const XML_DIGESTS = new Map(XML_DIGEST_ALGORITHMS.map((e) => [e.identifier, e]));
const XML_SIGNATURES = new Map(XML_SIGNATURE_ALGORITHMS.map((e) => [e.identifier, e]));

/** The XMLDSig digest algorithm of a DigestMethod URI, or undefined when the URI names none. */
export function xmlDigestAlgorithm(uri: string): AlgorithmEntry | undefined {
  return XML_DIGESTS.get(uri);
}

/** The XMLDSig signature algorithm of a SignatureMethod URI, or undefined when the URI names none. */
export function xmlSignatureAlgorithm(uri: string): AlgorithmEntry | undefined {
  return XML_SIGNATURES.get(uri);
}

/** Weak: an algorithm the default policy only lets us read (SHA-1 based), never produce. */
export const isWeakAlgorithm = (e: AlgorithmEntry): boolean => e.status !== 'allowed';

export interface AlgorithmRegistryOptions {
  /** Change the status of known identifiers (e.g. make `legacy` SHA-1 `forbidden`). @defaultValue none */
  readonly statusOverrides?: Readonly<Record<string, AlgorithmStatus>>;
  /** Further entries; an identifier already known is replaced. @defaultValue none */
  readonly extra?: readonly AlgorithmEntry[];
}

/** A new registry holding DEFAULT_ALGORITHMS with the given changes. Each call returns its own instance. */
export function createAlgorithmRegistry(options: AlgorithmRegistryOptions = {}): AlgorithmRegistry {
  const table = new Map<string, AlgorithmEntry>();
  for (const e of [...DEFAULT_ALGORITHMS, ...(options.extra ?? [])]) table.set(e.identifier, e);
  for (const [identifier, status] of Object.entries(options.statusOverrides ?? {})) {
    const known = table.get(identifier);
    if (!known)
      throw new QerdsError('CRYPTO_UNSUPPORTED_ALGORITHM', `cannot override unknown algorithm ${identifier}`);
    table.set(identifier, Object.freeze({ ...known, status }));
  }
  const frozen = Object.freeze([...table.values()]);
  return Object.freeze({
    lookup: (identifier: string) => table.get(identifier),
    entries: () => frozen,
    require(identifier: string, kind: AlgorithmKind, use: AlgorithmUse): AlgorithmEntry {
      const found = table.get(identifier);
      if (!found || found.kind !== kind) {
        throw new QerdsError(
          'CRYPTO_UNSUPPORTED_ALGORITHM',
          `${kind} algorithm ${identifier} is not supported`,
          {
            details: { identifier, kind },
          },
        );
      }
      if (found.status === 'forbidden' || (found.status === 'legacy' && use === 'produce')) {
        throw new QerdsError(
          'CRYPTO_ALGORITHM_FORBIDDEN',
          `${kind} algorithm ${found.id} (${identifier}) is ${found.status} by policy`,
          {
            details: { identifier, id: found.id, kind, status: found.status, use },
          },
        );
      }
      return found;
    },
  });
}

/**
 * The one exception to the policy above, for S/MIME mail to people (REM Dispatch mails, src/smtp/rem-encrypt.ts)
 * and nothing else: AES-256-CBC EnvelopedData with RSA PKCS#1 v1.5 key transport, produced and read.
 * Why: Outlook (classic) and Thunderbird do not open AuthEnvelopedData/AES-GCM (jstedfast/MimeKit#1149:
 * "no common client currently supports this algorithm… With Outlook I can only view the header"), and the
 * PKCS#7 decoders of the mail world decrypt RSA key transport only as PKCS#1 v1.5 (`openssl smime -decrypt`
 * fails on an RSA-OAEP KeyTransRecipientInfo; RFC 8551 §2.3 makes v1.5 the MUST for receiving agents).
 * Why it stays narrow: the AS4 payload path (E2E) and every other caller use createAlgorithmRegistry(), which
 * keeps both `forbidden`; the mail is signed inside the envelope, so an altered CBC ciphertext fails the
 * signature check, and we never decrypt PKCS#1 v1.5 as an online service (no Bleichenbacher oracle on our
 * side; the reader, `qerds verify`, uses implicit rejection, see key-transport.ts).
 */
export const MAIL_INTEROP_OVERRIDES: Readonly<Record<string, AlgorithmStatus>> = Object.freeze({
  [OID.aes256Cbc]: 'allowed',
  [OID.rsaEncryption]: 'allowed',
});

/** The registry for S/MIME mail interop only (see MAIL_INTEROP_OVERRIDES); a new instance per call. */
export function createMailInteropRegistry(): AlgorithmRegistry {
  return createAlgorithmRegistry({ statusOverrides: MAIL_INTEROP_OVERRIDES });
}
