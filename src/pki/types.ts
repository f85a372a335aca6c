import type { KeyObject, X509Certificate } from 'node:crypto';

/** A private key with its certificate: the AP's e-seal, its TLS identity, a TSA, a recipient. */
export interface SigningIdentity {
  readonly privateKey: KeyObject;
  readonly certificate: X509Certificate;
  /** Intermediate certificates, leaf's issuer first; empty when the leaf is issued by a trust anchor. */
  readonly chain: readonly X509Certificate[];
}

/** One finding of a validation: validators return lists of these; callers decide what to throw. */
export interface Finding {
  readonly code: string;
  readonly message: string;
  readonly severity: 'error' | 'warning' | 'info';
}

export interface PathValidationResult {
  readonly valid: boolean;
  /** Leaf first, anchor last, when a path was built. */
  readonly path: readonly X509Certificate[];
  readonly findings: readonly Finding[];
}

/** Trust anchors and the checks of a certificate path against them (RFC 5280, simplified). */
export interface TrustStore {
  readonly anchors: readonly X509Certificate[];
  /**
   * The CRLs the store checks revocation against (DER or PEM): embedded in B-LT seals. Read it at each use:
   * a store over a `CrlSet` answers the refreshed CRLs here.
   */
  readonly crls: readonly (Buffer | string)[];
  /** Validate `leaf` at time `at` (the signing time, not today), using `intermediates` to build the path. */
  validate(
    leaf: X509Certificate,
    options?: { at?: Date; intermediates?: readonly X509Certificate[] },
  ): PathValidationResult;
}

/** Where `qerds pki init` puts things, relative to its directory. */
export interface DevPkiLayout {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly caCrl: string;
  readonly tsaCert: string;
  readonly tsaKey: string;
  /** The signed ETSI TS 119 612 trusted list naming the CA, the TSA and the APs' seals (DEV ONLY). */
  readonly trustList: string;
  /** The list signer: a certificate with the tslSigning EKU issued by the dev CA, and its key. */
  readonly tlSignerCert: string;
  readonly tlSignerKey: string;
  /**
   * Per AP name (`c2`, `c3`): seal, TLS and AS4 encryption identities (`encCert`/`encKey`: RSA, keyUsage
   * keyEncipherment, what peers encrypt AS4 payloads for under eDelivery AS4 1.15).
   */
  ap(name: string): {
    sealCert: string;
    sealKey: string;
    sealP12: string;
    tlsCert: string;
    tlsKey: string;
    encCert: string;
    encKey: string;
  };
  /**
   * Per AP name, in a PKI made with EC signing keys (`qerds pki init --key ec`): an RSA-2048 AS4 signing
   * certificate and key (`<name>/as4-sign.*.pem`), since the AS4 P-Modes sign with RSA (eDelivery AS4 1.15) or
   * Ed25519 (2.0), never ECDSA; for an AP with a Peppol seat (`--peppol-seat`): its Peppol AP certificate. `as4.signingCert`/`signingKey` default to them when they exist, else to the e-seal.
   * Kept out of `ap()`, whose files every dev PKI holds.
   */
  as4Signing(name: string): { cert: string; key: string };
  /**
   * Per AP name, the AS4 identity of eDelivery AS4 2.0 (`as4.profile: edelivery-2.0`), in every dev PKI: an Ed25519
   * signing certificate (keyUsage digitalSignature, `<name>/as4-ed25519.*.pem`) and an X25519 encryption certificate
   * (keyUsage keyAgreement, `<name>/enc-x25519.*.pem`), both issued by the dev CA. On that profile `as4.signingCert`
   * and `as4.encryptionCert` default to them (config/files.ts); on 1.15 they are unused.
   */
  edelivery2(name: string): { signCert: string; signKey: string; encCert: string; encKey: string };
  /**
   * The dev stand-in of the OpenPeppol AP test CA (`qerds pki init --peppol-seat`, dev-peppol-pki.ts), kept apart from
   * the dev CA as the real AP CA is apart from the QTSPs of the seals: `anchorsDir` is laid out like certs/peppol
   * (`ap-test/peppol-ap-test-ca-g3.pem`), so `pki.peppolAnchors: { network: test, generations: [G3], dir: anchorsDir }`
   * selects it; its CRL goes into `pki.trust`.
   */
  readonly peppolApCa: { anchorsDir: string; cert: string; key: string; crl: string };
  /** Per recipient name: encryption certificate and key. */
  recipient(name: string): { cert: string; key: string };
}

/** How an ECDSA signature value is written: DER SEQUENCE { r, s } (CMS, RFC 5753) or r || s (XMLDSig 1.1 §6.4.3). */
export type EcdsaSignatureEncoding = 'der' | 'ieee-p1363';

/**
 * A signing key wherever it lives (in this process, or in a PKCS#11 token that never lets it out), with its
 * certificate. Sealers (XAdES, CAdES) sign through this, so they need not know where the key is.
 */
export interface Signer {
  readonly certificate: X509Certificate;
  /** Intermediate certificates, leaf's issuer first; empty when the leaf is issued by a trust anchor. */
  readonly chain: readonly X509Certificate[];
  /** The key's algorithm family, taken from the certificate's public key. */
  readonly keyType: 'rsa' | 'ec';
  /** Where the private key is: `software` (a node KeyObject) or `pkcs11` (a token). */
  readonly keyStore: 'software' | 'pkcs11';
  /**
   * Sign `data`: RSA PKCS#1 v1.5 or ECDSA over the `digest` (sha256, sha384, sha512) of `data`;
   * `dsaEncoding` only matters for ECDSA.
   */
  sign(
    data: Buffer,
    options: {
      readonly digest: 'sha256' | 'sha384' | 'sha512';
      readonly dsaEncoding: EcdsaSignatureEncoding;
    },
  ): Promise<Buffer>;
}
