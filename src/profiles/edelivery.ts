import type { As4Profile, As4ProfileFinding, AlgorithmSet, PMode } from '../as4/index.js';

/*
 * The EU eDelivery AS4 profiles as plug-ins (src/as4/model/profile.ts). What each fixes, as /work/shared/AS4.md summarises
 * them (the profile documents are not among the stored sources): 1.15, RSA-SHA256 signatures with RSA-OAEP key
 * transport and AES-128-GCM payloads; 2.0, Ed25519 signatures with X25519 key agreement, AES-128 key wrap and
 * AES-128-GCM payloads. Both: one-way push or pull, signed receipts on the HTTP response (NRR), GZIP compression.
 */

const finding = (
  rule: string,
  message: string,
  severity: As4ProfileFinding['severity'] = 'fatal',
): As4ProfileFinding => ({ rule, severity, message });

function eDeliveryProfile(id: AlgorithmSet): As4Profile {
  const validate = (pmode: PMode): As4ProfileFinding[] => {
    const out: As4ProfileFinding[] = [];
    if (pmode.security.algorithmSet !== id)
      out.push(
        finding(
          `${id}-algorithms`,
          `P-Mode ${pmode.id} follows ${id} but uses the ${pmode.security.algorithmSet} algorithms`,
        ),
      );
    // Looser than the profile, kept for private agreements (tests, a peer without NRR): warnings, not refusals.
    if (!pmode.security.encrypt)
      out.push(finding(`${id}-encrypt`, `P-Mode ${pmode.id} sends payloads unencrypted`, 'warning'));
    if (!pmode.receipt.nonRepudiation)
      out.push(
        finding(
          `${id}-receipt`,
          `P-Mode ${pmode.id} takes receipts without non-repudiation information`,
          'warning',
        ),
      );
    if (!pmode.compress)
      out.push(finding(`${id}-compression`, `P-Mode ${pmode.id} sends payloads uncompressed`, 'warning'));
    return out;
  };
  const pmodeDefaults = Object.freeze({
    profile: id,
    mep: 'push' as const,
    security: Object.freeze({ algorithmSet: id, encrypt: true }),
    receipt: Object.freeze({ nonRepudiation: true, replyPattern: 'response' as const }),
    compress: true,
  });
  return Object.freeze({ id, pmodeDefaults, validate });
}

export const eDeliveryAs4v115Profile: As4Profile = eDeliveryProfile('edelivery-1.15');
export const eDeliveryAs4v20Profile: As4Profile = eDeliveryProfile('edelivery-2.0');
