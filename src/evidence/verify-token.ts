import type { X509Certificate } from 'node:crypto';
import { derChildren, readDerElement, type Finding, type TrustStore } from '../pki/index.js';
import { verifyTimestampToken } from '../timestamp/index.js';
import { indicationOf } from './indication.js';
import type { Indication, SubIndication } from './types.js';

/** What `qerds verify` can tell from a file's first bytes. */
export type VerifiableFileKind = 'evidence-xml' | 'timestamp-token' | 'unknown';

/**
 * Tell an XML document from a DER RFC 3161 TimeStampToken (a CMS ContentInfo) or TimeStampResp (the
 * token after a PKIStatusInfo, as `openssl ts -reply` writes it). Nothing is trusted here: the
 * verifier that follows decides.
 */
export function detectFileKind(bytes: Buffer): VerifiableFileKind {
  const head = bytes.subarray(0, 64).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  if (head.startsWith('<')) return 'evidence-xml';
  return tokenDer(bytes) ? 'timestamp-token' : 'unknown';
}

/** The TimeStampToken in a DER token or response, or undefined when it is neither. */
function tokenDer(bytes: Buffer): Buffer | undefined {
  try {
    const outer = readDerElement(bytes);
    if (outer.tag !== 0x30 || outer.bytes.length !== bytes.length) return undefined;
    const [first, second] = derChildren(outer);
    if (first?.tag === 0x06) return bytes; // ContentInfo: contentType OID first
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
    if (first?.tag === 0x30 && second?.tag === 0x30 && derChildren(first)[0]?.tag === 0x02) return Buffer.from(second.bytes);
  } catch {
    return undefined;
  }
  return undefined;
}

export interface TimestampFileReport {
  readonly kind: 'timestamp-token';
  readonly indication: Indication;
  readonly subIndication?: SubIndication;
  readonly genTime?: Date;
  readonly policy?: string;
  readonly serialNumber?: string;
  readonly imprint?: { readonly algorithm: string; readonly digest: string };
  readonly tsa?: X509Certificate;
  /** Whether the imprint was compared with the content given. */
  readonly contentChecked: boolean;
  readonly validationTime: Date;
  readonly findings: Finding[];
}

/**
 * Verify a stand-alone RFC 3161 timestamp (token or response): the TSA's signature and ESS binding,
 * the TSA certificate path at the validation time (EN 319 102-1: nothing proves the token older than
 * now), and, with `content`, the imprint over it. A token not bound to any content stays valid but
 * says so (warning TSA_IMPRINT_NOT_CHECKED).
 */
export async function verifyTimestampFile(
  bytes: Buffer,
  options: { readonly trust: TrustStore; readonly at?: Date; readonly content?: Buffer },
): Promise<TimestampFileReport> {
  const at = options.at ?? new Date();
  const der = tokenDer(bytes) ?? bytes;
  const r = await verifyTimestampToken(der, { trust: options.trust, at, ...(options.content ? { data: options.content } : {}) });
  const findings = [...r.findings];
  const { indication, subIndication } = indicationOf(findings);
  return {
    kind: 'timestamp-token',
    indication,
    ...(subIndication ? { subIndication } : {}),
    ...(r.genTime ? { genTime: r.genTime } : {}),
    ...(r.policy ? { policy: r.policy } : {}),
    ...(r.serialNumber ? { serialNumber: r.serialNumber } : {}),
    ...(r.imprint ? { imprint: { algorithm: r.imprint.algorithm, digest: r.imprint.digest.toString('hex') } } : {}),
    ...(r.tsaCertificate ? { tsa: r.tsaCertificate } : {}),
    contentChecked: options.content !== undefined,
    validationTime: at,
    findings,
  };
}
