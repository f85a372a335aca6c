import { createHash, sign, type KeyObject, type X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { QerdsError } from '../core/errors.js';
import { certificateNameDer, derChildren, derTlv, DIGEST_OIDS, readDerElement, type DigestName, type SigningIdentity } from '../pki/index.js';

/**
 * A small CMS SignedData builder (RFC 5652 §5) for one signer, signing with node:crypto: the S/MIME signature
 * of REM messages (detached, RFC 8551 §3.5.3) and any other CAdES-B-B style signature over bytes. Signed
 * attributes: content-type, signing-time, message-digest and ESS signing-certificate-v2 (RFC 5035), which
 * binds the signer's certificate into the signature (EN 319 122-1 requires it for CAdES baseline).
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

export const CMS_SIGNED_DATA_OID = Object.freeze({
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
});

interface SignatureScheme {
  readonly digest: DigestName;
  readonly algorithm: string;
  /** RSA PKCS#1 v1.5 AlgorithmIdentifiers carry NULL parameters; ECDSA ones have none (RFC 5754 §3). */
  readonly nullParameters: boolean;
  /** micalg value of multipart/signed (RFC 8551 §3.5.3.2). */
  readonly micalg: string;
}

/** The signature scheme of a key: RSA PKCS#1 v1.5 with SHA-256, or ECDSA with the digest of its curve. */
export function cmsSignatureScheme(key: KeyObject): SignatureScheme {
  if (key.asymmetricKeyType === 'rsa') return { digest: 'sha256', algorithm: '1.2.840.113549.1.1.11', nullParameters: true, micalg: 'sha-256' };
  if (key.asymmetricKeyType === 'ec') {
    const byCurve: Record<string, SignatureScheme> = {
      prime256v1: { digest: 'sha256', algorithm: '1.2.840.10045.4.3.2', nullParameters: false, micalg: 'sha-256' },
      secp384r1: { digest: 'sha384', algorithm: '1.2.840.10045.4.3.3', nullParameters: false, micalg: 'sha-384' },
      secp521r1: { digest: 'sha512', algorithm: '1.2.840.10045.4.3.4', nullParameters: false, micalg: 'sha-512' },
    };
    const scheme = byCurve[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (scheme) return scheme;
  }
  throw new QerdsError('CRYPTO_KEY_UNSUPPORTED', `CMS signing keys must be RSA or ECDSA P-256/384/521, not ${key.asymmetricKeyType}`);
}

const NULL_DER = new Uint8Array([0x05, 0x00]).buffer;

/** DER of a ContentInfo holding SignedData over `content`, signed by `signer`. */
export function signCmsData(options: CmsSignOptions): Buffer {
  const { signer, content } = options;
  const scheme = cmsSignatureScheme(signer.privateKey);
  const certAsn = AsnConvert.parse(signer.certificate.raw, Certificate);
  const attributes = [
    attributeDer(CMS_SIGNED_DATA_OID.contentType, oidDer(CMS_SIGNED_DATA_OID.data)),
    attributeDer(CMS_SIGNED_DATA_OID.signingTime, timeDer(options.signingTime ?? new Date())),
    attributeDer(CMS_SIGNED_DATA_OID.messageDigest, derTlv(0x04, createHash(scheme.digest).update(content).digest())),
    attributeDer(CMS_SIGNED_DATA_OID.signingCertificateV2, signingCertificateV2Der(signer.certificate)),
  ].sort(Buffer.compare);
  // The signature covers the DER SET OF the attributes (RFC 5652 §5.4); the SignerInfo holds them in that
  // same sorted order, so its [0] IMPLICIT encoding differs from the signed bytes only in the tag.
  const signature = sign(scheme.digest, derTlv(0x31, ...attributes), signer.privateKey);
  const digestAlgorithm = new AlgorithmIdentifier({ algorithm: DIGEST_OIDS[scheme.digest] });

  const signerInfo = new SignerInfo({
    version: 1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: certAsn.tbsCertificate.issuer, serialNumber: certAsn.tbsCertificate.serialNumber }),
    }),
    digestAlgorithm,
    signedAttrs: attributes.map((a) => AsnConvert.parse(a, Attribute)),
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: scheme.algorithm, ...(scheme.nullParameters ? { parameters: NULL_DER } : {}) }),
    signature: new OctetString(new Uint8Array(signature)),
  });
  const certificates = [signer.certificate, ...signer.chain].map((c) => new CertificateChoices({ certificate: AsnConvert.parse(c.raw, Certificate) }));
  const signedData = new SignedData({
    version: 1, // id-data content, IssuerAndSerialNumber, plain certificates (RFC 5652 §5.1)
    digestAlgorithms: new DigestAlgorithmIdentifiers([digestAlgorithm]),
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: CMS_SIGNED_DATA_OID.data,
      ...(options.detached === false ? { eContent: new EncapsulatedContent({ single: new OctetString(new Uint8Array(content)) }) } : {}),
    }),
    ...(options.includeCertificates === false ? {} : { certificates: new CertificateSet(certificates) }),
    signerInfos: new SignerInfos([signerInfo]),
  });
  const contentInfo = new ContentInfo({ contentType: CMS_SIGNED_DATA_OID.signedData, content: AsnConvert.serialize(signedData) });
  return Buffer.from(AsnConvert.serialize(contentInfo));
}

/** SigningCertificateV2 with one ESSCertIDv2: SHA-256 (the DEFAULT, so omitted), issuer and serial. */
function signingCertificateV2Der(cert: X509Certificate): Buffer {
  const certHash = createHash('sha256').update(cert.raw).digest();
  const [tbs] = derChildren(readDerElement(cert.raw));
  const parts = tbs ? derChildren(tbs) : [];
  const serial = parts[parts[0]?.tag === 0xa0 ? 1 : 0];
  if (!serial) throw new QerdsError('PKI_DER_MALFORMED', 'certificate has no serialNumber');
  // IssuerSerial ::= SEQUENCE { issuer GeneralNames (directoryName [4]), serialNumber }
  const issuerSerial = derTlv(0x30, derTlv(0x30, derTlv(0xa4, certificateNameDer(cert, 'issuer'))), serial.bytes);
  return derTlv(0x30, derTlv(0x30, derTlv(0x30, derTlv(0x04, certHash), issuerSerial)));
}

function attributeDer(oid: string, value: Buffer): Buffer {
  return derTlv(0x30, oidDer(oid), derTlv(0x31, value));
}

function oidDer(oid: string): Buffer {
  const [first = 0n, second = 0n, ...rest] = oid.split('.').map((a) => BigInt(a));
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...chunk);
  }
  return derTlv(0x06, Buffer.from(bytes));
}

/** UTCTime for 1950–2049 (RFC 5652 §11.3), GeneralizedTime after; whole seconds. */
function timeDer(date: Date): Buffer {
  const digits = date.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return derTlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1'));
  return derTlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}
