import { createHash, type X509Certificate } from 'node:crypto';
import type { MessageImprint } from '../core/ports.js';
import { OID } from '../pki/oids.js';
import { verifySignerSignature } from '../crypto/signer-signature.js';
import {
  certificateNameDer,
  derObjectIdentifier,
  digestNameOfOid,
  readDerElement,
  certificateFacts,
  checkCertificateRole,
  type Finding,
} from '../pki/index.js';
import { nameToString } from '../pki/x509-read.js';
import { certificateIssuerSerial } from './certificate-ids.js';
import { essCertIdMatches, parseFirstEssCertId, type EssCertId } from './ess.js';
import { parseTimestampToken, type ParsedToken } from './token.js';
import type { TstInfo } from './tst-info.js';
import type { TimestampVerification, VerifyTimestampOptions } from './types.js';

const err = (code: string, message: string): Finding => ({ code, message, severity: 'error' });
const warn = (code: string, message: string): Finding => ({ code, message, severity: 'warning' });

/**
 * Verify an RFC 3161 TimeStampToken: the CMS signature over the signed attributes, the messageDigest over the
 * TSTInfo, the ESS signing-certificate binding, the imprint, the TSA certificate's critical timeStamping EKU,
 * and (with `trust`) the TSA certificate path at genTime. Never throws: problems are findings.
 */
export async function verifyTimestampToken(
  tokenDer: Buffer,
  options: VerifyTimestampOptions = {},
): Promise<TimestampVerification> {
  let token: ParsedToken;
  try {
    token = parseTimestampToken(tokenDer);
  } catch (e) {
    return { valid: false, findings: [err('TSA_TOKEN_MALFORMED', (e as Error).message)] };
  }
  const { tstInfo, signer } = token;
  const findings: Finding[] = [];
  const genTime = tstInfo.genTime;
  const imprintAlgorithm = digestNameOfOid(tstInfo.messageImprint.hashAlgorithm);
  const imprintDigest = tstInfo.messageImprint.hashedMessage;
  const nonce = tstInfo.nonce ? bytesToBigint(tstInfo.nonce) : undefined;
  const acc = tstInfo.accuracy;
  const accuracyMs = acc
    ? (acc.seconds ?? 0) * 1000 + (acc.millis ?? 0) + (acc.micros ?? 0) / 1000
    : undefined;
  const tsaNameDer = tstInfo.tsa?.directoryName;
  const result = {
    ...(accuracyMs === undefined ? {} : { accuracyMs }),
    ...(tsaNameDer ? { tsaName: nameToString(readDerElement(tsaNameDer)) } : {}),
    genTime,
    policy: tstInfo.policy,
    serialNumber: bytesToBigint(tstInfo.serialNumber).toString(16),
    ...(imprintAlgorithm ? { imprint: { algorithm: imprintAlgorithm, digest: imprintDigest } } : {}),
    ...(nonce === undefined ? {} : { nonce }),
  };

  // 1. The imprint: the token must be about the data the caller has.
  if (!imprintAlgorithm) {
    // Only SHA-2 imprints: with a collision-prone hash one token would vouch for two documents.
    findings.push(
      err('TSA_WEAK_IMPRINT', `imprint algorithm ${tstInfo.messageImprint.hashAlgorithm} is not accepted`),
    );
  } else {
    const expected: MessageImprint | undefined =
      options.imprint ??
      (options.data
        ? { algorithm: imprintAlgorithm, digest: createHash(imprintAlgorithm).update(options.data).digest() }
        : undefined);
    if (!expected) {
      findings.push(
        warn('TSA_IMPRINT_NOT_CHECKED', 'neither imprint nor data given: the token is not bound to any data'),
      );
    } else if (expected.algorithm !== imprintAlgorithm || !expected.digest.equals(imprintDigest)) {
      findings.push(err('TSA_IMPRINT_MISMATCH', 'the token is over another imprint than the one expected'));
    }
  }

  // 2. The signer certificate, found by the SignerIdentifier among the token's and the caller's certificates.
  const candidates = [...token.certificates, ...(options.certificates ?? [])];
  const tsaCertificate = candidates.find((c) => identifies(signer.sid, c));
  if (!tsaCertificate) {
    findings.push(err('TSA_SIGNER_CERT_MISSING', 'the TSA certificate is neither in the token nor given'));
    return { valid: false, ...result, findings };
  }

  // 3. The CMS signature: messageDigest over the TSTInfo, signature over the signed attributes.
  const digest = digestNameOfOid(signer.digestAlgorithm);
  const contentType = single(signer.attributes, OID.contentType);
  const messageDigest = single(signer.attributes, OID.messageDigest);
  if (!digest) {
    findings.push(
      err('TSA_ALGORITHM_UNSUPPORTED', `signer digest algorithm ${signer.digestAlgorithm} is not accepted`),
    );
  } else if (!contentType || !messageDigest) {
    findings.push(err('TSA_TOKEN_MALFORMED', 'contentType or messageDigest signed attribute missing'));
  } else {
    // RFC 5652 §11.1: the signed contentType must equal eContentType, or the signature could be replayed on other content.
    if (!contentType.equals(derObjectIdentifier(OID.tstInfo))) {
      findings.push(err('TSA_SIGNATURE_INVALID', 'the signed contentType is not id-ct-TSTInfo'));
    }
    const expectedDigest = createHash(digest).update(token.tstInfoDer).digest();
    if (!readDerElement(messageDigest).content.equals(expectedDigest)) {
      findings.push(err('TSA_SIGNATURE_INVALID', 'the messageDigest attribute does not match the TSTInfo'));
    }
    // RSASSA-PSS (qualified TSAs use it) carries its hash and salt in the AlgorithmIdentifier parameters.
    const ok = verifySignerSignature(
      signer.signatureAlgorithm,
      signer.signatureParameters,
      digest,
      signer.signedAttrsDer,
      signer.signature,
      tsaCertificate.publicKey,
    );
    if ('unsupported' in ok) {
      findings.push(
        err('TSA_ALGORITHM_UNSUPPORTED', `${ok.unsupported} is not supported: the signature was not checked`),
      );
    } else if (!ok.ok) {
      findings.push(err('TSA_SIGNATURE_INVALID', 'the signature over the signed attributes does not verify'));
    }
  }

  // 4. ESS signing certificate (RFC 3161 §2.4.2, RFC 5816): binds the certificate itself, not only its key.
  findings.push(...checkSigningCertificate(signer.attributes, tsaCertificate));

  // 4b. The tsa name, when present, must be the signer's: else a token could claim another TSA's name.
  findings.push(...checkTsaName(tstInfo, tsaNameDer, tsaCertificate));

  // 5. The certificate must be a TSA certificate: EKU timeStamping only, critical (RFC 3161 §2.3).
  findings.push(...checkTimestampingEku(tsaCertificate));

  // 6. The path to a trust anchor, at the time the token was made.
  if (options.trust) {
    const path = options.trust.validate(tsaCertificate, {
      at: options.at ?? genTime,
      intermediates: token.certificates,
    });
    if (!path.valid) {
      findings.push(
        err('TSA_CERT_UNTRUSTED', `the TSA certificate ${tsaCertificate.subject} does not validate`),
      );
    }
    findings.push(...path.findings);
  } else {
    findings.push(
      warn('TSA_TRUST_NOT_CHECKED', 'no trust store given: the TSA certificate path was not validated'),
    );
  }

  return { valid: !findings.some((f) => f.severity === 'error'), ...result, tsaCertificate, findings };
}

/** INTEGER content octets as an unsigned bigint (nonce, serial number: compared and printed, never negative here). */
function bytesToBigint(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function single(attributes: ReadonlyMap<string, readonly Buffer[]>, oid: string): Buffer | undefined {
  const values = attributes.get(oid);
  return values?.length === 1 ? values[0] : undefined;
}

function identifies(sid: ParsedToken['signer']['sid'], cert: X509Certificate): boolean {
  if ('keyId' in sid) {
    const ski = certificateFacts(cert).subjectKeyIdentifier;
    return ski !== undefined && Buffer.from(ski, 'hex').equals(sid.keyId);
  }
  const { issuer, serial } = certificateIssuerSerial(cert);
  return issuer.equals(sid.issuer) && serial.equals(sid.serial);
}

function checkSigningCertificate(
  attributes: ReadonlyMap<string, readonly Buffer[]>,
  cert: X509Certificate,
): Finding[] {
  const v2 = single(attributes, OID.signingCertificateV2);
  const v1 = single(attributes, OID.signingCertificate);
  let id: EssCertId;
  try {
    if (v2) id = parseFirstEssCertId(v2, 2);
    else if (v1) id = parseFirstEssCertId(v1, 1);
    else return [err('TSA_SIGNING_CERT_MISSING', 'no ESS signingCertificate(V2) attribute')];
  } catch (e) {
    return [err('TSA_TOKEN_MALFORMED', `ESS signing certificate attribute: ${(e as Error).message}`)];
  }
  if (!essCertIdMatches(id, cert)) {
    return [
      err(
        'TSA_SIGNING_CERT_MISMATCH',
        'the ESS certificate identifier does not match the signer certificate',
      ),
    ];
  }
  // ESSCertID (v1) identifies the certificate by SHA-1; accepted for interoperability, as RFC 5816 allows.
  return id.version === 1
    ? [{ code: 'TSA_ESS_CERT_ID_V1', message: 'signer identified by ESSCertID (SHA-1)', severity: 'info' }]
    : [];
}

function checkTimestampingEku(cert: X509Certificate): Finding[] {
  // The role rules live in pki/certificate-roles.ts; the code stays TSA_NOT_TIMESTAMPING_CERT for reports.
  return checkCertificateRole(cert, 'tsa').map((f) => err('TSA_NOT_TIMESTAMPING_CERT', f.message));
}

/**
 * RFC 3161 §2.4.2: a present tsa field "MUST correspond to one of the subject names included in the
 * certificate that is to be used to verify the token". A directoryName is compared with the subject (DER,
 * as openssl's X509_NAME_cmp does); other name forms with the subjectAltName entries of the same type.
 */
function checkTsaName(tstInfo: TstInfo, nameDer: Buffer | undefined, cert: X509Certificate): Finding[] {
  const tsa = tstInfo.tsa;
  if (!tsa) return [];
  if (nameDer) {
    return nameDer.equals(certificateNameDer(cert, 'subject'))
      ? []
      : [
          err(
            'TSA_NAME_MISMATCH',
            `the token names its TSA ${nameToString(readDerElement(nameDer))}, but is signed by ${cert.subject.replace(/\n/g, ', ')}`,
          ),
        ];
  }
  const alt = (cert.subjectAltName ?? '').split(', ');
  const named = tsa.dNSName
    ? `DNS:${tsa.dNSName}`
    : tsa.uniformResourceIdentifier
      ? `URI:${tsa.uniformResourceIdentifier}`
      : tsa.rfc822Name
        ? `email:${tsa.rfc822Name}`
        : undefined;
  if (named === undefined)
    return [warn('TSA_NAME_NOT_CHECKED', 'the token names its TSA in a form this verifier does not compare')];
  return alt.includes(named)
    ? []
    : [
        err(
          'TSA_NAME_MISMATCH',
          `the token names its TSA ${named}, which is not a name of its signer certificate`,
        ),
      ];
}
