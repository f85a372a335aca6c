import { createHash, randomBytes, type X509Certificate, X509Certificate as Cert } from 'node:crypto';
import { QerdsError, type QerdsErrorCode } from '../core/errors.js';
import { certificateFacts } from './certificate-facts.js';
import { certificateNameDer } from './crl.js';
import { derChildren, derOid, derTlv, readDerElement, derObjectIdentifier, type DerElement } from './der.js';
import { OCSP_SIGNING_EKU } from './extended-key-usages.js';
import {
  certIdFor,
  certIdHashOf,
  type CertIdHash,
  decodeCertId,
  encodeCertId,
  OID_OCSP_BASIC,
  OID_OCSP_NONCE,
  parseGeneralizedTime,
  sameCertId,
  subjectPublicKeyBits,
} from './ocsp-cert-id.js';
import { verifyWithAlgorithm } from './signature-algorithms.js';

/** A verified OCSP answer about one certificate (RFC 6960 §4.2.1 SingleResponse). */
export interface OcspResult {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt?: Date;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly producedAt: Date;
  /** The certificate that signed the response: the CA or its delegated responder. */
  readonly responder: X509Certificate;
  /** The OCSPResponse as received (what B-LT embeds in OCSPValues, as BasicOCSPResponse). */
  readonly basicResponse: Buffer;
}

const fail = (code: QerdsErrorCode, message: string): QerdsError => new QerdsError(code, `OCSP: ${message}`);
/** Clock difference tolerated between responder and us, ms. */
const SKEW_MS = 5 * 60_000;

/** OCSPRequest for `cert` under `issuer` (one Request, CertID hashed with `hash`, SHA-1 by default), with a nonce extension when given. */
export function encodeOcspRequest(
  cert: X509Certificate,
  issuer: X509Certificate,
  nonce?: Buffer,
  hash: CertIdHash = 'sha1',
): Buffer {
  const request = derTlv(0x30, encodeCertId(certIdFor(issuer, cert.serialNumber, hash)));
  const extensions = nonce
    ? [
        derTlv(
          0xa2,
          derTlv(0x30, derTlv(0x30, derObjectIdentifier(OID_OCSP_NONCE), derTlv(0x04, derTlv(0x04, nonce)))),
        ),
      ]
    : [];
  return derTlv(0x30, derTlv(0x30, derTlv(0x30, request), ...extensions));
}

/** The OCSP responder URL of a certificate's Authority Information Access extension, if it has one. */
export function ocspUrlOf(cert: X509Certificate): string | undefined {
  return /OCSP - URI:(\S+)/.exec(cert.infoAccess ?? '')?.[1];
}

/**
 * Verify an OCSPResponse (DER) about `cert` issued by `issuer`, as of `at`:
 * successful status, a BasicOCSPResponse whose signature verifies under the CA's key or under a responder
 * certificate the CA issued with id-kp-OCSPSigning (RFC 6960 §4.2.2.2), a SingleResponse for exactly this
 * CertID, the nonce echoed when one was sent, and fresh: thisUpdate not after `at` (5 min skew) and
 * nextUpdate not before it. Throws PKI_OCSP_* on anything else.
 *
 * Threat: a response from anyone but the CA (or its delegate), for another certificate, or replayed from
 * before a revocation would otherwise vouch for a revoked certificate.
 */
export function verifyOcspResponse(
  der: Buffer,
  expect: { cert: X509Certificate; issuer: X509Certificate; nonce?: Buffer; at?: Date },
): OcspResult {
  const at = expect.at ?? new Date();
  let parts: DerElement[];
  try {
    parts = derChildren(readDerElement(der));
  } catch (cause) {
    throw fail('PKI_OCSP_MALFORMED', `response cannot be parsed: ${(cause as Error).message}`);
  }
  const [statusEl, bytesEl] = parts;
  if (!statusEl || statusEl.tag !== 0x0a) throw fail('PKI_OCSP_MALFORMED', 'no responseStatus');
  if (statusEl.content[0] !== 0)
    throw fail('PKI_OCSP_REFUSED', `the responder answered status ${statusEl.content[0]}`);
  if (!bytesEl) throw fail('PKI_OCSP_MALFORMED', 'no responseBytes');
  const [typeEl, responseEl] = derChildren(derChildren(bytesEl)[0]!);
  if (!typeEl || derOid(typeEl) !== OID_OCSP_BASIC || !responseEl)
    throw fail('PKI_OCSP_MALFORMED', 'not a BasicOCSPResponse');
  const basicResponse = Buffer.from(responseEl.content);
  return verifyBasicOcspResponse(basicResponse, { ...expect, at });
}

/** The checks of {@link verifyOcspResponse} on a BasicOCSPResponse (as embedded in XAdES OCSPValues). */
export function verifyBasicOcspResponse(
  basicResponse: Buffer,
  expect: { cert: X509Certificate; issuer: X509Certificate; nonce?: Buffer; at: Date },
): OcspResult {
  try {
    const [tbs, sigAlg, sigValue, certsEl] = derChildren(readDerElement(basicResponse));
    if (!tbs || !sigAlg || !sigValue)
      throw fail('PKI_OCSP_MALFORMED', 'BasicOCSPResponse needs three elements');
    const fields = derChildren(tbs).filter((f) => f.tag !== 0xa0); // version DEFAULT v1
    const [responderId, producedAtEl, responsesEl, extensionsEl] = fields;
    if (!responderId || !producedAtEl || !responsesEl)
      throw fail('PKI_OCSP_MALFORMED', 'ResponseData is incomplete');
    const certs = certsEl ? derChildren(derChildren(certsEl)[0]!).map((c) => new Cert(c.bytes)) : [];

    const responder = findResponder(responderId, expect.issuer, certs);
    const algorithm = derOid(derChildren(sigAlg)[0]!);
    if (
      verifyWithAlgorithm(algorithm, tbs.bytes, sigValue.content.subarray(1), responder.publicKey) !== true
    ) {
      throw fail(
        'PKI_OCSP_SIGNATURE_INVALID',
        `the response's signature does not verify under ${responder.subject.replace(/\n/g, ', ')}`,
      );
    }
    if (expect.nonce) {
      const nonce = extensionsEl
        ? derChildren(derChildren(extensionsEl)[0]!).find(
            (e) => derOid(derChildren(e)[0]!) === OID_OCSP_NONCE,
          )
        : undefined;
      const value = nonce && derChildren(nonce).at(-1)?.content;
      // The value is an OCTET STRING holding the nonce OCTET STRING (RFC 8954 §2.1).
      if (!value || !readDerElement(value).content.equals(expect.nonce))
        throw fail('PKI_OCSP_NONCE_MISMATCH', 'the response does not echo our nonce (a replay?)');
    }
    // Each SingleResponse's CertID is compared with ours computed by its own hash algorithm (a responder may
    // answer with SHA-256 CertIDs, RFC 6960 §4.3); one with an algorithm we do not compute cannot match.
    const serial = certIdFor(expect.issuer, expect.cert.serialNumber).serial;
    const unknownHashes = new Set<string>();
    const single = derChildren(responsesEl).find((s) => {
      const id = decodeCertId(derChildren(s)[0]!);
      const hash = certIdHashOf(id.hashAlgorithm);
      if (!hash) {
        unknownHashes.add(id.hashAlgorithm);
        return false;
      }
      return sameCertId(id, certIdFor(expect.issuer, expect.cert.serialNumber, hash));
    });
    if (!single)
      throw fail(
        'PKI_OCSP_WRONG_CERT',
        `the response says nothing about serial ${serial}${unknownHashes.size > 0 ? ` (CertIDs hashed with ${[...unknownHashes].join(', ')}, not computed here)` : ''}`,
      );
    const [, statusEl, thisUpdateEl, ...rest] = derChildren(single);
    if (!statusEl || !thisUpdateEl) throw fail('PKI_OCSP_MALFORMED', 'SingleResponse is incomplete');
    const thisUpdate = parseGeneralizedTime(thisUpdateEl);
    const nextUpdateEl = rest.find((r) => r.tag === 0xa0);
    const nextUpdate = nextUpdateEl ? parseGeneralizedTime(derChildren(nextUpdateEl)[0]!) : undefined;
    if (thisUpdate.getTime() > expect.at.getTime() + SKEW_MS)
      throw fail(
        'PKI_OCSP_NOT_YET_VALID',
        `thisUpdate ${thisUpdate.toISOString()} is after ${expect.at.toISOString()}`,
      );
    if (nextUpdate && nextUpdate.getTime() < expect.at.getTime())
      throw fail('PKI_OCSP_STALE', `the response was due for renewal on ${nextUpdate.toISOString()}`);
    const status = statusEl.tag === 0x80 ? 'good' : statusEl.tag === 0xa1 ? 'revoked' : 'unknown';
    const revokedAt = status === 'revoked' ? parseGeneralizedTime(derChildren(statusEl)[0]!) : undefined;
    return {
      status,
      ...(revokedAt ? { revokedAt } : {}),
      thisUpdate,
      ...(nextUpdate ? { nextUpdate } : {}),
      producedAt: parseGeneralizedTime(producedAtEl),
      responder,
      basicResponse,
    };
  } catch (cause) {
    if (cause instanceof QerdsError) throw cause;
    throw fail('PKI_OCSP_MALFORMED', `response cannot be parsed: ${(cause as Error).message}`);
  }
}

/** ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }: the CA itself, or a delegate it issued for OCSP signing. */
function findResponder(
  responderId: DerElement,
  issuer: X509Certificate,
  certs: readonly X509Certificate[],
): X509Certificate {
  const inner = derChildren(responderId)[0];
  const matches = (c: X509Certificate) =>
    responderId.tag === 0xa1
      ? certificateNameDer(c, 'subject').equals(inner!.bytes)
      : createHash('sha1').update(subjectPublicKeyBits(c)).digest().equals(inner!.content);
  if (!inner) throw fail('PKI_OCSP_MALFORMED', 'empty ResponderID');
  if (matches(issuer)) return issuer;
  const delegate = certs.find(matches);
  if (!delegate)
    throw fail(
      'PKI_OCSP_RESPONDER_UNKNOWN',
      'the responder is neither the CA nor a certificate sent with the response',
    );
  if (!delegate.checkIssued(issuer) || !delegate.verify(issuer.publicKey)) {
    throw fail(
      'PKI_OCSP_RESPONDER_UNAUTHORIZED',
      `the responder ${delegate.subject.replace(/\n/g, ', ')} was not issued by the CA of the certificate`,
    );
  }
  if (!certificateFacts(delegate).extendedKeyUsage?.usages.includes(OCSP_SIGNING_EKU)) {
    throw fail(
      'PKI_OCSP_RESPONDER_UNAUTHORIZED',
      `the responder ${delegate.subject.replace(/\n/g, ', ')} lacks the id-kp-OCSPSigning extended key usage`,
    );
  }
  return delegate;
}

/** Ask `url` (HTTP POST, RFC 6960 Appendix A) about `cert`, with a fresh nonce, and verify the answer. */
export async function fetchOcsp(
  url: string,
  cert: X509Certificate,
  issuer: X509Certificate,
  options: { timeoutMs?: number; at?: Date; hash?: CertIdHash } = {},
): Promise<OcspResult> {
  const nonce = randomBytes(16);
  let body: Buffer;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: new Uint8Array(encodeOcspRequest(cert, issuer, nonce, options.hash ?? 'sha1')),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = Buffer.from(await res.arrayBuffer());
  } catch (cause) {
    throw new QerdsError('PKI_OCSP_UNAVAILABLE', `OCSP: ${url} did not answer: ${(cause as Error).message}`, {
      cause,
      details: { retryable: true },
    });
  }
  return verifyOcspResponse(body, { cert, issuer, nonce, ...(options.at ? { at: options.at } : {}) });
}
