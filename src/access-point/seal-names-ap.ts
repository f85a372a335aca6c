import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { QerdsError } from '../core/index.js';
import { certificateFacts } from '../pki/index.js';

/**
 * At start: does this AP's e-seal name the AP it is configured as? Every evidence names `ap.id` as its issuer,
 * and a verifier binds that issuer to the seal through the seal certificate's organizationIdentifier
 * (evidence/issuer-check.ts).
 * - A different organizationIdentifier: the AP refuses to start. Every evidence it would seal is TOTAL-FAILED for
 *   every verifier that makes the check (ours, and C2 of every peer refuses it as returned evidence), so running
 *   would only issue proofs that fail when someone relies on them; the mistake (a seal of another AP, a wrong
 *   `ap.id`) is one of configuration, and the start is where it is cheapest to see.
 * - No organizationIdentifier (a private CA's seal, a dev PKI made before seals carried one): a warning. Such
 *   evidence verifies INDETERMINATE offline, not FAILED: a relying party that knows the certificate (a peer's C2
 *   whose directory pins it with this AP's id, `apCertificate` + `apId`) accepts it, so the AP may serve such a
 *   closed setting; the warning says what to change.
 */
export function checkSealNamesAp(seal: X509Certificate, apId: string, log: Pick<Logger, 'warn'>): void {
  const organizationIdentifier = certificateFacts(seal).organizationIdentifier;
  if (organizationIdentifier === undefined) {
    log.warn(
      { apId, seal: seal.subject.replace(/\n/g, ', ') },
      'the e-seal certificate has no organizationIdentifier: verifiers cannot bind the evidence issuer (ap.id) to the seal and report INDETERMINATE; use a seal that names ap.id (`qerds pki init --force` for a dev PKI)',
    );
    return;
  }
  if (organizationIdentifier !== apId) {
    throw new QerdsError(
      'CONFIG_INVALID',
      `ap.id is ${JSON.stringify(apId)} but the e-seal certificate's organizationIdentifier is ${JSON.stringify(organizationIdentifier)}: every evidence would name an issuer its seal contradicts. Set ap.id to ${JSON.stringify(organizationIdentifier)} or configure this AP's own seal (pki.apName / pki.sealCert)`,
      { details: { apId, organizationIdentifier } },
    );
  }
}
