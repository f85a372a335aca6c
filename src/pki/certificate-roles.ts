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
import type { Finding } from './types.js';
import { x509 } from './x509.js';

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
const SIGNING_KEY_USAGE = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation;

/** Finding codes of checkCertificateRole (stable). */
export const ROLE_FINDINGS = Object.freeze({
  keyUsage: 'PKI_ROLE_KEY_USAGE',
  extendedKeyUsage: 'PKI_ROLE_EXTENDED_KEY_USAGE',
  ca: 'PKI_ROLE_CA',
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

/** Whether `cert` may act in `role`: an empty list when it may, else one error finding per rule it breaks. */
export function checkCertificateRole(
  cert: X509Certificate,
  role: CertificateRole,
  options: CertificateRoleOptions = {},
): Finding[] {
  const facts = certificateFacts(cert);
  const who = `${cert.subject.replace(/\n/g, ', ')} is not ${ROLE_NAMES[role]}`;
  const findings: Finding[] = [];
  const err = (code: string, why: string) =>
    findings.push({ code, message: `${who}: ${why}`, severity: 'error' });
  // A seal is an end-entity's; other roles may be held by a self-signed certificate that is its own anchor
  // (list signers often are, and `openssl req -x509` marks such certificates cA), so only e-seals are held to it.
  if (role === 'e-seal' && facts.basicConstraints?.ca) err(ROLE_FINDINGS.ca, 'it is a CA certificate');
  const usages = facts.extendedKeyUsage?.usages ?? [];

  if (role === 'tsa') {
    if (!facts.extendedKeyUsage?.critical || usages.length !== 1 || usages[0] !== TIME_STAMPING_EKU) {
      err(
        ROLE_FINDINGS.extendedKeyUsage,
        'it lacks the sole, critical timeStamping extended key usage (RFC 3161 §2.3)',
      );
    }
    return findings;
  }
  if (role === 'trust-list-signer') {
    if (!usages.includes(TSL_SIGNING_EKU))
      err(
        ROLE_FINDINGS.extendedKeyUsage,
        `it lacks the tslSigning extended key usage ${TSL_SIGNING_EKU} (TS 119 612 §5.7.1)`,
      );
    return findings;
  }

  // e-seal, as4-signer, smp-signer: a signing key, not one reserved for another role.
  if (facts.keyUsage === undefined) {
    if (role === 'e-seal')
      err(
        ROLE_FINDINGS.keyUsage,
        'it has no keyUsage extension (digitalSignature or nonRepudiation required)',
      );
  } else if (!(facts.keyUsage & SIGNING_KEY_USAGE)) {
    err(
      ROLE_FINDINGS.keyUsage,
      'its keyUsage allows neither digitalSignature nor nonRepudiation (an encryption-only key)',
    );
  }
  if (facts.extendedKeyUsage && !usages.includes(ANY_EKU)) {
    const reserved = usages.filter((u) => Object.hasOwn(RESERVED_EKUS, u)).map((u) => RESERVED_EKUS[u]);
    if (reserved.length > 0)
      err(
        ROLE_FINDINGS.extendedKeyUsage,
        `its extended key usage is reserved to another role: ${reserved.join(', ')}`,
      );
    else if (
      usages.length > 0 &&
      usages.every((u) => TLS_EKUS.has(u)) &&
      !((role === 'as4-signer' || role === 'smp-signer') && options.tlsEkuSigners)
    )
      err(ROLE_FINDINGS.extendedKeyUsage, 'its extended key usage is TLS only (serverAuth/clientAuth)');
  }
  return findings;
}
