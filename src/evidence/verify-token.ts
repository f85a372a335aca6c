import type { X509Certificate } from 'node:crypto';
import { readTlv, tlvBytes, tlvChildren, tlvOid } from '../crypto/ber.js';
import { OID as CMS_OID } from '../pki/oids.js';
import type { Finding, TrustStore } from '../pki/index.js';
import { revocationUnknown, withEmbeddedCrls } from '../pki/revocation-status.js';
import { verifyCadesSignature, type CadesCheck } from '../seal/cades-verify.js';
import { verifyTimestampToken } from '../timestamp/verify.js';
import { parseTimestampToken } from '../timestamp/token.js';
import { indicationOf } from './indication.js';
import { DS_NS, EVIDENCE_NS } from './names.js';
import type { Indication, SubIndication } from './types.js';

/**
 * What `qerds verify` can tell from a file's first bytes: each kind is judged by its own standard.
 * `xades` is signed XML that is not evidence (its verifier is the XAdES one); `xml` is XML with no signature.
 */
export type VerifiableFileKind =
  'evidence-xml' | 'xades' | 'trusted-list' | 'xml' | 'timestamp-token' | 'cades' | 'cms-other' | 'unknown';

/**
 * Tell XML (evidence, a trusted list, other signed XML) from a CMS ContentInfo (an RFC 3161 TimeStampToken:
 * SignedData over TSTInfo; CAdES / CMS: SignedData over anything else) or a TimeStampResp (the token after a
 * PKIStatusInfo, as `openssl ts -reply` writes it), in DER or BER. Nothing is trusted here: the verifier
 * that follows decides.
 */
export function detectFileKind(bytes: Buffer): VerifiableFileKind {
  const head = bytes
    .subarray(0, 64)
    .toString('latin1')
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart();
  if (head.startsWith('<')) return xmlKind(bytes.toString('utf8'));
  const cms = cmsOf(bytes);
  if (!cms) return 'unknown';
  return cms.kind;
}

/** The root element's namespace and name decide; a signature anywhere makes other XML `xades`. */
function xmlKind(xml: string): VerifiableFileKind {
  const body = xml.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/g, '').trimStart();
  const root = /^<(?:([\w.-]+):)?([\w.-]+)/.exec(body);
  if (!root) return 'xml';
  // Anything naming the evidence namespace goes to the evidence verifier, which says what is wrong with it.
  if (root[2] === 'Evidence' || xml.includes(EVIDENCE_NS)) return 'evidence-xml';
  if (root[2] === 'TrustServiceStatusList') return 'trusted-list';
  return xml.includes(DS_NS) && /<(?:[\w.-]+:)?Signature[\s>]/.test(body) ? 'xades' : 'xml';
}

/** The CMS ContentInfo in `bytes` (itself, or the token of a TimeStampResp) and what it holds. */
function cmsOf(bytes: Buffer): { kind: 'timestamp-token' | 'cades' | 'cms-other'; der: Buffer } | undefined {
  try {
    const outer = readTlv(bytes, 0);
    if (outer.tag !== 0x30 || outer.end !== bytes.length) return undefined;
    const [first, second] = tlvChildren(bytes, outer);
    if (first?.tag === 0x06) return { kind: contentKind(bytes, outer), der: bytes };
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
    if (first?.tag === 0x30 && second?.tag === 0x30 && tlvChildren(bytes, first)[0]?.tag === 0x02) {
      const token = Buffer.from(tlvBytes(bytes, second));
      return { kind: contentKind(token, readTlv(token, 0)), der: token };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function contentKind(
  buf: Buffer,
  contentInfo: ReturnType<typeof readTlv>,
): 'timestamp-token' | 'cades' | 'cms-other' {
  const [type, explicit] = tlvChildren(buf, contentInfo);
  if (!type || tlvOid(buf, type) !== CMS_OID.signedData || !explicit) return 'cms-other';
  const [sd] = tlvChildren(buf, explicit);
  const encap = sd ? tlvChildren(buf, sd)[2] : undefined;
  const eContentType = encap ? tlvChildren(buf, encap)[0] : undefined;
  return eContentType && tlvOid(buf, eContentType) === CMS_OID.tstInfo ? 'timestamp-token' : 'cades';
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
  /** Whether the token was BER-encoded (indefinite lengths): accepted, shown for the record. */
  readonly ber?: boolean;
  readonly validationTime: Date;
  readonly findings: Finding[];
}

export interface FileVerifyOptions {
  readonly trust: TrustStore;
  readonly at?: Date;
  readonly content?: Buffer;
  /** `--cert`: the signer must be this certificate; it also stands in for a certificate the file leaves out. */
  readonly expectedCertificate?: X509Certificate;
}

/**
 * Verify a stand-alone RFC 3161 timestamp (token or response, DER or BER): the TSA's signature (PKCS#1 v1.5,
 * RSASSA-PSS, ECDSA) and ESS binding, the TSA certificate path at the validation time (EN 319 102-1: nothing
 * proves the token older than now) with the token's own CRLs and the trust store's, its revocation status,
 * and, with `content`, the imprint over it. A token without the TSA certificate is verified with `--cert`
 * or a trust anchor that is the TSA certificate. A token not bound to any content says so (warning
 * TSA_IMPRINT_NOT_CHECKED).
 */
export async function verifyTimestampFile(
  bytes: Buffer,
  options: FileVerifyOptions,
): Promise<TimestampFileReport> {
  const at = options.at ?? new Date();
  const der = cmsOf(bytes)?.der ?? bytes;
  let crls: readonly Buffer[] = [];
  let ber = false;
  try {
    const parsed = parseTimestampToken(der);
    crls = parsed.crls;
    ber = parsed.ber;
  } catch {
    // verifyTimestampToken reports the same failure as a finding.
  }
  const trust = withEmbeddedCrls(options.trust, crls);
  const certificates = [
    ...(options.expectedCertificate ? [options.expectedCertificate] : []),
    ...options.trust.anchors,
  ];
  let r: Awaited<ReturnType<typeof verifyTimestampToken>>;
  try {
    r = await verifyTimestampToken(der, {
      trust,
      at,
      certificates,
      ...(options.content ? { data: options.content } : {}),
    });
  } catch (e) {
    // A damaged certificate inside the token (its key or extensions do not parse): the token cannot be read.
    r = {
      valid: false,
      findings: [
        {
          code: 'TSA_TOKEN_MALFORMED',
          severity: 'error',
          message: `a certificate in the token cannot be read: ${(e as Error).message}`,
        },
      ],
    };
  }
  const findings = [...r.findings];
  const tsa = r.tsaCertificate;
  // Threat: a token of another TSA passing where the caller named the one that must have signed it.
  if (
    tsa &&
    options.expectedCertificate &&
    tsa.fingerprint256 !== options.expectedCertificate.fingerprint256
  ) {
    findings.push({
      code: 'CMS_SIGNER_NOT_EXPECTED',
      severity: 'error',
      message: `signed by ${tsa.subject.replace(/\n/g, ', ')}, not by the certificate given with --cert`,
    });
  }
  if (tsa && r.valid) findings.push(...revocationUnknown(r.findings, tsa, 'TSA certificate'));
  const { indication, subIndication } = indicationOf(findings);
  return {
    kind: 'timestamp-token',
    indication,
    ...(subIndication ? { subIndication } : {}),
    ...(r.genTime ? { genTime: r.genTime } : {}),
    ...(r.policy ? { policy: r.policy } : {}),
    ...(r.serialNumber ? { serialNumber: r.serialNumber } : {}),
    ...(r.imprint
      ? { imprint: { algorithm: r.imprint.algorithm, digest: r.imprint.digest.toString('hex') } }
      : {}),
    ...(tsa ? { tsa } : {}),
    contentChecked: options.content !== undefined,
    ...(ber ? { ber } : {}),
    validationTime: at,
    findings,
  };
}

export interface CadesFileReport extends CadesCheck {
  readonly kind: 'cades';
  readonly indication: Indication;
  readonly subIndication?: SubIndication;
}

/** A CMS / CAdES signature (EN 319 122-1), attached or detached (`content`): see seal's verifyCadesSignature. */
export async function verifyCadesFile(bytes: Buffer, options: FileVerifyOptions): Promise<CadesFileReport> {
  const r = await verifyCadesSignature(cmsOf(bytes)?.der ?? bytes, {
    trust: options.trust,
    ...(options.at ? { at: options.at } : {}),
    ...(options.content ? { content: options.content } : {}),
    ...(options.expectedCertificate ? { expectedCertificate: options.expectedCertificate } : {}),
  });
  const { indication, subIndication } = indicationOf(r.findings);
  return { kind: 'cades', indication, ...(subIndication ? { subIndication } : {}), ...r };
}
