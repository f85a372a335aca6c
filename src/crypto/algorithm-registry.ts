import { QerdsError } from '../core/errors.js';
import { OID } from './oids.js';
import type {
  AlgorithmEntry,
  AlgorithmKind,
  AlgorithmRegistry,
  AlgorithmStatus,
  AlgorithmUse,
} from './types.js';

const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';
const XMLDSIG_MORE = 'http://www.w3.org/2001/04/xmldsig-more#';
const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
const XMLENC11 = 'http://www.w3.org/2009/xmlenc11#';

const entry = (
  identifier: string,
  id: string,
  kind: AlgorithmKind,
  status: AlgorithmStatus,
): AlgorithmEntry => Object.freeze({ identifier, id, kind, status });

/**
 * The default policy, as data. SHA-1, PKCS#1 v1.5 key transport and CBC without integrity are the usual
 * suspects: SHA-1 collisions are practical; RSA PKCS#1 v1.5 decryption is a Bleichenbacher/Marvin oracle
 * (Node refuses it by default since CVE-2023-46809); unauthenticated CBC allows padding-oracle and
 * bit-flipping attacks on the content, which is why only AuthEnvelopedData is accepted at all.
 */
export const DEFAULT_ALGORITHMS: readonly AlgorithmEntry[] = Object.freeze([
  // digests
  entry(OID.sha256, 'sha256', 'digest', 'allowed'),
  entry(OID.sha384, 'sha384', 'digest', 'allowed'),
  entry(OID.sha512, 'sha512', 'digest', 'allowed'),
  entry(OID.sha1, 'sha1', 'digest', 'legacy'),
  entry(`${XMLENC}sha256`, 'sha256', 'digest', 'allowed'),
  entry(`${XMLDSIG_MORE}sha384`, 'sha384', 'digest', 'allowed'),
  entry(`${XMLENC}sha512`, 'sha512', 'digest', 'allowed'),
  entry(`${XMLDSIG}sha1`, 'sha1', 'digest', 'legacy'),
  // signatures (XML)
  entry(`${XMLDSIG_MORE}rsa-sha256`, 'rsa-sha256', 'signature', 'allowed'),
  entry(`${XMLDSIG_MORE}rsa-sha512`, 'rsa-sha512', 'signature', 'allowed'),
  entry(`${XMLDSIG_MORE}ecdsa-sha256`, 'ecdsa-sha256', 'signature', 'allowed'),
  entry('http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1', 'rsa-pss-sha256', 'signature', 'allowed'),
  entry(`${XMLDSIG}rsa-sha1`, 'rsa-sha1', 'signature', 'legacy'),
  // canonicalization
  entry('http://www.w3.org/2001/10/xml-exc-c14n#', 'exc-c14n', 'c14n', 'allowed'),
  entry('http://www.w3.org/2001/10/xml-exc-c14n#WithComments', 'exc-c14n-comments', 'c14n', 'legacy'),
  entry('http://www.w3.org/TR/2001/REC-xml-c14n-20010315', 'c14n10', 'c14n', 'allowed'),
  // key transport
  entry(OID.rsaesOaep, 'rsaes-oaep', 'key-transport', 'allowed'),
  entry(OID.rsaEncryption, 'rsaes-pkcs1-v1_5', 'key-transport', 'forbidden'),
  entry(`${XMLENC11}rsa-oaep`, 'rsaes-oaep', 'key-transport', 'allowed'),
  entry(`${XMLENC}rsa-oaep-mgf1p`, 'rsaes-oaep-sha1', 'key-transport', 'legacy'),
  entry(`${XMLENC}rsa-1_5`, 'rsaes-pkcs1-v1_5', 'key-transport', 'forbidden'),
  // key agreement (CMS: RFC 5753, RFC 8418)
  entry(OID.dhSinglePassStdDhSha256Kdf, 'ecdh-x963-sha256', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhSha384Kdf, 'ecdh-x963-sha384', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhSha512Kdf, 'ecdh-x963-sha512', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhSha1Kdf, 'ecdh-x963-sha1', 'key-agreement', 'legacy'),
  entry(OID.dhSinglePassStdDhHkdfSha256, 'ecdh-hkdf-sha256', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhHkdfSha384, 'ecdh-hkdf-sha384', 'key-agreement', 'allowed'),
  entry(OID.dhSinglePassStdDhHkdfSha512, 'ecdh-hkdf-sha512', 'key-agreement', 'allowed'),
  entry(`${XMLENC11}ECDH-ES`, 'ecdh-es', 'key-agreement', 'allowed'),
  // key wrap
  entry(OID.aes256Wrap, 'aes256-wrap', 'key-wrap', 'allowed'),
  entry(OID.aes192Wrap, 'aes192-wrap', 'key-wrap', 'allowed'),
  entry(OID.aes128Wrap, 'aes128-wrap', 'key-wrap', 'allowed'),
  entry(`${XMLENC}kw-aes256`, 'aes256-wrap', 'key-wrap', 'allowed'),
  entry(`${XMLENC}kw-aes128`, 'aes128-wrap', 'key-wrap', 'allowed'),
  // content encryption
  entry(OID.aes256Gcm, 'aes256-gcm', 'content-encryption', 'allowed'),
  entry(OID.aes192Gcm, 'aes192-gcm', 'content-encryption', 'legacy'),
  entry(OID.aes128Gcm, 'aes128-gcm', 'content-encryption', 'legacy'),
  entry(`${XMLENC11}aes256-gcm`, 'aes256-gcm', 'content-encryption', 'allowed'),
  entry(`${XMLENC11}aes128-gcm`, 'aes128-gcm', 'content-encryption', 'legacy'),
  entry(`${XMLENC}aes256-cbc`, 'aes256-cbc', 'content-encryption', 'forbidden'),
  entry(`${XMLENC}aes128-cbc`, 'aes128-cbc', 'content-encryption', 'forbidden'),
  entry(OID.aes256Cbc, 'aes256-cbc', 'content-encryption', 'forbidden'),
  entry('2.16.840.1.101.3.4.1.2', 'aes128-cbc', 'content-encryption', 'forbidden'),
]);

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
