import type { X509Certificate } from 'node:crypto';
import {
  formatParticipantId,
  isQerdsError,
  systemClock,
  type Clock,
  type ParticipantId,
} from '../core/index.js';
import {
  certificateFacts,
  derChildren,
  derOid,
  readDerElement,
  x509,
  type Finding,
  type TrustStore,
} from '../pki/index.js';
import type { Directory } from './types.js';
import { certificateFrom } from '../pki/parse-cache.js';

/** What we know of one certificate the directory names, and whether it chains to our trust store. */
export interface CertificateCheck {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint256: string;
  readonly trusted: boolean;
  /** The certificate claims EU qualified status (ETSI EN 319 412-5 QcCompliance statement). Not checked against a trusted list. */
  readonly qualified: boolean;
  /** QcType statements: `eseal`, `esign`, `web`. */
  readonly qcTypes: readonly string[];
  readonly findings: readonly Finding[];
}

/** The pre-send trust check: may we send to this recipient, through which AP, with which certificates, and why. */
export interface RecipientCheck {
  readonly participant: string;
  readonly verdict: 'reachable' | 'unreachable' | 'untrusted';
  readonly reachable: boolean;
  readonly endpoint?: string;
  readonly transportProfile?: string;
  /** Where the answer came from: `static`, or the SMP URL. */
  readonly source?: string;
  readonly expiresAt?: string;
  /** SMP 1.0 MinimumAuthenticationLevel the receiving AP requires. */
  readonly minimumAuthenticationLevel?: string;
  readonly apCertificate?: CertificateCheck;
  readonly encryptionCertificate?: CertificateCheck;
  /** Set when the directory refused to answer (`DIRECTORY_…`). */
  readonly error?: { readonly code: string; readonly message: string };
  /** The reasons for the verdict, in plain words, in the order they were established. */
  readonly grounds: readonly string[];
}

/** Directory refusals that mean "someone may be tampering with the answer", as opposed to "cannot reach". */
const UNTRUSTED_CODES = new Set([
  'DIRECTORY_SMP_SIGNATURE_INVALID',
  'DIRECTORY_SMP_SIGNATURE_UNTRUSTED',
  'DIRECTORY_SMP_SIGNER_ROLE',
  'DIRECTORY_SMP_MISMATCH',
]);

const QC_STATEMENTS = '1.3.6.1.5.5.7.1.3';
const QC_COMPLIANCE = '0.4.0.1862.1.1';
const QC_TYPE = '0.4.0.1862.1.6';
const QC_TYPE_NAMES: Readonly<Record<string, string>> = {
  '0.4.0.1862.1.6.1': 'esign',
  '0.4.0.1862.1.6.2': 'eseal',
  '0.4.0.1862.1.6.3': 'web',
};

/**
 * Answer, before sending, whether `participant` can be reached and trusted: look it up, then validate the AP
 * certificate and the recipient's encryption certificate the directory names against `trust`. Never throws
 * for a directory refusal: the refusal is the answer, with its code among the grounds.
 */
export async function checkRecipient(
  directory: Directory,
  trust: TrustStore,
  participant: ParticipantId,
  options: { readonly clock?: Clock } = {},
): Promise<RecipientCheck> {
  const id = formatParticipantId(participant);
  const now = (options.clock ?? systemClock).now();
  let entry;
  try {
    entry = await directory.lookup(participant);
  } catch (error) {
    if (!isQerdsError(error) || !error.code.startsWith('DIRECTORY_')) throw error;
    const untrusted = UNTRUSTED_CODES.has(error.code);
    return {
      participant: id,
      verdict: untrusted ? 'untrusted' : 'unreachable',
      reachable: false,
      error: { code: error.code, message: error.message },
      grounds: [
        `the directory refused the answer for ${id}: ${error.code}: ${error.message}`,
        untrusted
          ? 'the published routing cannot be trusted, so nothing may be sent on it'
          : 'no usable endpoint is published',
      ],
    };
  }
  if (!entry) {
    return {
      participant: id,
      verdict: 'unreachable',
      reachable: false,
      grounds: [`${id} is not in the directory`],
    };
  }

  const grounds: string[] = [
    `the directory (${entry.source ?? 'static'}) names the endpoint ${entry.endpoint}${entry.transportProfile ? ` (transport profile ${entry.transportProfile})` : ''}`,
  ];
  let untrusted = false;
  const apCertificate = entry.apCertificatePem
    ? checkCertificate(entry.apCertificatePem, trust, now)
    : undefined;
  if (!apCertificate) {
    grounds.push(
      "the directory pins no AP certificate: the AP's e-seal is checked against the trust store when it signs the AS4 receipt",
    );
  } else if (apCertificate.trusted) {
    grounds.push(
      `the AP certificate ${apCertificate.subject} chains to a trust anchor${apCertificate.qualified ? `, and claims qualified status (${apCertificate.qcTypes.join(', ') || 'QcCompliance'})` : ', and is not a qualified certificate'}`,
    );
  } else {
    untrusted = true;
    grounds.push(`the AP certificate ${apCertificate.subject} is not trusted: ${errors(apCertificate)}`);
  }

  const encryptionCertificate = entry.encryptionCertificatePem
    ? checkEncryptionCertificate(entry.encryptionCertificatePem, trust, now)
    : undefined;
  if (!encryptionCertificate) {
    grounds.push(
      'no encryption certificate of the recipient is published: end-to-end encryption needs one from another source',
    );
  } else if (encryptionCertificate.trusted) {
    grounds.push(
      `the recipient's encryption certificate ${encryptionCertificate.subject} chains to a trust anchor`,
    );
  } else {
    // Threat: encrypting for a certificate an attacker published makes the content readable by the attacker.
    untrusted = true;
    grounds.push(
      `the recipient's encryption certificate ${encryptionCertificate.subject} is not trusted: ${errors(encryptionCertificate)}`,
    );
  }
  if (entry.expiresAt) grounds.push(`the endpoint is published until ${entry.expiresAt.toISOString()}`);
  if (entry.minimumAuthenticationLevel)
    grounds.push(`the receiving AP requires authentication level ${entry.minimumAuthenticationLevel}`);
  if (entry.smpSignedWithSha1)
    grounds.push(
      'the SMP signed its answer with SHA-1, accepted only because directory.smp.allowRsaSha1 is on (Peppol SMP 1.x before 1.3.0)',
    );

  return {
    participant: id,
    verdict: untrusted ? 'untrusted' : 'reachable',
    reachable: !untrusted,
    endpoint: entry.endpoint,
    transportProfile: entry.transportProfile,
    source: entry.source ?? 'static',
    expiresAt: entry.expiresAt?.toISOString(),
    minimumAuthenticationLevel: entry.minimumAuthenticationLevel,
    apCertificate,
    encryptionCertificate,
    grounds,
  };
}

/**
 * The recipient's (C4's) encryption certificate as C2 must see it before encrypting for it (REQ2): it
 * chains to a trust anchor, is valid at `at`, is not revoked (the trust store's CRLs), and its key may
 * be used for key transport or key agreement. A certificate that fails any of these is `trusted: false`
 * with a finding saying why (`PKI_KEY_USAGE_NOT_ENCRYPTION` for the usage).
 */
export function checkEncryptionCertificate(pem: string, trust: TrustStore, at: Date): CertificateCheck {
  let check: CertificateCheck;
  try {
    check = checkCertificate(pem, trust, at);
  } catch (cause) {
    return unreadable(cause);
  }
  const keyUsage = certificateFacts(certificateFrom(pem)).keyUsage;
  // Threat: a signing-only key (or a CA key) published as the encryption key: RFC 5280 §4.2.1.3 forbids
  // using it for key transport / agreement, and a recipient who never meant to decrypt with it may not
  // protect it for that purpose. No keyUsage extension at all means "any use" (RFC 5280).
  const encryption = x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyAgreement;
  if (keyUsage !== undefined && !(keyUsage & encryption)) {
    return {
      ...check,
      trusted: false,
      findings: [
        ...check.findings,
        {
          code: 'PKI_KEY_USAGE_NOT_ENCRYPTION',
          message: `${check.subject} has neither keyEncipherment nor keyAgreement key usage`,
          severity: 'error',
        },
      ],
    };
  }
  return check;
}

/** Why the recipient's encryption certificate may not be used, in words; undefined when it may. */
export function encryptionCertificateRefusal(pem: string, trust: TrustStore, at: Date): string | undefined {
  const check = checkEncryptionCertificate(pem, trust, at);
  return check.trusted
    ? undefined
    : `the recipient's encryption certificate ${check.subject} is not usable: ${errors(check)}`;
}

function unreadable(cause: unknown): CertificateCheck {
  const message = `the certificate does not parse: ${(cause as Error).message}`;
  return {
    subject: '(unreadable)',
    issuer: '',
    serialNumber: '',
    validFrom: '',
    validTo: '',
    fingerprint256: '',
    trusted: false,
    qualified: false,
    qcTypes: [],
    findings: [{ code: 'PKI_CERT_MALFORMED', message, severity: 'error' }],
  };
}

function errors(check: CertificateCheck): string {
  return check.findings
    .filter((f) => f.severity === 'error')
    .map((f) => `${f.code} (${f.message})`)
    .join('; ');
}

function checkCertificate(pem: string, trust: TrustStore, at: Date): CertificateCheck {
  const cert = certificateFrom(pem);
  const path = trust.validate(cert, { at });
  const qc = qcStatements(cert);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serialNumber: cert.serialNumber,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprint256: cert.fingerprint256,
    trusted: path.valid,
    qualified: qc.compliance,
    qcTypes: qc.types,
    findings: path.findings,
  };
}

/** QCStatements (RFC 3739 §3.2.6; ETSI EN 319 412-5 §4.2): `SEQUENCE OF SEQUENCE { statementId OID, statementInfo ANY OPTIONAL }`. */
function qcStatements(cert: X509Certificate): { compliance: boolean; types: string[] } {
  const ext = new x509.X509Certificate(Uint8Array.from(cert.raw)).getExtension(QC_STATEMENTS);
  if (!ext) return { compliance: false, types: [] };
  try {
    const statements = derChildren(readDerElement(Buffer.from(ext.value))).map((s) => derChildren(s));
    const ids = statements.map((s) => (s[0] ? derOid(s[0]) : ''));
    const typeInfo = statements.find((s) => s[0] && derOid(s[0]) === QC_TYPE)?.[1];
    const types = typeInfo ? derChildren(typeInfo).map((t) => QC_TYPE_NAMES[derOid(t)] ?? derOid(t)) : [];
    return { compliance: ids.includes(QC_COMPLIANCE), types };
  } catch {
    // An unreadable statement claims nothing.
    return { compliance: false, types: [] };
  }
}
