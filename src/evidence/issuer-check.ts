import type { X509Certificate } from 'node:crypto';
import type { EvidenceData } from '../core/index.js';
import { certificateFacts, checkCertificateRole, type Finding } from '../pki/index.js';

/** Finding codes of checkEvidenceSealer (stable; indication.ts maps them). */
export const SEALER_FINDINGS = Object.freeze({
  /** The seal certificate is no e-seal (encryption-only, TLS, TSA, trusted list signer, CA). */
  role: 'EVIDENCE_SEAL_CERT_ROLE',
  /** The issuer named in the evidence is not the organisation the seal certificate names. */
  issuer: 'EVIDENCE_ISSUER_MISMATCH',
});

/**
 * Whether the certificate that sealed an evidence may speak as the evidence's issuer (EvidenceIssuerDetails):
 * - it must be an e-seal (pki/certificate-roles.ts): threat, any key under a trusted CA (a recipient's
 *   encryption-only certificate, the TSA's, a TLS key) sealing "proof" that then verifies;
 * - when its subject carries an organizationIdentifier (2.5.4.97, EN 319 412-1 §5.1.4, the legal person a
 *   QSealC is issued to), the evidence's LegalPersonIdentifier must be exactly that value: threat, one AP
 *   (or anyone with a seal) issuing evidence in another ERDS's name.
 * A seal certificate without organizationIdentifier (the dev PKI's, many private CAs') names no identifier to
 * compare: the verifier cannot bind issuer and seal from the evidence alone, and says nothing. The binding is
 * then the relying party's knowledge of the issuer's certificate: C2 accepts returned evidence only under the
 * seal the directory pins for the recipient's AP (pipeline/returned-evidence.ts).
 */
export function checkEvidenceSealer(evidence: EvidenceData, signer: X509Certificate): Finding[] {
  const findings: Finding[] = checkCertificateRole(signer, 'e-seal').map((f) => ({ ...f, code: SEALER_FINDINGS.role }));
  const organization = certificateFacts(signer).organizationIdentifier;
  if (organization !== undefined && organization !== evidence.issuer.id) {
    findings.push({
      code: SEALER_FINDINGS.issuer,
      message: `the evidence names the issuer ${JSON.stringify(evidence.issuer.id)} (${evidence.issuer.name}), but is sealed by the certificate of organization ${JSON.stringify(organization)}`,
      severity: 'error',
    });
  }
  return findings;
}
