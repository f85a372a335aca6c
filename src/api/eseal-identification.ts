import {
  formatParticipantId,
  overallAssurance,
  type Identification,
  type ParticipantId,
  type ReasonCode,
} from '../core/index.js';
import type { TrustStore } from '../pki/index.js';
import { verifyXmlSeal } from '../seal/index.js';
import type { AccountRegistry } from './accounts.js';
import { ESEAL_METHOD } from './methods.js';
import { sealRejection } from './sender-seal.js';

/** How far the seal's SigningTime may lie from the intake time, in ms. */
export const ESEAL_FRESHNESS_MS = 15 * 60_000;

export type EsealOutcome =
  | { readonly ok: true; readonly identification: Identification }
  | { readonly ok: false; readonly reason: { readonly code: ReasonCode; readonly details: string } };

/**
 * REQ3 by e-seal: the submitted XML carries an enveloped XAdES seal made with the sender's own
 * certificate. Verified against the trust store at intake time; the certificate must be enrolled for the
 * authenticated participant (`eseal` credential) and SigningTime must be recent.
 * Refusals, as EN 319 522-2 reasons of a SubmissionRejection: RA04 when the certificate expired or was
 * revoked, RA02 when the seal is otherwise invalid, RA05 when a valid seal does not identify the sender.
 */
export async function identifyByEseal(
  xml: string,
  sender: ParticipantId,
  options: { readonly trust: TrustStore; readonly accounts: AccountRegistry; readonly now: Date },
): Promise<EsealOutcome> {
  const verification = await verifyXmlSeal(xml, { trust: options.trust, at: options.now });
  if (!verification.valid) return { ok: false, reason: sealRejection('e-seal', verification.findings) };
  const signer = verification.signer;
  const match = signer && options.accounts.byCertificate('eseal', signer);
  // Threat: a valid seal of another participant (or of a certificate nobody enrolled) passed off as
  // the sender's own, to borrow its assurance level.
  if (!signer || !match || formatParticipantId(match.participant) !== formatParticipantId(sender)) {
    return {
      ok: false,
      reason: {
        code: 'RA05',
        details: `e-seal certificate ${signer?.subject.replace(/\n/g, ', ') ?? '(none)'} is not enrolled for ${formatParticipantId(sender)}`,
      },
    };
  }
  // Threat: replay of an old sealed document by whoever holds the sender's weaker credential, to be
  // recorded at the seal's AAL. A seal made for this submission is minutes old.
  const signingTime = verification.signingTime;
  if (!signingTime || Math.abs(options.now.getTime() - signingTime.getTime()) > ESEAL_FRESHNESS_MS) {
    return {
      ok: false,
      reason: {
        code: 'RA05',
        details: `e-seal SigningTime ${signingTime?.toISOString() ?? '(none)'} is not within ${ESEAL_FRESHNESS_MS / 60_000} minutes of the submission`,
      },
    };
  }
  return {
    ok: true,
    identification: {
      method: ESEAL_METHOD,
      assuranceLevel: overallAssurance(match.ial, match.aal).uri,
      // When this AP verified the seal (SigningTime is only the sealer's claim).
      authenticatedAt: options.now,
      ial: match.ial,
      aal: match.aal,
      credentialId: match.credentialId,
    },
  };
}
