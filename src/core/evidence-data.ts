import type { EvidenceEvent, ReasonCode } from './evidence-events.js';
import type { SealedOnBehalf } from './message.js';
import type { ParticipantDetails } from './participant.js';

/**
 * The content of one ERDS evidence (EN 319 522-2 components), independent of its XML form.
 * src/evidence turns it into EN 319 522-3 XML and back.
 */
export interface EvidenceData {
  /** EvidenceIdentifier: unique per issuer. */
  readonly id: string;
  readonly event: EvidenceEvent;
  /** Required on negative events. */
  readonly reason?: { readonly code: ReasonCode; readonly details?: string };
  readonly eventTime: Date;
  /** EvidenceIssuerPolicyID/PolicyID URIs. */
  readonly issuerPolicyIds: readonly string[];
  /** The ERDS (AP) that issues the evidence. */
  readonly issuer: { readonly name: string; readonly id: string };
  readonly sender: ParticipantDetails;
  readonly recipient: ParticipantDetails;
  readonly submissionTime?: Date;
  /** The ERDS message id (our ebMS MessageId). */
  readonly messageId: string;
  /** Per-part digests of the user content (SHA-256). */
  readonly parts: readonly EvidencePart[];
  /** Id of the previous evidence of the same message (chain link), carried in Extensions. */
  readonly previousEvidenceId?: string;
  /** Id of the other ERDS on relay events (ExternalERDSDetails). */
  readonly externalErds?: { readonly name: string; readonly id: string };
}

export interface EvidencePart {
  readonly partId: string;
  readonly contentType: string;
  /** Hex SHA-256 */
  readonly sha256: string;
  /**
   * Hex SHA-256 of the plaintext when the part is ciphertext that the issuer encrypted end to end (C2's
   * evidence binds both). In EN 319 522-3 XML: Extensions/Extension/qx:PlaintextDigest.
   */
  readonly plaintextSha256?: string;
  /**
   * The issuer (C2) sealed this part on the sender's behalf with the sender's remote e-seal. In EN 319 522-3
   * XML: Extensions/Extension/qx:SealedOnBehalf.
   */
  readonly sealedOnBehalf?: SealedOnBehalf;
}
