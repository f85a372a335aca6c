import type { X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { derChildren, derOid, readDerElement } from './der.js';
import { verifyWithAlgorithm } from './signature-algorithms.js';
import { OID_CRL_NUMBER } from './cert-factory.js';
import { memoByContent } from './parse-cache.js';
import type { x509 } from './x509.js';
import { certificateSubject, nameToString, readTbsCertList } from './x509-read.js';

/**
 * A parsed CRL (RFC 5280 §5):
 *
 *   CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version Version OPTIONAL, signature AlgorithmIdentifier, issuer Name,
 *                              thisUpdate Time, nextUpdate Time OPTIONAL, revokedCertificates … OPTIONAL,
 *                              crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 */
export interface ParsedCrl {
  /** The CertificateList as DER. */
  readonly der: Buffer;
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Normalised serial (lower-case hex, no leading zeros) → revocation date. */
  readonly revoked: ReadonlyMap<string, Date>;
  /**
   * Whether the CRL names `issuer` as its issuer: same DER, or the same name in another string encoding
   * (PrintableString / UTF8String). Only selects candidates: the signature check decides.
   */
  isNamedBy(issuer: X509Certificate): boolean;
  /** Whether `issuer` signed this CRL (RFC 5280 §6.3.3 (f)). */
  isSignedBy(issuer: X509Certificate): boolean | 'unsupported';
}

const PEM_CRL = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g;

/** Every CRL in `data`: DER, or PEM holding one or more `X509 CRL` blocks. Throws `PKI_CRL_MALFORMED`. */
export function parseCrls(data: Buffer | string): ParsedCrl[] {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  const blocks = text.match(PEM_CRL);
  if (blocks)
    return blocks.map((b) => parseCrlDer(Buffer.from(b.replace(/-----[^-]+-----|\s+/g, ''), 'base64')));
  if (typeof data === 'string') throw new QerdsError('PKI_CRL_MALFORMED', 'no X509 CRL PEM block found');
  return [parseCrlDer(data)];
}

/**
 * One DER CRL. Memoised by content (parse-cache.ts): an AP reads the same CRL for every evidence it seals
 * and every seal it verifies, and the signature check a ParsedCrl remembers per issuer is then done once.
 */
export const parseCrlDer: (der: Buffer) => ParsedCrl = memoByContent(parseCrlDerOnce);

function parseCrlDerOnce(der: Buffer): ParsedCrl {
  try {
    const [tbs, sigAlg, sigValue] = derChildren(readDerElement(der));
    if (!tbs || !sigAlg || !sigValue) throw new Error('CertificateList needs three elements');
    const tbsParts = derChildren(tbs);
    // Skip the optional version INTEGER to reach signature, issuer.
    const issuerEl = tbsParts[tbsParts[0]?.tag === 0x02 ? 2 : 1];
    if (!issuerEl) throw new Error('TBSCertList has no issuer');
    const algEl = derChildren(sigAlg)[0];
    if (!algEl) throw new Error('empty signatureAlgorithm');
    const algorithm = derOid(algEl);
    // BIT STRING: first content octet is the count of unused bits, 0 for signatures.
    const signature = sigValue.content.subarray(1);
    const fields = readTbsCertList(tbs);
    const revoked = new Map<string, Date>();
    for (const entry of fields.revoked) revoked.set(normaliseSerial(entry.serial), entry.date);
    const issuer = nameToString(fields.issuer);
    const verified = new Map<string, boolean | 'unsupported'>();
    return {
      der,
      issuer,
      thisUpdate: fields.thisUpdate,
      ...(fields.nextUpdate ? { nextUpdate: fields.nextUpdate } : {}),
      revoked,
      isNamedBy(candidate) {
        if (issuerEl.bytes.equals(certificateNameDer(candidate, 'subject'))) return true;
        // The same name in another string type (PrintableString / UTF8String) reads the same as text.
        return nameToString(certificateSubject(candidate.raw)) === issuer;
      },
      isSignedBy(issuer) {
        let result = verified.get(issuer.fingerprint256);
        if (result === undefined) {
          result = verifyWithAlgorithm(algorithm, tbs.bytes, signature, issuer.publicKey);
          verified.set(issuer.fingerprint256, result);
        }
        return result;
      },
    };
  } catch (cause) {
    if (cause instanceof QerdsError && cause.code === 'PKI_CRL_MALFORMED') throw cause;
    throw new QerdsError('PKI_CRL_MALFORMED', `CRL cannot be parsed: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Whether `crl` tells the revocation status as of `at`: `at` lies within thisUpdate..nextUpdate, or the CRL
 * was issued after `at` (a later CRL still lists every revocation up to its thisUpdate, so it proves the
 * status at `at` too). A CRL whose nextUpdate is before `at` says nothing about `at`: a revocation published
 * since would be missed (EN 319 102-1 §5.2.5 freshness). Without nextUpdate (RFC 5280 wants it) only a CRL
 * issued at or after `at` counts.
 */
export function crlCovers(crl: Pick<ParsedCrl, 'thisUpdate' | 'nextUpdate'>, at: Date): boolean {
  if (crl.thisUpdate.getTime() >= at.getTime()) return true;
  return crl.nextUpdate !== undefined && crl.nextUpdate.getTime() >= at.getTime();
}

/** Lower-case hex without leading zeros, so node's and @peculiar/x509's serial forms compare equal. */
export function normaliseSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/**
 * DER of a certificate's subject or issuer Name (RFC 5280 §4.1: TBSCertificate fields). Read once per
 * X509Certificate object (immutable, and shared by content through parse-cache.ts: the CA's, the TSA's and the
 * peers' certificates are asked for on every CRL look-up, token and seal); callers must not change the Buffer.
 */
export function certificateNameDer(cert: X509Certificate, which: 'subject' | 'issuer'): Buffer {
  let names = nameDers.get(cert);
  if (!names) {
    names = readNameDers(cert);
    nameDers.set(cert, names);
  }
  return names[which];
}

const nameDers = new WeakMap<X509Certificate, { readonly subject: Buffer; readonly issuer: Buffer }>();

function readNameDers(cert: X509Certificate): { readonly subject: Buffer; readonly issuer: Buffer } {
  const [tbs] = derChildren(readDerElement(cert.raw));
  if (!tbs) throw new QerdsError('PKI_DER_MALFORMED', 'certificate has no TBSCertificate');
  const parts = derChildren(tbs);
  // [0] version is optional: serialNumber, signature, issuer, validity, subject follow it.
  const base = parts[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = parts[base + 2];
  const subject = parts[base + 4];
  if (!issuer) throw new QerdsError('PKI_DER_MALFORMED', 'certificate has no issuer');
  if (!subject) throw new QerdsError('PKI_DER_MALFORMED', 'certificate has no subject');
  return { subject: Buffer.from(subject.bytes), issuer: Buffer.from(issuer.bytes) };
}

/** The cRLNumber extension's value (RFC 5280 §5.2.3), 0 when absent. */
export function crlNumberOf(crl: x509.X509Crl): bigint {
  const ext = crl.extensions.find((e) => e.type === OID_CRL_NUMBER);
  if (!ext) return 0n;
  const der = Buffer.from(ext.value);
  // INTEGER: tag 0x02, short length, big-endian body.
  const len = der[1] ?? 0;
  return BigInt(`0x${der.subarray(2, 2 + len).toString('hex') || '0'}`);
}
