import { createHash, sign, type KeyObject, type X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import {
  derAlgorithmIdentifier,
  derAttribute,
  derObjectIdentifier,
  derSetOf,
  derTime,
  derTlv,
  DIGEST_OIDS,
  issuerAndSerialNumberDer,
  issuerSerialDer,
  type DigestName,
  type Signer,
  type SigningIdentity,
} from '../pki/index.js';
import { OID } from '../pki/oids.js';

/**
 * The one CMS SignedData builder (RFC 5652 §5) for one signer, signing with node:crypto and writing DER directly
 * (no ASN.1 object model on the hot path). It serves the S/MIME signature of REM messages (`signCmsData`,
 * RFC 8551 §3.5.3), CAdES detached seals (seal/cades-seal.ts) and RFC 3161 tokens (timestamp/authority.ts).
 * Signed attributes: content-type, signing-time, message-digest and ESS signing-certificate-v2 (RFC 5035),
 * which binds the signer's certificate into the signature (EN 319 122-1 requires it for CAdES baseline,
 * RFC 5816 for TSAs), plus any the caller adds.
 */
export interface CmsSignOptions {
  readonly content: Buffer;
  readonly signer: SigningIdentity;
  /** Leave the content out of the SignedData (S/MIME multipart/signed). @defaultValue true */
  readonly detached?: boolean;
  /** The signing-time attribute. @defaultValue now */
  readonly signingTime?: Date;
  /** Put the signer's certificate and chain into `certificates`. @defaultValue true */
  readonly includeCertificates?: boolean;
}

/** The OIDs of CMS SignedData (a view of the CMS OID table, kept for callers of the former export). */
export const CMS_SIGNED_DATA_OID = Object.freeze({
  data: OID.data,
  signedData: OID.signedData,
  contentType: OID.contentType,
  messageDigest: OID.messageDigest,
  signingTime: OID.signingTime,
  signingCertificateV2: OID.signingCertificateV2,
});

interface SignatureScheme {
  readonly digest: DigestName;
  readonly algorithm: string;
  /** RSA PKCS#1 v1.5 AlgorithmIdentifiers carry NULL parameters; ECDSA ones have none (RFC 5754 §3). */
  readonly nullParameters: boolean;
  /** micalg value of multipart/signed (RFC 8551 §3.5.3.2). */
  readonly micalg: string;
}

const RSA_ALGORITHM: Record<DigestName, string> = {
  sha256: OID.sha256WithRSAEncryption,
  sha384: OID.sha384WithRSAEncryption,
  sha512: OID.sha512WithRSAEncryption,
};
const ECDSA_ALGORITHM: Record<DigestName, string> = {
  sha256: OID.ecdsaWithSHA256,
  sha384: OID.ecdsaWithSHA384,
  sha512: OID.ecdsaWithSHA512,
};
const CURVE_DIGEST: Record<string, DigestName> = {
  prime256v1: 'sha256',
  secp384r1: 'sha384',
  secp521r1: 'sha512',
};

/**
 * The signature scheme of a key: RSA PKCS#1 v1.5 (SHA-256 unless `digest` says otherwise), or ECDSA with the
 * digest of its curve (P-256/384/521) or with `digest` when the caller fixes it (CAdES seals use SHA-256).
 */
export function cmsSignatureScheme(key: KeyObject, digest?: DigestName): SignatureScheme {
  const micalg = (d: DigestName) => `sha-${d.slice(3)}`;
  if (key.asymmetricKeyType === 'rsa') {
    const d = digest ?? 'sha256';
    return { digest: d, algorithm: RSA_ALGORITHM[d], nullParameters: true, micalg: micalg(d) };
  }
  if (key.asymmetricKeyType === 'ec') {
    const d = digest ?? CURVE_DIGEST[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (d) return { digest: d, algorithm: ECDSA_ALGORITHM[d], nullParameters: false, micalg: micalg(d) };
  }
  throw new QerdsError(
    'CRYPTO_KEY_UNSUPPORTED',
    `CMS signing keys must be RSA or ECDSA P-256/384/521, not ${key.asymmetricKeyType}`,
  );
}

/** SigningCertificateV2 (RFC 5035 §3) with one ESSCertIDv2: SHA-256 (the DEFAULT, so omitted), issuer and serial. */
export function signingCertificateV2Der(cert: X509Certificate): Buffer {
  const essCertIdV2 = derTlv(
    0x30,
    derTlv(0x04, createHash('sha256').update(cert.raw).digest()),
    issuerSerialDer(cert),
  );
  return derTlv(0x30, derTlv(0x30, essCertIdV2));
}

/** What a signer contributes to every SignedData: encoded once per identity, reused for each signature. */
export interface CmsSigner {
  readonly privateKey: KeyObject;
  readonly scheme: SignatureScheme;
  /** SignerIdentifier: IssuerAndSerialNumber, slices of the certificate as issued. */
  readonly sid: Buffer;
  /** The ESS signing-certificate-v2 attribute. */
  readonly signingCertificateAttribute: Buffer;
  /** The certificates field, [0] IMPLICIT SET OF: the signer's certificate and its chain, as DER sorts them. */
  readonly certificatesField: Buffer;
  /** The digestAlgorithm AlgorithmIdentifier of the scheme (SignerInfo, and the SignedData's digestAlgorithms). */
  readonly digestAlgorithm: Buffer;
  /** The signatureAlgorithm AlgorithmIdentifier of the scheme. */
  readonly signatureAlgorithm: Buffer;
}

/** Encode the per-identity parts of a signer once (a TSA signs many tokens with one identity). */
export function prepareCmsSigner(identity: SigningIdentity, digest?: DigestName): CmsSigner {
  return { privateKey: identity.privateKey, ...cmsSignerParts(identity, identity.privateKey, digest) };
}

/** The parts of a SignerInfo that depend on the certificate only; `key` (private or public) fixes the scheme. */
function cmsSignerParts(
  identity: { readonly certificate: X509Certificate; readonly chain: readonly X509Certificate[] },
  key: KeyObject,
  digest?: DigestName,
): Omit<CmsSigner, 'privateKey'> {
  const scheme = cmsSignatureScheme(key, digest);
  return {
    scheme,
    digestAlgorithm: derAlgorithmIdentifier(DIGEST_OIDS[scheme.digest]),
    signatureAlgorithm: derAlgorithmIdentifier(scheme.algorithm, scheme.nullParameters),
    sid: issuerAndSerialNumberDer(identity.certificate),
    signingCertificateAttribute: derAttribute(
      OID.signingCertificateV2,
      signingCertificateV2Der(identity.certificate),
    ),
    certificatesField: derSetOf(
      [identity.certificate, ...identity.chain].map((c) => c.raw),
      0xa0,
    ),
  };
}

export interface CmsSignedDataOptions {
  /** @defaultValue id-data */
  readonly eContentType?: string;
  /** The content, or (for a detached signature) its digest under the signer's digest algorithm, taken while streaming. */
  readonly content: Buffer | { readonly digest: Buffer };
  /** Put the content into the SignedData as eContent instead of leaving it detached. @defaultValue false */
  readonly encapsulate?: boolean;
  readonly signingTime: Date;
  /** Signed attributes beyond content-type, signing-time, message-digest and signing-certificate-v2. */
  readonly signedAttributes?: readonly Buffer[];
  /** Include the signer's certificates field. @defaultValue true */
  readonly includeCertificates?: boolean;
}

/** A signature made, waiting for its unsigned attributes (a CAdES signature-time-stamp covers `signature`). */
export interface CmsSignature {
  /** The SignatureValue octets. */
  readonly signature: Buffer;
  /** The DER ContentInfo holding the SignedData, with these unsigned attributes (DER Attributes) in the SignerInfo. */
  encode(unsignedAttributes?: readonly Buffer[]): Buffer;
}

/** Sign: the signature over the signed attributes is made now; the ContentInfo is written by `encode`. */
export function createCmsSignature(signer: CmsSigner, options: CmsSignedDataOptions): CmsSignature {
  const draft = draftCmsSignature(signer, options);
  return draft.withSignature(
    sign(signer.scheme.digest, draft.signedAttributes, { key: signer.privateKey, dsaEncoding: 'der' }),
  );
}

/**
 * {@link createCmsSignature} with a {@link Signer} whose key may be out of reach (a PKCS#11 token): the
 * signature is awaited. The scheme follows the certificate's public key.
 */
export async function createCmsSignatureWith(
  signer: Signer,
  options: CmsSignedDataOptions,
  digest?: DigestName,
): Promise<CmsSignature> {
  const parts = cmsSignerParts(signer, signer.certificate.publicKey, digest);
  const draft = draftCmsSignature(parts, options);
  return draft.withSignature(
    await signer.sign(draft.signedAttributes, { digest: parts.scheme.digest, dsaEncoding: 'der' }),
  );
}

/** The signed attributes to sign, and how to write the ContentInfo once their signature is there. */
function draftCmsSignature(
  signer: Omit<CmsSigner, 'privateKey'>,
  options: CmsSignedDataOptions,
): { readonly signedAttributes: Buffer; withSignature(signature: Buffer): CmsSignature } {
  const { scheme } = signer;
  const eContentType = options.eContentType ?? OID.data;
  const content = options.content;
  const isBytes = Buffer.isBuffer(content);
  if (options.encapsulate && !isBytes)
    throw new QerdsError('CRYPTO_MALFORMED', 'encapsulated content needs the content, not its digest');
  const digest = isBytes ? createHash(scheme.digest).update(content).digest() : content.digest;
  const eContentTypeDer = derObjectIdentifier(eContentType);
  const signedAttributes = derSetOf([
    derAttribute(OID.contentType, eContentTypeDer),
    derAttribute(OID.signingTime, derTime(options.signingTime)),
    derAttribute(OID.messageDigest, derTlv(0x04, digest)),
    signer.signingCertificateAttribute,
    ...(options.signedAttributes ?? []),
  ]);
  return {
    signedAttributes,
    withSignature: (signature) => ({
      signature,
      encode: (unsigned) =>
        encodeSignedData(signer, options, eContentTypeDer, signedAttributes, signature, unsigned),
    }),
  };
}

/** The DER ContentInfo holding the SignedData of one signer, its signed attributes signed by `signature`. */
function encodeSignedData(
  signer: Omit<CmsSigner, 'privateKey'>,
  options: CmsSignedDataOptions,
  eContentTypeDer: Buffer,
  signedAttributes: Buffer,
  signature: Buffer,
  unsignedAttributes: readonly Buffer[] = [],
): Buffer {
  // RFC 5652 §5.4: the signature covers the DER SET OF the attributes; the SignerInfo carries the same octets
  // under [0] IMPLICIT, so the two differ only in the tag.
  const signedAttributesField = Buffer.from(signedAttributes);
  signedAttributesField[0] = 0xa0;
  const signerInfo = derTlv(
    0x30,
    VERSION_1, // version 1: sid is issuerAndSerialNumber
    signer.sid,
    signer.digestAlgorithm,
    signedAttributesField,
    signer.signatureAlgorithm,
    derTlv(0x04, signature),
    ...(unsignedAttributes.length > 0 ? [derSetOf(unsignedAttributes, 0xa1)] : []),
  );
  const eContentType = options.eContentType ?? OID.data;
  const signedData = derTlv(
    0x30,
    // RFC 5652 §5.1: version 3 when eContentType is not id-data, else 1 (plain certificates, v1 SignerInfo).
    eContentType === OID.data ? VERSION_1 : VERSION_3,
    derTlv(0x31, signer.digestAlgorithm),
    derTlv(
      0x30,
      eContentTypeDer,
      ...(options.encapsulate ? [derTlv(0xa0, derTlv(0x04, options.content as Buffer))] : []),
    ),
    ...(options.includeCertificates === false ? [] : [signer.certificatesField]),
    derTlv(0x31, signerInfo),
  );
  return derTlv(0x30, SIGNED_DATA_OID, derTlv(0xa0, signedData));
}

const VERSION_1 = Buffer.from([0x02, 0x01, 0x01]);
const VERSION_3 = Buffer.from([0x02, 0x01, 0x03]);
const SIGNED_DATA_OID = derObjectIdentifier(OID.signedData);

/** DER of a ContentInfo holding SignedData (eContentType id-data) over `content`, signed by `signer`. */
export function signCmsData(options: CmsSignOptions): Buffer {
  return createCmsSignature(prepareCmsSigner(options.signer), {
    content: options.content,
    encapsulate: options.detached === false,
    signingTime: options.signingTime ?? new Date(),
    includeCertificates: options.includeCertificates !== false,
  }).encode();
}
