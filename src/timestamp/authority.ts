import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  Attribute,
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
import { Accuracy, TimeStampReq, TSTInfo } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { QerdsError } from '../core/errors.js';
import { systemClock } from '../core/ports.js';
import { DIGEST_OIDS, derChildren, derTlv, digestNameOfOid, readDerElement, type DigestName } from '../pki/index.js';
import { OID, attributeDer, derSetOf, integerContent, oidDer, timeDer } from './asn1.js';
import { signingCertificateV2Der } from './ess.js';
import { expectedDigestLength } from './request.js';
import { DEV_TSA_POLICY, type TimestampAuthority, type TimestampAuthorityOptions } from './types.js';

/** PKIFailureInfo bits (RFC 3161 §2.4.2) that this TSA reports. */
const FAILURE_BIT = Object.freeze({
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  systemFailure: 25,
});
type FailureName = keyof typeof FAILURE_BIT;

interface SignatureScheme {
  readonly digest: DigestName;
  readonly algorithm: string;
  /** RSA PKCS#1 AlgorithmIdentifiers carry NULL parameters; ECDSA ones have none (RFC 5754 §3). */
  readonly nullParameters: boolean;
}

/** The CMS signature algorithm for the TSA key; RSA-PSS, EdDSA and others are refused (not wired). */
function signatureScheme(key: KeyObject): SignatureScheme {
  if (key.asymmetricKeyType === 'rsa') return { digest: 'sha256', algorithm: '1.2.840.113549.1.1.11', nullParameters: true };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const byCurve: Record<string, SignatureScheme> = {
      prime256v1: { digest: 'sha256', algorithm: '1.2.840.10045.4.3.2', nullParameters: false },
      secp384r1: { digest: 'sha384', algorithm: '1.2.840.10045.4.3.3', nullParameters: false },
      secp521r1: { digest: 'sha512', algorithm: '1.2.840.10045.4.3.4', nullParameters: false },
    };
    const scheme = curve ? byCurve[curve] : undefined;
    if (scheme) return scheme;
  }
  throw new QerdsError('TSA_KEY_UNSUPPORTED', `TSA keys must be RSA or ECDSA P-256/384/521, not ${key.asymmetricKeyType}`);
}

const NULL_DER = new Uint8Array([0x05, 0x00]).buffer;

/**
 * An RFC 3161 TSA (with the RFC 5816 ESSCertIDv2 signing-certificate attribute), for development, tests and
 * an embedded default. Tokens are CMS SignedData over a TSTInfo, signed with node:crypto.
 */
export function createTimestampAuthority(options: TimestampAuthorityOptions): TimestampAuthority {
  const { identity } = options;
  const policy = options.policyOid ?? DEV_TSA_POLICY;
  const accepted = new Set(options.acceptedPolicies ?? [policy]);
  const clock = options.clock ?? systemClock;
  const accuracy = options.accuracy ?? { seconds: 1 };
  const nextSerial = options.serialNumber ?? (() => BigInt(`0x${randomBytes(16).toString('hex')}`));
  const scheme = signatureScheme(identity.privateKey);
  const certAsn = AsnConvert.parse(identity.certificate.raw, Certificate);
  // The certificates field ([0] IMPLICIT SET OF CertificateChoices) is the same in every token: a choice that
  // holds a certificate is that certificate's own DER, sorted as DER wants a SET OF. Encoded once and spliced
  // in; re-serialising parsed certificates per token doubled the cost of a token.
  const certificatesField = derTlv(0xa0, ...[identity.certificate.raw, ...identity.chain.map((c) => c.raw)].sort(Buffer.compare));
  const essAttribute = attributeDer(OID.signingCertificateV2, signingCertificateV2Der(identity.certificate));

  function tokenFor(req: TimeStampReq): Buffer {
    const genTime = clock.now();
    const tstInfo = new TSTInfo({
      version: 1,
      policy,
      messageImprint: req.messageImprint,
      serialNumber: integerContent(nextSerial()),
      genTime,
      accuracy: new Accuracy({
        ...(accuracy.seconds ? { seconds: accuracy.seconds } : {}),
        ...(accuracy.millis ? { millis: accuracy.millis } : {}),
      }),
      ordering: false,
      // RFC 3161 §2.4.2: the nonce MUST be echoed when the request had one.
      ...(req.nonce ? { nonce: req.nonce } : {}),
    });
    const tstInfoDer = Buffer.from(AsnConvert.serialize(tstInfo));

    const attributes = [
      attributeDer(OID.contentType, oidDer(OID.tstInfo)),
      attributeDer(OID.signingTime, timeDer(genTime)),
      attributeDer(OID.messageDigest, derTlv(0x04, createHash(scheme.digest).update(tstInfoDer).digest())),
      essAttribute,
    ];
    // The signature covers the DER SET OF the attributes (RFC 5652 §5.4); they are put in the SignerInfo in
    // that same sorted order, so the [0] IMPLICIT encoding differs from the signed bytes only in its tag.
    const signedAttrsDer = derSetOf(attributes);
    const signature = sign(scheme.digest, signedAttrsDer, identity.privateKey);
    const sortedAttributes = [...attributes].sort(Buffer.compare).map((a) => AsnConvert.parse(a, Attribute));

    const signerInfo = new SignerInfo({
      version: 1,
      sid: new SignerIdentifier({
        issuerAndSerialNumber: new IssuerAndSerialNumber({
          issuer: certAsn.tbsCertificate.issuer,
          serialNumber: certAsn.tbsCertificate.serialNumber,
        }),
      }),
      digestAlgorithm: new AlgorithmIdentifier({ algorithm: DIGEST_OIDS[scheme.digest] }),
      signedAttrs: sortedAttributes,
      signatureAlgorithm: new AlgorithmIdentifier({
        algorithm: scheme.algorithm,
        ...(scheme.nullParameters ? { parameters: NULL_DER } : {}),
      }),
      signature: new OctetString(new Uint8Array(signature)),
    });
    const signedData = new SignedData({
      version: 3, // eContentType is not id-data (RFC 5652 §5.1)
      digestAlgorithms: new DigestAlgorithmIdentifiers([new AlgorithmIdentifier({ algorithm: DIGEST_OIDS[scheme.digest] })]),
      encapContentInfo: new EncapsulatedContentInfo({
        eContentType: OID.tstInfo,
        eContent: new EncapsulatedContent({ single: new OctetString(new Uint8Array(tstInfoDer)) }),
      }),
      signerInfos: new SignerInfos([signerInfo]),
    });
    let signedDataDer: Buffer = Buffer.from(AsnConvert.serialize(signedData));
    if (req.certReq) {
      // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo, certificates [0] …, signerInfos }
      const [version, digestAlgorithms, encapContentInfo, signerInfos] = derChildren(readDerElement(signedDataDer));
      signedDataDer = derTlv(0x30, version!.bytes, digestAlgorithms!.bytes, encapContentInfo!.bytes, certificatesField, signerInfos!.bytes);
    }
    const contentInfo = new ContentInfo({ contentType: OID.signedData, content: new Uint8Array(signedDataDer).buffer });
    return Buffer.from(AsnConvert.serialize(contentInfo));
  }

  async function respond(requestDer: Buffer): Promise<Buffer> {
    let req: TimeStampReq;
    try {
      req = AsnConvert.parse(requestDer, TimeStampReq);
    } catch {
      return rejection('badDataFormat', 'the request is not a DER TimeStampReq');
    }
    if (req.version !== 1) return rejection('badDataFormat', `unsupported request version ${req.version}`);
    const algorithm = digestNameOfOid(req.messageImprint.hashAlgorithm.algorithm);
    // Only SHA-2 imprints: with a collision-prone hash (MD5, SHA-1) one token would vouch for two documents.
    if (!algorithm) return rejection('badAlg', `unsupported hash algorithm ${req.messageImprint.hashAlgorithm.algorithm}`);
    if (req.messageImprint.hashedMessage.byteLength !== expectedDigestLength(algorithm)) {
      return rejection('badDataFormat', `the imprint is not a ${algorithm} digest`);
    }
    if (req.reqPolicy !== undefined && !accepted.has(req.reqPolicy)) {
      return rejection('unacceptedPolicy', `policy ${req.reqPolicy} is not offered by this TSA`);
    }
    if (req.extensions && req.extensions.length > 0) return rejection('unacceptedExtension', 'no request extension is supported');
    try {
      const token = tokenFor(req);
      return derTlv(0x30, statusInfo(0), token);
    } catch {
      return rejection('systemFailure', 'the TSA could not sign the token');
    }
  }

  return Object.freeze({ policy, certificate: identity.certificate, respond });
}

/** PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL, failInfo PKIFailureInfo OPTIONAL } */
function statusInfo(status: number, text?: string, failure?: FailureName): Buffer {
  const parts = [derTlv(0x02, Buffer.from([status]))];
  if (text) parts.push(derTlv(0x30, derTlv(0x0c, Buffer.from(text, 'utf8'))));
  if (failure) parts.push(failureInfoDer(FAILURE_BIT[failure]));
  return derTlv(0x30, ...parts);
}

/** A named-bit BIT STRING with one bit set, trailing zero bits removed (X.690 §11.2.2). */
function failureInfoDer(bit: number): Buffer {
  const bytes = Buffer.alloc(Math.floor(bit / 8) + 1);
  bytes[bytes.length - 1] = 0x80 >> bit % 8;
  return derTlv(0x03, Buffer.from([7 - (bit % 8)]), bytes);
}

function rejection(failure: FailureName, text: string): Buffer {
  return derTlv(0x30, statusInfo(2, text, failure));
}
