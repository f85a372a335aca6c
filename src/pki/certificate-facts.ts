import type { X509Certificate } from 'node:crypto';
import { ORGANIZATION_IDENTIFIER_OID } from './dev-ap-id.js';
import { ETSI_POLICIES, parseQcStatements, QC_STATEMENTS_OID, type QcFacts } from './qc-statements.js';
import {
  certificateExtensions,
  certificateSubject,
  nameField,
  type DerExtension,
  readBasicConstraints,
  readCertificatePolicies,
  readExtendedKeyUsage,
  readKeyUsage,
  readSubjectKeyIdentifier,
} from './x509-read.js';

/** The extensions that path validation and timestamp checks read, decoded once per certificate. */
export interface CertificateFacts {
  /** keyUsage bits (key-usage.ts `KeyUsageFlags`), when the extension is present. */
  readonly keyUsage?: number;
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number };
  readonly extendedKeyUsage?: { readonly critical: boolean; readonly usages: readonly string[] };
  /** Hex SubjectKeyIdentifier. */
  readonly subjectKeyIdentifier?: string;
  /** The subject's organizationIdentifier (2.5.4.97, EN 319 412-1 §5.1.4), e.g. `VATBE-0123456789`. */
  readonly organizationIdentifier?: string;
  /** The qcStatements extension (EN 319 412-5), when present; `'malformed'` when it cannot be decoded. */
  readonly qc?: QcFacts | 'malformed';
  /** certificatePolicies policy OIDs (RFC 5280 §4.2.1.4), when the extension is present. */
  readonly policies?: readonly string[];
}

const MAX_ENTRIES = 1024;
const cache = new Map<string, CertificateFacts>();

/**
 * Decoding a certificate's extensions in JavaScript (ASN.1) costs far more than the RSA checks around it, and
 * the same few certificates (CA, TSA, the APs' seals) are seen on every message. The facts are a pure function
 * of the DER, so they are memoised by its SHA-256 fingerprint in a small bounded map.
 */
export function certificateFacts(cert: X509Certificate): CertificateFacts {
  const key = cert.fingerprint256;
  const hit = cache.get(key);
  if (hit) return hit;
  const facts = readCertificateFacts(cert.raw);
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(key, facts);
  return facts;
}

/** The facts from the certificate's DER (RFC 5280 §4.2.1); the first of a repeated extension counts. */
function readCertificateFacts(der: Buffer): CertificateFacts {
  const extensions = new Map<string, DerExtension>();
  for (const e of certificateExtensions(der)) if (!extensions.has(e.oid)) extensions.set(e.oid, e);
  const ku = extensions.get(OID_KEY_USAGE);
  const bc = extensions.get(OID_BASIC_CONSTRAINTS);
  const eku = extensions.get(OID_EXT_KEY_USAGE);
  const ski = extensions.get(OID_SUBJECT_KEY_IDENTIFIER);
  const qc = extensions.get(QC_STATEMENTS_OID);
  const cp = extensions.get(OID_CERTIFICATE_POLICIES);
  let policies: readonly string[] | undefined;
  try {
    policies = cp ? readCertificatePolicies(cp.value) : undefined;
  } catch {
    // Unreadable policies state no policy: the roles that need one refuse the certificate.
    policies = undefined;
  }
  const organizationIdentifier = nameField(certificateSubject(der), ORGANIZATION_IDENTIFIER_OID);
  return Object.freeze({
    keyUsage: ku ? readKeyUsage(ku.value) : undefined,
    basicConstraints: bc ? readBasicConstraints(bc.value) : undefined,
    extendedKeyUsage: eku ? { critical: eku.critical, usages: readExtendedKeyUsage(eku.value) } : undefined,
    subjectKeyIdentifier: ski ? readSubjectKeyIdentifier(ski.value) : undefined,
    organizationIdentifier,
    ...(qc ? { qc: qcOf(qc.value) } : {}),
    ...(policies ? { policies } : {}),
  });
}

const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
const OID_KEY_USAGE = '2.5.29.15';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_CERTIFICATE_POLICIES = '2.5.29.32';
const OID_EXT_KEY_USAGE = '2.5.29.37';

/** A certificate whose qcStatements cannot be decoded still has its other facts; the roles that read it refuse it. */
function qcOf(value: Buffer): QcFacts | 'malformed' {
  try {
    return parseQcStatements(value);
  } catch {
    return 'malformed';
  }
}

/**
 * The SubjectKeyIdentifier extension value (RFC 5280 §4.2.1.2), or undefined when the certificate has none.
 * A certificate whose extensions cannot be decoded has no usable identifier either: key references in
 * messages (WS-Security, XMLDSig X509SKI, CMS RecipientIdentifier) are matched against certificates that
 * may come from the message itself, and one undecodable candidate must not stop the search.
 */
export function subjectKeyIdentifier(cert: X509Certificate): Buffer | undefined {
  let hex: string | undefined;
  try {
    hex = certificateFacts(cert).subjectKeyIdentifier;
  } catch {
    return undefined;
  }
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}

/**
 * What a certificate's issuer states about it (EN 319 412-5 qcStatements, EN 319 411 policies), for reports. This is
 * the certificate's claim: whether its issuer is a qualified trust service is the trusted list's to say.
 */
export interface CertificateQcReport {
  /** QcCompliance present: stated to be an EU qualified certificate. */
  readonly qualified: boolean;
  /** QcSSCD present: the key is stated to be in a QSCD. */
  readonly qscd: boolean;
  /** QcType values (`esign`, `eseal`, `web`, or an OID). */
  readonly types: readonly string[];
  /** Certificate policies: ETSI ones by name (QCP-l, QCP-l-qscd, …), others as OIDs. */
  readonly policies: readonly string[];
  /** The qcStatements extension is present but cannot be decoded. */
  readonly malformed?: true;
}

export function certificateQcReport(cert: X509Certificate): CertificateQcReport {
  const facts = certificateFacts(cert);
  const qc = facts.qc === 'malformed' ? undefined : facts.qc;
  return {
    qualified: qc?.compliance ?? false,
    qscd: qc?.qscd ?? false,
    types: qc?.types ?? [],
    policies: (facts.policies ?? []).map((p) => ETSI_POLICIES[p]?.name ?? p),
    ...(facts.qc === 'malformed' ? { malformed: true as const } : {}),
  };
}

/**
 * The commonName of a subject as node's X509Certificate prints it (one `attr=value` per line), or undefined when it
 * has none. The CN must start its line: a `CN=` inside another attribute's value (`O=ACN=x`) is not one.
 */
export function subjectCommonName(subject: string): string | undefined {
  return /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
}
