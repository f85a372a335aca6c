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
 * What a relying party knows by other means than the certificate: that the certificate with this SHA-256
 * fingerprint is the e-seal of the ERDS `issuerId` (C2: the AP certificate and AP id its directory names for the AP
 * serving a message's recipient).
 */
export interface IssuerPin {
  readonly issuerId: string;
  /** SHA-256 fingerprint of the pinned certificate, node's colon form (`X509Certificate.fingerprint256`). */
  readonly fingerprint256: string;
}

/** How the issuer an evidence names was bound to its seal certificate, when it was. */
export type IssuerBinding = 'organizationIdentifier' | 'directory-pin';

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
 * - that relying party hands its knowledge in as `pins`: a seal certificate without organizationIdentifier that is
 *   exactly a pinned certificate is bound to the pin's issuer (binding `directory-pin`); an evidence it seals that
 *   names another issuer is TOTAL-FAILED like an organizationIdentifier mismatch. A pin never overrides an
 *   organizationIdentifier: the certificate's own statement is the one a verifier without the pin also sees.
 */
export function checkEvidenceSealer(
  evidence: EvidenceData,
  signer: X509Certificate,
  /** Pins known to the relying party (see IssuerPin); they bind a seal certificate that has no organizationIdentifier. */
  pins: readonly IssuerPin[] = [],
): { findings: Finding[]; binding?: IssuerBinding } {
  const findings: Finding[] = checkCertificateRole(signer, 'e-seal').map((f) => ({
    ...f,
    code: SEALER_FINDINGS.role,
  }));
  const organization = certificateFacts(signer).organizationIdentifier;
  // A pin is an exact certificate match: a key of the same subject or CA is not the pinned certificate.
  const pinned = pins.filter((p) => p.fingerprint256 === signer.fingerprint256);
  let binding: IssuerBinding | undefined;
  if (organization === undefined && pinned.some((p) => p.issuerId === evidence.issuer.id)) {
    // The relying party's directory names this very certificate as the issuer's seal: that binds them (the
    // documented relaxation for seals without organizationIdentifier, README "Security").
    binding = 'directory-pin';
  } else if (organization === undefined && pinned.length > 0) {
    // Threat: the pinned AP issuing evidence in another ERDS's name. The pin says whose seal this is; the evidence
    // contradicts it: a check that ran and failed.
    findings.push({
      code: SEALER_FINDINGS.issuer,
      message: `the evidence names the issuer ${JSON.stringify(evidence.issuer.id)} (${evidence.issuer.name}), but its seal certificate is pinned as the seal of ${pinned.map((p) => JSON.stringify(p.issuerId)).join(', ')}`,
      severity: 'error',
    });
  } else if (organization === undefined) {
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
  } else {
    binding = 'organizationIdentifier';
  }
  return { findings, ...(binding ? { binding } : {}) };
}
