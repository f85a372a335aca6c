/**
 * The one table of algorithm and CMS object identifiers, for X.509 and OCSP (pki), signing (SignedData, CAdES,
 * RFC 3161 tokens) and end-to-end encryption: RFC 5652 (CMS), RFC 2634 / 5035 (ESS), RFC 3161 / 5816 (TSP),
 * RFC 5754 (signature algorithms), RFC 5083 (AuthEnvelopedData), RFC 5084 (AES-GCM), RFC 3560 / 8017 (RSAES-OAEP),
 * RFC 5753 (ECDH in CMS), RFC 8418 (X25519 in CMS), RFC 3394 / 3565 (AES key wrap), RFC 8410 (X25519 and EdDSA
 * keys). It sits in pki, the lowest layer that needs it, so that crypto, timestamp and seal read the same values.
 */
export const OID = Object.freeze({
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',

  aes128Gcm: '2.16.840.1.101.3.4.1.6',
  /** AES-256-CBC (RFC 3565): EnvelopedData for S/MIME mail clients only, see MAIL_INTEROP_OVERRIDES. */
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  aes192Gcm: '2.16.840.1.101.3.4.1.26',
  aes256Gcm: '2.16.840.1.101.3.4.1.46',
  aes128Wrap: '2.16.840.1.101.3.4.1.5',
  aes192Wrap: '2.16.840.1.101.3.4.1.25',
  aes256Wrap: '2.16.840.1.101.3.4.1.45',

  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  /** id-RSASSA-PSS (RFC 4055 §3.1): what qualified TSAs (D-Trust, …) and eIDAS cards sign with. */
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  pSpecified: '1.2.840.113549.1.1.9',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',

  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  x25519: '1.3.101.110',

  /** RFC 5753 §7.1.4: ECDH with the ANSI X9.63 KDF. */
  dhSinglePassStdDhSha1Kdf: '1.3.133.16.840.63.0.2',
  dhSinglePassStdDhSha256Kdf: '1.3.132.1.11.1',
  dhSinglePassStdDhSha384Kdf: '1.3.132.1.11.2',
  dhSinglePassStdDhSha512Kdf: '1.3.132.1.11.3',
  /** RFC 8418 §2.2: ECDH (X25519 / X448) with HKDF. */
  dhSinglePassStdDhHkdfSha256: '1.2.840.113549.1.9.16.3.19',
  dhSinglePassStdDhHkdfSha384: '1.2.840.113549.1.9.16.3.20',
  dhSinglePassStdDhHkdfSha512: '1.2.840.113549.1.9.16.3.21',

  /** Signed attributes (RFC 5652 §11). */
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  /** ESS SigningCertificate (ESSCertID, SHA-1): RFC 2634 §5.4. */
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  /** ESS SigningCertificateV2 (ESSCertIDv2): RFC 5035 §3, required for TSAs by RFC 5816. */
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  /** CAdES / RFC 3161 appendix A: the unsigned signature-time-stamp attribute. */
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  /** RFC 3161 §2.4.2: eContentType of a time-stamp token. */
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  /** RFC 3161 §2.3: the extended key usage a TSA certificate must carry (critical, alone). */
  timeStamping: '1.3.6.1.5.5.7.3.8',

  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  /** RFC 8410 §3: EdDSA, the key type fixes the hash. */
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
});
