import type { X509Certificate } from 'node:crypto';
import type { EvidenceData } from '../core/index.js';
import { certificateFacts, checkCertificateRole, type Finding } from '../pki/index.js';

/** Finding codes of checkEvidenceSealer (stable; indication.ts maps them). */
export const SEALER_FINDINGS = Object.freeze({
  /** The seal certificate is no e-seal (encryption-only, TLS, TSA, trusted list signer, CA). */
  role: 'EVIDENCE_SEAL_CERT_ROLE',
  /** The issuer named in the evidence is not the organisation the seal certificate names. */
  issuer: 'EVIDENCE_ISSUER_MISMATCH',
  /** The seal certificate names no organisation (no organizationIdentifier): issuer and seal cannot be bound. */
  unbound: 'EVIDENCE_ISSUER_UNBOUND',
});

/**
 * Whether the certificate that sealed an evidence may speak as the evidence's issuer (EvidenceIssuerDetails):
 * - it must be an e-seal (pki/certificate-roles.ts): threat, any key under a trusted CA (a recipient's
 *   encryption-only certificate, the TSA's, a TLS key) sealing "proof" that then verifies;
 * - its subject's organizationIdentifier (2.5.4.97, EN 319 412-1 §5.1.4, the legal person a QSealC is issued to)
 *   must be exactly the evidence's LegalPersonIdentifier: threat, one AP (or anyone with a seal) issuing
 *   evidence in another ERDS's name. A different value is a check that ran and failed (TOTAL-FAILED).
 * - a seal certificate without organizationIdentifier names no identifier to compare: nothing in the file binds
 *   the issuer to the seal, so the verdict cannot be PASSED, and it is not FAILED either (no check failed). EN
 *   319 102-1 calls a signing certificate that does not meet the validation constraints INDETERMINATE
 *   CHAIN_CONSTRAINTS_FAILURE; our constraint is the legal-person certificate profile, which (EN 319 412-3 §4.2.1,
 *   as we recall it: the text is not available offline) requires organizationIdentifier in the subject of a
 *   certificate issued to a legal person, as an ERDS's seal is. A relying party that knows the issuer's certificate
 *   by other means (C2 pins the peer's seal from the directory) can still decide; the file alone cannot.
 */
export function checkEvidenceSealer(evidence: EvidenceData, signer: X509Certificate): Finding[] {
  const findings: Finding[] = checkCertificateRole(signer, 'e-seal').map((f) => ({
    ...f,
    code: SEALER_FINDINGS.role,
  }));
  const organization = certificateFacts(signer).organizationIdentifier;
  if (organization === undefined) {
    findings.push({
      code: SEALER_FINDINGS.unbound,
      message: `the seal certificate (${signer.subject.replace(/\n/g, ', ')}) has no organizationIdentifier: nothing binds it to the issuer the evidence names, ${JSON.stringify(evidence.issuer.id)} (${evidence.issuer.name})`,
      severity: 'error',
    });
  } else if (organization !== evidence.issuer.id) {
    findings.push({
      code: SEALER_FINDINGS.issuer,
      message: `the evidence names the issuer ${JSON.stringify(evidence.issuer.id)} (${evidence.issuer.name}), but is sealed by the certificate of organization ${JSON.stringify(organization)}`,
      severity: 'error',
    });
  }
  return findings;
}
