import type { KeyObject, X509Certificate } from 'node:crypto';

/** What an algorithm is used for. */
export type AlgorithmKind =
  'digest' | 'signature' | 'c14n' | 'key-transport' | 'key-agreement' | 'key-wrap' | 'content-encryption';

/**
 * Policy status: `allowed` may be produced and consumed; `legacy` may only be consumed (decrypt, verify)
 * so old material stays readable; `forbidden` is refused both ways.
 */
export type AlgorithmStatus = 'allowed' | 'legacy' | 'forbidden';

/** One algorithm known by its W3C URI or its dotted OID. */
export interface AlgorithmEntry {
  /** The URI or dotted OID that names the algorithm on the wire. */
  readonly identifier: string;
  /** Short stable name, e.g. `aes256-gcm`, `rsaes-oaep`, `ecdh-x963-sha256`. */
  readonly id: string;
  readonly kind: AlgorithmKind;
  readonly status: AlgorithmStatus;
  /**
   * node:crypto digest name of a digest or signature algorithm (`sha256`, `sha3-256`…); null for EdDSA, whose
   * hash is part of the scheme. Absent for other kinds.
   */
  readonly hash?: string | null;
  /** The key a signature algorithm runs with; `rsa-pss` is RSASSA-PSS with MGF1 of the same hash. */
  readonly keyType?: SignatureKeyType;
}

export type SignatureKeyType = 'rsa' | 'rsa-pss' | 'ec' | 'ed25519';

/** `produce`: we create it (needs `allowed`); `consume`: we read what someone else made (`legacy` is fine). */
export type AlgorithmUse = 'produce' | 'consume';

/** The algorithm registry (crypto agility): an instance handed to whoever needs it, never a global. */
export interface AlgorithmRegistry {
  lookup(identifier: string): AlgorithmEntry | undefined;
  /**
   * The entry for `identifier` when it is of `kind` and its status permits `use`. Throws
   * CRYPTO_UNSUPPORTED_ALGORITHM for an unknown identifier or a kind mismatch and
   * CRYPTO_ALGORITHM_FORBIDDEN when policy refuses it.
   */
  require(identifier: string, kind: AlgorithmKind, use: AlgorithmUse): AlgorithmEntry;
  entries(): readonly AlgorithmEntry[];
}

/** A CMS Attribute (RFC 5652 §5.3): `values` are the DER encodings of the AttributeValues. */
export interface CmsAttribute {
  readonly type: string;
  readonly values: readonly Buffer[];
}

export interface EncryptCmsOptions {
  /** Policy for the algorithms we produce. @defaultValue a fresh `createAlgorithmRegistry()` */
  readonly registry?: AlgorithmRegistry;
  /**
   * Authenticated attributes (RFC 5083 `authAttrs`): covered by the GCM tag, not encrypted.
   * @defaultValue none
   */
  readonly authenticatedAttributes?: readonly CmsAttribute[];
  /**
   * Identify recipients by subjectKeyIdentifier instead of issuerAndSerialNumber (like `openssl cms -keyid`).
   * Certificates without the extension fall back to issuerAndSerialNumber. @defaultValue false
   */
  readonly useSubjectKeyIdentifier?: boolean;
  /**
   * `aes256-gcm`: AuthEnvelopedData (RFC 5083/5084). `aes256-cbc`: EnvelopedData (RFC 5652 §6, RFC 3565) for
   * S/MIME mail clients; the registry must allow it (createMailInteropRegistry). @defaultValue `aes256-gcm`
   */
  readonly contentEncryption?: ContentEncryptionChoice;
  /**
   * RSA key transport: `rsaes-oaep` (SHA-256) or `rsaes-pkcs1-v1_5` (what mail clients decrypt; the registry
   * must allow it). @defaultValue `rsaes-oaep`
   */
  readonly rsaKeyTransport?: RsaKeyTransportChoice;
}

export type ContentEncryptionChoice = 'aes256-gcm' | 'aes256-cbc';
export type RsaKeyTransportChoice = 'rsaes-oaep' | 'rsaes-pkcs1-v1_5';

export interface DecryptCmsOptions {
  /** The recipient's private key. */
  readonly privateKey: KeyObject;
  /** The recipient's certificate: selects the RecipientInfo addressed to us. */
  readonly certificate: X509Certificate;
  /** Policy for the algorithms we accept. @defaultValue a fresh `createAlgorithmRegistry()` */
  readonly registry?: AlgorithmRegistry;
}

/** What decryptCms found besides the plaintext. */
export interface DecryptCmsResult {
  readonly plaintext: Buffer;
  /** Content-encryption algorithm id from the registry, e.g. `aes256-gcm`. */
  readonly contentEncryption: string;
  /** Key transport / agreement algorithm id of the RecipientInfo that opened the message. */
  readonly keyManagement: string;
  readonly authenticatedAttributes: readonly CmsAttribute[];
}
