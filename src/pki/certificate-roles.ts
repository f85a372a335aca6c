import type { X509Certificate } from 'node:crypto';
import { certificateFacts } from './certificate-facts.js';
import {
  ANY_EKU,
  CLIENT_AUTH_EKU,
  OCSP_SIGNING_EKU,
  SERVER_AUTH_EKU,
  TIME_STAMPING_EKU,
  TSL_SIGNING_EKU,
} from './extended-key-usages.js';
import { ETSI_POLICIES } from './qc-statements.js';
import type { Finding } from './types.js';
import { KeyUsageFlags } from './key-usage.js';

/**
 * What a certificate is used for here, each with the keyUsage / extendedKeyUsage it must carry:
 * - `e-seal`: seals evidence (XAdES). keyUsage present with digitalSignature or nonRepudiation (EN 319 412-3
 *   QSealC and EN 319 412-2 §4.3.2: a seal certificate states its key usage); no EKU reserved for another role.
 * - `as4-signer`: signs AS4 messages and receipts (WS-Security). digitalSignature or nonRepudiation when keyUsage
 *   is present (RFC 5280: absent means any use; products we interoperate with do not all set it); no EKU
 *   reserved for another role.
 * - `smp-signer`: signs SMP metadata. As `as4-signer`: we found no EKU or policy every SMP signer carries in the
 *   specifications available offline (SMP 1.0, Peppol SMP, SMP 2.0), so only the reserved ones are refused.
 * - `trust-list-signer`: signs a TS 119 612 trusted list: EKU id-tsl-kp-tslSigning (§5.7.1).
 * - `tsa`: signs RFC 3161 tokens: EKU timeStamping, the only one, critical (RFC 3161 §2.3).
 *
 * Beside key usages, what the issuer states of the holder (EN 319 412-5 QcType, EN 319 411-1/-2 policies; the texts
 * are not available offline, see qc-statements.ts), enforced only where it certainly excludes the role:
 * - `e-seal`: a QcType that does not include eseal (esign: a natural person's signature; web: a website), or only
 *   natural-person or website policies (QCP-n, QCP-n-qscd, QCP-w, EVCP/OVCP/DVCP/IVCP) and no legal-person one;
 * - `as4-signer`, `smp-signer`: only natural-person QcType/policies (an AP is no natural person); only website ones
 *   unless `tlsEkuSigners` (as for TLS-only EKUs);
 * - all three: a qcStatements extension that cannot be decoded (its type cannot be known).
 * A certificate without these extensions is judged on key usages alone (most private and dev CAs set none).
 *
 * "Reserved" EKUs belong to one role only: timeStamping (RFC 3161 §2.3 makes it the TSA's sole EKU),
 * tslSigning, OCSPSigning; and a certificate whose EKUs are only TLS ones (serverAuth, clientAuth) is a TLS
 * certificate. A certificate marked CA (basicConstraints cA) is never an e-seal.
 * Threat: any certificate under a trusted CA (a recipient's encryption-only key, the TSA's, a TLS key) used to
 * sign what only an access point, an SMP, a list operator or a TSA may sign.
 */
export type CertificateRole = 'e-seal' | 'as4-signer' | 'smp-signer' | 'trust-list-signer' | 'tsa';

const ROLE_NAMES: Readonly<Record<CertificateRole, string>> = {
  'e-seal': 'an e-seal',
  'as4-signer': 'an AS4 signing certificate',
  'smp-signer': 'an SMP signing certificate',
  'trust-list-signer': 'a trusted list signing certificate',
  tsa: 'a TSA certificate',
};

const RESERVED_EKUS: Readonly<Record<string, string>> = {
  [TIME_STAMPING_EKU]: 'timeStamping (TSA)',
  [TSL_SIGNING_EKU]: 'tslSigning (trusted list signer)',
  [OCSP_SIGNING_EKU]: 'OCSPSigning (OCSP responder)',
};
const TLS_EKUS: ReadonlySet<string> = new Set([SERVER_AUTH_EKU, CLIENT_AUTH_EKU]);
const SIGNING_KEY_USAGE = KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation;

/** Finding codes of checkCertificateRole (stable). */
export const ROLE_FINDINGS = Object.freeze({
  keyUsage: 'PKI_ROLE_KEY_USAGE',
  extendedKeyUsage: 'PKI_ROLE_EXTENDED_KEY_USAGE',
  ca: 'PKI_ROLE_CA',
  qcType: 'PKI_ROLE_QC_TYPE',
  policy: 'PKI_ROLE_POLICY',
});

export interface CertificateRoleOptions {
  /**
   * Accept an AS4 or SMP signer whose extended key usages are TLS ones only. Peppol access point certificates
   * (OpenPEPPOL AP CA) carry clientAuth/serverAuth and sign AS4 messages and receipts with the same key, so a verifier
   * of other networks' captures must take them; between qerds-ap instances the signer is the pinned AP certificate.
   * Peppol SMP certificates (OpenPEPPOL SMP CA) likewise carry clientAuth only and sign SMP responses.
   * @defaultValue false
   */
  readonly tlsEkuSigners?: boolean;
}

/** The error findings of one role check; the subject is formatted only for a finding (most checks have none). */
class RoleErrors {
  readonly findings: Finding[] = [];
  constructor(
    private readonly cert: X509Certificate,
    private readonly role: CertificateRole,
  ) {}
  add(code: string, why: string): void {
    this.findings.push({
      code,
      message: `${this.cert.subject.replace(/\n/g, ', ')} is not ${ROLE_NAMES[this.role]}: ${why}`,
      severity: 'error',
    });
  }
}

/** Whether `cert` may act in `role`: an empty list when it may, else one error finding per rule it breaks. */
export function checkCertificateRole(
  cert: X509Certificate,
  role: CertificateRole,
  options: CertificateRoleOptions = {},
): Finding[] {
  const facts = certificateFacts(cert);
  const out = new RoleErrors(cert, role);
  // A seal is an end-entity's; other roles may be held by a self-signed certificate that is its own anchor
  // (list signers often are, and `openssl req -x509` marks such certificates cA), so only e-seals are held to it.
  if (role === 'e-seal' && facts.basicConstraints?.ca) out.add(ROLE_FINDINGS.ca, 'it is a CA certificate');
  const usages = facts.extendedKeyUsage?.usages ?? [];

  if (role === 'tsa') {
    if (!facts.extendedKeyUsage?.critical || usages.length !== 1 || usages[0] !== TIME_STAMPING_EKU) {
      out.add(
        ROLE_FINDINGS.extendedKeyUsage,
        'it lacks the sole, critical timeStamping extended key usage (RFC 3161 §2.3)',
      );
    }
    return out.findings;
  }
  if (role === 'trust-list-signer') {
    if (!usages.includes(TSL_SIGNING_EKU))
      out.add(
        ROLE_FINDINGS.extendedKeyUsage,
        `it lacks the tslSigning extended key usage ${TSL_SIGNING_EKU} (TS 119 612 §5.7.1)`,
      );
    return out.findings;
  }

  // e-seal, as4-signer, smp-signer: a signing key, not one reserved for another role.
  if (facts.keyUsage === undefined) {
    if (role === 'e-seal')
      out.add(
        ROLE_FINDINGS.keyUsage,
        'it has no keyUsage extension (digitalSignature or nonRepudiation required)',
      );
  } else if (!(facts.keyUsage & SIGNING_KEY_USAGE)) {
    out.add(
      ROLE_FINDINGS.keyUsage,
      'its keyUsage allows neither digitalSignature nor nonRepudiation (an encryption-only key)',
    );
  }
  if (facts.extendedKeyUsage && !usages.includes(ANY_EKU)) {
    const reserved = usages.filter((u) => Object.hasOwn(RESERVED_EKUS, u)).map((u) => RESERVED_EKUS[u]);
    if (reserved.length > 0)
      out.add(
        ROLE_FINDINGS.extendedKeyUsage,
        `its extended key usage is reserved to another role: ${reserved.join(', ')}`,
      );
    else if (
      usages.length > 0 &&
      usages.every((u) => TLS_EKUS.has(u)) &&
      !((role === 'as4-signer' || role === 'smp-signer') && options.tlsEkuSigners)
    )
      out.add(ROLE_FINDINGS.extendedKeyUsage, 'its extended key usage is TLS only (serverAuth/clientAuth)');
  }
  checkHolderStatements(facts, role === 'e-seal' ? ['legal'] : webAllowed(options), out);
  return out.findings;
}

/** Holders an AS4 or SMP signer may be stated to be: a legal person, and a website only beside TLS-EKU signers. */
function webAllowed(options: CertificateRoleOptions): readonly Holder[] {
  return options.tlsEkuSigners ? ['legal', 'web'] : ['legal'];
}

type Holder = 'natural' | 'legal' | 'web';
const QC_TYPE_HOLDER: Readonly<Record<string, Holder>> = { esign: 'natural', eseal: 'legal', web: 'web' };
const HOLDER_NAMES: Readonly<Record<Holder, string>> = {
  natural: 'a natural person',
  legal: 'a legal person',
  web: 'a website',
};

/**
 * The QcType and ETSI policies the certificate carries must name at least one holder the role admits; a certificate
 * stating only others is refused (threat: a person's qualified signature certificate, or a QWAC, under a trusted CA
 * used as an ERDS's e-seal). Unknown QcType values and policies say nothing and are ignored.
 */
function checkHolderStatements(
  facts: ReturnType<typeof certificateFacts>,
  admitted: readonly Holder[],
  out: RoleErrors,
): void {
  if (facts.qc === 'malformed') {
    out.add(ROLE_FINDINGS.qcType, 'its qcStatements extension cannot be decoded (RFC 3739, EN 319 412-5)');
    return;
  }
  const typed = (facts.qc?.types ?? []).filter((t) => Object.hasOwn(QC_TYPE_HOLDER, t));
  if (typed.length > 0 && !typed.some((t) => admitted.includes(QC_TYPE_HOLDER[t]!)))
    out.add(
      ROLE_FINDINGS.qcType,
      `its QcType is ${typed.join(', ')} (${typed.map((t) => HOLDER_NAMES[QC_TYPE_HOLDER[t]!]).join(', ')}), not ${admitted.includes('web') ? 'eseal or web' : 'eseal'} (EN 319 412-5 QcType)`,
    );
  const known = (facts.policies ?? [])
    .filter((p) => Object.hasOwn(ETSI_POLICIES, p))
    .map((p) => ETSI_POLICIES[p]!);
  if (known.length > 0 && !known.some((p) => admitted.includes(p.holder)))
    out.add(
      ROLE_FINDINGS.policy,
      `its certificate policy is ${known.map((p) => p.name).join(', ')} (issued to ${[...new Set(known.map((p) => HOLDER_NAMES[p.holder]))].join(', ')}), not one for ${admitted.map((h) => HOLDER_NAMES[h]).join(' or ')} (EN 319 411-1/-2)`,
    );
}
