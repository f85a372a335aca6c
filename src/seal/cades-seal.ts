import { createHash, sign } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import type { Clock, TsaClient } from '../core/ports.js';
import { certificateNameDer, derChildren, derTlv, readDerElement, type SigningIdentity } from '../pki/index.js';
import { algorithmIdentifierDer, attributeDer, CMS_OID, oidDer, setOfDer, timeDer } from './cades-der.js';
import { issuerSerialV2Der } from './issuer-serial.js';

/** The detached content: its bytes, or its SHA-256 when it was digested while streaming. */
export type DetachedContent = Buffer | { readonly sha256: Buffer };

export interface CadesSealOptions {
  readonly identity: SigningIdentity;
  /** When present, a signature-time-stamp unsigned attribute is added: level B-T. Absent: B-B. */
  readonly tsa?: TsaClient;
  /** Source of the signing-time attribute. */
  readonly clock: Clock;
}

/**
 * Seal a binary payload with a detached CAdES baseline signature (ETSI EN 319 122-1 B-B, or B-T with a
 * TSA): a CMS SignedData (RFC 5652) without eContent, eContentType id-data, one SignerInfo identified by
 * issuerAndSerialNumber, signed attributes content-type, signing-time, message-digest (SHA-256) and
 * signing-certificate-v2 (RFC 5035), the e-seal certificate and its chain in `certificates`; for B-T the
 * unsigned signature-time-stamp attribute (RFC 3161 token over the SignatureValue octets). Returns the
 * DER ContentInfo, which `openssl cms -verify -binary -content <payload> -inform DER` accepts.
 */
export async function sealDetachedCms(content: DetachedContent, options: CadesSealOptions): Promise<Buffer> {
  const { identity } = options;
  const keyType = identity.privateKey.asymmetricKeyType;
  if (keyType !== 'rsa' && keyType !== 'ec') throw new QerdsError('SEAL_ALGORITHM_UNSUPPORTED', `no CAdES signature algorithm for ${keyType ?? 'unknown'} keys`);
  const digest = Buffer.isBuffer(content) ? createHash('sha256').update(content).digest() : content.sha256;
  if (digest.length !== 32) throw new QerdsError('SEAL_MALFORMED', 'the content digest is not a SHA-256 value');
  const signingTime = new Date(Math.floor(options.clock.now().getTime() / 1000) * 1000);
  const cert = identity.certificate;

  // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256 (omitted), certHash OCTET STRING, issuerSerial }
  const essCertId = derTlv(0x30, derTlv(0x04, createHash('sha256').update(cert.raw).digest()), issuerSerialV2Der(cert));
  const signedAttributes = [
    attributeDer(CMS_OID.contentType, oidDer(CMS_OID.data)),
    attributeDer(CMS_OID.signingTime, timeDer(signingTime)),
    attributeDer(CMS_OID.messageDigest, derTlv(0x04, digest)),
    attributeDer(CMS_OID.signingCertificateV2, derTlv(0x30, derTlv(0x30, essCertId))),
  ];
  // RFC 5652 §5.4: the signature is over the DER SET OF; in the SignerInfo the same octets carry [0].
  const signedAttrsSet = setOfDer(signedAttributes);
  const signature = sign('sha256', signedAttrsSet, { key: identity.privateKey, dsaEncoding: 'der' });

  const unsigned: Buffer[] = [];
  if (options.tsa) {
    // EN 319 122-1 §5.3: the time-stamp token is over the signature field's value octets.
    const token = await options.tsa.timestamp({ algorithm: 'sha256', digest: createHash('sha256').update(signature).digest() });
    unsigned.push(attributeDer(CMS_OID.signatureTimeStampToken, token.der));
  }
  const [tbs] = derChildren(readDerElement(cert.raw));
  const parts = tbs ? derChildren(tbs) : [];
  const serial = parts[parts[0]?.tag === 0xa0 ? 1 : 0];
  if (!serial) throw new QerdsError('SEAL_MALFORMED', 'the seal certificate has no serialNumber');
  const signerInfo = derTlv(
    0x30,
    derTlv(0x02, Buffer.from([1])),
    derTlv(0x30, certificateNameDer(cert, 'issuer'), serial.bytes),
    algorithmIdentifierDer(CMS_OID.sha256),
    Buffer.concat([Buffer.from([0xa0]), signedAttrsSet.subarray(1)]),
    keyType === 'rsa' ? algorithmIdentifierDer(CMS_OID.sha256WithRSAEncryption, true) : algorithmIdentifierDer(CMS_OID.ecdsaWithSHA256),
    derTlv(0x04, signature),
    ...(unsigned.length > 0 ? [setOfDer(unsigned, 0xa1)] : []),
  );
  const signedData = derTlv(
    0x30,
    derTlv(0x02, Buffer.from([1])),
    derTlv(0x31, algorithmIdentifierDer(CMS_OID.sha256)),
    derTlv(0x30, oidDer(CMS_OID.data)),
    setOfDer([cert, ...identity.chain].map((c) => c.raw), 0xa0),
    derTlv(0x31, signerInfo),
  );
  return derTlv(0x30, oidDer(CMS_OID.signedData), derTlv(0xa0, signedData));
}
