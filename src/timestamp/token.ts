import type { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { OID } from '../pki/oids.js';
import { readSignedData } from '../crypto/signed-data-read.js';
import { readTstInfo, type TstInfo } from './tst-info.js';

/**
 * The parts of a TimeStampToken (a CMS ContentInfo with SignedData over a TSTInfo, RFC 3161 §2.4.2) that
 * verification needs. Signed bytes are kept exactly as received, never re-encoded (crypto/signed-data-read.ts):
 *
 *   SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE { eContentType,
 *                  eContent [0] EXPLICIT OCTET STRING }, certificates [0] IMPLICIT OPTIONAL,
 *                  crls [1] IMPLICIT OPTIONAL, signerInfos SET OF SignerInfo }
 *   SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT OPTIONAL,
 *                  signatureAlgorithm, signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL }
 */
export interface ParsedToken {
  readonly tstInfo: TstInfo;
  /** eContent: the DER TSTInfo the messageDigest attribute covers. */
  readonly tstInfoDer: Buffer;
  readonly certificates: readonly X509Certificate[];
  /** The CertificateList DER of the SignedData's crls field (revocation data the TSA shipped). */
  readonly crls: readonly Buffer[];
  /** Whether the token was BER (indefinite lengths or a constructed eContent). */
  readonly ber: boolean;
  readonly signer: {
    /** issuerAndSerialNumber: issuer Name DER and serialNumber INTEGER element; or a subjectKeyIdentifier. */
    readonly sid: { readonly issuer: Buffer; readonly serial: Buffer } | { readonly keyId: Buffer };
    readonly digestAlgorithm: string;
    readonly signatureAlgorithm: string;
    /** The signature AlgorithmIdentifier's parameters (RSASSA-PSS-params). */
    readonly signatureParameters?: Buffer;
    readonly signature: Buffer;
    /** The signed attributes re-tagged as the SET OF that was signed (RFC 5652 §5.4). */
    readonly signedAttrsDer: Buffer;
    /** Attribute OID → its values' DER; a repeated attribute type is refused while parsing. */
    readonly attributes: ReadonlyMap<string, readonly Buffer[]>;
  };
}

function fail(message: string, cause?: unknown): QerdsError {
  return new QerdsError('TSA_TOKEN_MALFORMED', `malformed timestamp token: ${message}`, { cause });
}

/**
 * Parse a TimeStampToken, DER or BER (indefinite lengths, a constructed eContent: what streaming CMS writers
 * produce; the signature is checked over the signed attributes as received). Throws `TSA_TOKEN_MALFORMED`.
 */
export function parseTimestampToken(der: Buffer): ParsedToken {
  try {
    const sd = readSignedData(der);
    if (sd.eContentType !== OID.tstInfo) throw fail('eContentType is not id-ct-TSTInfo');
    if (!sd.eContent) throw fail('no eContent (TSTInfo)');
    // RFC 3161 §2.4.2: exactly one signer, the TSA.
    if (sd.signerInfos.length !== 1) throw fail(`${sd.signerInfos.length} SignerInfos, expected exactly one`);
    const si = sd.signerInfos[0]!;
    if (!si.signedAttrsDer) throw fail('expected signedAttrs (required for TSTInfo content)');
    const tstInfo = readTstInfo(sd.eContent);
    return {
      tstInfo,
      tstInfoDer: sd.eContent,
      certificates: sd.certificates,
      crls: sd.crls,
      ber: sd.ber,
      signer: {
        sid: si.sid,
        digestAlgorithm: si.digestAlgorithm,
        signatureAlgorithm: si.signatureAlgorithm,
        ...(si.signatureParameters ? { signatureParameters: si.signatureParameters } : {}),
        signature: si.signature,
        signedAttrsDer: si.signedAttrsDer,
        attributes: si.signedAttrs,
      },
    };
  } catch (cause) {
    if (cause instanceof QerdsError && cause.code === 'TSA_TOKEN_MALFORMED') throw cause;
    throw fail((cause as Error).message.replace(/^malformed CMS: /, ''), cause);
  }
}
