import { createHash, sign, type X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { OID } from './oids.js';
import { parseCrls } from './crl.js';
import {
  derChildren,
  derOid,
  derTlv,
  readDerElement,
  derAlgorithmIdentifier,
  derObjectIdentifier,
  type DerElement,
} from './der.js';
import {
  certIdFor,
  certIdHashOf,
  decodeCertId,
  derGeneralizedTime,
  OID_OCSP_BASIC,
  OID_OCSP_NONCE,
  sameCertId,
  subjectPublicKeyBits,
  type CertId,
} from './ocsp-cert-id.js';
import type { SigningIdentity } from './types.js';

/** What the responder knows about one serial of its CA. */
export type OcspCertStatus =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly revokedAt: Date }
  | { readonly status: 'unknown' };

export interface OcspResponderOptions {
  /** The CA whose certificates this responder answers for. */
  readonly issuer: X509Certificate;
  /**
   * Who signs the responses: the CA itself or a delegated responder certificate that the CA issued with the
   * id-kp-OCSPSigning EKU (RFC 6960 §4.2.2.2), sent along in `certs`.
   */
  readonly signer: SigningIdentity;
  /** The status of a serial (normalised hex) now. */
  readonly statusOf: (serial: string) => OcspCertStatus | Promise<OcspCertStatus>;
  /** How long a response may be relied on (nextUpdate − thisUpdate), ms. @defaultValue 3600000 (1 h) */
  readonly validityMs?: number;
  readonly now?: () => Date;
}

/** OCSPResponseStatus (RFC 6960 §4.2.1). */
const STATUS = { successful: 0, malformedRequest: 1, internalError: 2, unauthorized: 6 } as const;

/**
 * An RFC 6960 responder: an OCSPRequest (DER) in, an OCSPResponse (DER) out, BasicOCSPResponse signed with
 * SHA-256 by `signer`, ResponderID byKey, one SingleResponse per request entry, the nonce echoed. A request for
 * a certificate of another CA gets `unknown` for that entry (it is not ours to vouch for); a request that
 * cannot be parsed gets malformedRequest, never an exception.
 */
export function createOcspResponder(options: OcspResponderOptions): {
  respond(request: Buffer): Promise<Buffer>;
} {
  const validityMs = options.validityMs ?? 3_600_000;
  const now = options.now ?? (() => new Date());
  const signatureAlgorithm = signatureAlgorithmOf(options.signer);
  const delegated = options.signer.certificate.fingerprint256 !== options.issuer.fingerprint256;
  const responderKeyHash = createHash('sha1')
    .update(subjectPublicKeyBits(options.signer.certificate))
    .digest();
  return {
    async respond(request) {
      let entries: { certId: CertId; raw: DerElement }[];
      let nonce: DerElement | undefined;
      try {
        ({ entries, nonce } = parseRequest(request));
      } catch {
        return derTlv(0x30, derTlv(0x0a, Buffer.from([STATUS.malformedRequest])));
      }
      const at = now();
      const singles: Buffer[] = [];
      for (const { certId, raw } of entries) {
        // SHA-1 and SHA-2 CertIDs are recomputed with the request's own algorithm (and answered with its CertID
        // as sent); others are answered unknown rather than guessed.
        const hash = certIdHashOf(certId.hashAlgorithm);
        const ours = hash !== undefined && sameCertId(certId, certIdFor(options.issuer, certId.serial, hash));
        const status: OcspCertStatus = ours ? await options.statusOf(certId.serial) : { status: 'unknown' };
        const certStatus =
          status.status === 'good'
            ? Buffer.from([0x80, 0x00])
            : status.status === 'revoked'
              ? derTlv(0xa1, derGeneralizedTime(status.revokedAt))
              : Buffer.from([0x82, 0x00]);
        singles.push(
          derTlv(
            0x30,
            raw.bytes,
            certStatus,
            derGeneralizedTime(at),
            derTlv(0xa0, derGeneralizedTime(new Date(at.getTime() + validityMs))),
          ),
        );
      }
      const extensions = nonce ? [derTlv(0xa1, derTlv(0x30, nonce.bytes))] : [];
      const tbs = derTlv(
        0x30,
        derTlv(0xa2, derTlv(0x04, responderKeyHash)),
        derGeneralizedTime(at),
        derTlv(0x30, ...singles),
        ...extensions,
      );
      const signature = sign('sha256', tbs, options.signer.privateKey);
      const certs = delegated ? [derTlv(0xa0, derTlv(0x30, options.signer.certificate.raw))] : [];
      const basic = derTlv(
        0x30,
        tbs,
        derAlgorithmIdentifier(signatureAlgorithm.oid, signatureAlgorithm.nullParameters),
        derTlv(0x03, Buffer.from([0]), signature),
        ...certs,
      );
      const responseBytes = derTlv(0x30, derObjectIdentifier(OID_OCSP_BASIC), derTlv(0x04, basic));
      return derTlv(0x30, derTlv(0x0a, Buffer.from([STATUS.successful])), derTlv(0xa0, responseBytes));
    },
  };
}

/**
 * OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 * TBSRequest ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, requestorName [1] EXPLICIT OPTIONAL,
 *                           requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions OPTIONAL }
 * Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
 */
function parseRequest(der: Buffer): { entries: { certId: CertId; raw: DerElement }[]; nonce?: DerElement } {
  const [tbs] = derChildren(readDerElement(der));
  if (!tbs || tbs.tag !== 0x30) throw new Error('no TBSRequest');
  const parts = derChildren(tbs);
  const list = parts.find((p) => p.tag === 0x30);
  if (!list) throw new Error('no requestList');
  const entries = derChildren(list).map((req) => {
    const raw = derChildren(req)[0];
    if (!raw) throw new Error('empty Request');
    return { certId: decodeCertId(raw), raw };
  });
  if (entries.length === 0) throw new Error('empty requestList');
  const extensions = parts.find((p) => p.tag === 0xa2);
  const nonce = extensions
    ? derChildren(derChildren(extensions)[0]!).find((e) => derOid(derChildren(e)[0]!) === OID_OCSP_NONCE)
    : undefined;
  return { entries, ...(nonce ? { nonce } : {}) };
}

function signatureAlgorithmOf(signer: SigningIdentity): { oid: string; nullParameters: boolean } {
  switch (signer.privateKey.asymmetricKeyType) {
    case 'rsa':
      return { oid: OID.sha256WithRSAEncryption, nullParameters: true };
    case 'ec':
      return { oid: OID.ecdsaWithSHA256, nullParameters: false };
    default:
      throw new QerdsError(
        'PKI_OCSP_SIGNER_UNSUPPORTED',
        `an OCSP signer key of type ${signer.privateKey.asymmetricKeyType} is not supported`,
      );
  }
}

/** Status from the CA's CRL file(s), read on every request (`qerds pki revoke` rewrites the file): dev responder. */
export function crlStatusSource(readCrl: () => Buffer | string): (serial: string) => OcspCertStatus {
  return (serial) => {
    for (const crl of parseCrls(readCrl())) {
      const revokedAt = crl.revoked.get(serial);
      if (revokedAt) return { status: 'revoked', revokedAt };
    }
    return { status: 'good' };
  };
}
