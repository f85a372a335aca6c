import type { ParticipantId } from './participant.js';
import { QerdsError } from './errors.js';

/**
 * States of a message in one AP. At C2: submitted → relaying → relayed (C3 sent a signed receipt)
 * → delivered (C3's ContentHandover evidence came back). At C3: received → consigned (made available
 * to the recipient) → delivered (handed over to the identified recipient). Terminal: delivered,
 * rejected, failed.
 *
 * Consignment with the recipient's acceptance (EN 319 522-1, group C events) adds two C3 states:
 * received → awaiting-acceptance (NotificationForAcceptance sent) → accepted (ConsignmentAcceptance) →
 * consigned → delivered; from awaiting-acceptance, ConsignmentRejection ends in rejected and
 * AcceptanceRejectionExpiry in failed. Each move is the compare-and-set of the evidence that proves it, so
 * an acceptance and an expiry racing for the same message cannot both be recorded.
 */
export const messageStates = [
  'submitted',
  'relaying',
  'relayed',
  'received',
  'consigned',
  'delivered',
  'rejected',
  'failed',
  'awaiting-acceptance',
  'accepted',
] as const;
export type MessageState = (typeof messageStates)[number];

/** The role this AP plays for a message. */
export type MessageRole = 'sender-ap' | 'recipient-ap';

const transitions: Readonly<Record<MessageState, readonly MessageState[]>> = {
  submitted: ['relaying', 'rejected', 'failed'],
  // relaying → delivered: C3's handover evidence may overtake C2's processing of the AS4 receipt.
  relaying: ['relayed', 'failed', 'delivered'],
  // relayed → failed: C3 refused it after all (RelayRejection) or could not hand it over (ContentHandoverFailure).
  relayed: ['delivered', 'failed'],
  // received → awaiting-acceptance: the recipient's policy asks for acceptance first (NotificationForAcceptance).
  received: ['consigned', 'delivered', 'failed', 'awaiting-acceptance'],
  // → failed: AcceptanceRejectionExpiry; → rejected: ConsignmentRejection (content never handed over).
  'awaiting-acceptance': ['accepted', 'rejected', 'failed'],
  accepted: ['consigned', 'delivered', 'failed'],
  consigned: ['delivered', 'failed'],
  delivered: [],
  rejected: [],
  failed: [],
};

/**
 * Whether a message may move from `from` to `to`. Staying put is always allowed: it is the compare-and-set of an
 * evidence recorded on a message that stays where it is (e.g. C2's RelayFailure on a message C3's RelayRejection
 * already failed, or C2's receipt-bound RelayAcceptance on one C3's ContentHandover already delivered).
 */
export function canTransition(from: MessageState, to: MessageState): boolean {
  return from === to || transitions[from].includes(to);
}

export function assertTransition(from: MessageState, to: MessageState): void {
  if (!canTransition(from, to)) {
    throw new QerdsError('STATE_CONFLICT', `message cannot go from ${from} to ${to}`, {
      details: { from, to },
    });
  }
}

/** One payload part of a message, content-addressed in the blob store. */
export interface PayloadPart {
  /** Content id inside the message (`cid:` of the MIME part, without the scheme). */
  readonly partId: string;
  readonly contentType: string;
  readonly filename?: string;
  /** Lower-case hex SHA-256 of the bytes: also the blob's key. */
  readonly sha256: string;
  readonly size: number;
  /**
   * When C2 encrypted the part for the recipient (end to end, CMS AuthEnvelopedData): hex SHA-256 of the
   * plaintext it received from C1. `sha256`/`size` are then those of the ciphertext. Known only at C2.
   */
  readonly plaintextSha256?: string;
  /** Size in octets of that plaintext. */
  readonly plaintextSize?: number;
  /** Content type of the plaintext when `contentType` is that of the ciphertext (travels to C3 and C4). */
  readonly originalContentType?: string;
  /** When C2 sealed the part on the sender's behalf with the sender's remote e-seal. Known only at C2. */
  readonly sealedOnBehalf?: SealedOnBehalf;
}

/**
 * C2 sealed content on the sender's behalf, with the sender's own e-seal key that the AP holds in a token
 * (remote e-seal): the sealed bytes are the part's (plaintext) content from then on.
 */
export interface SealedOnBehalf {
  /** XAdES enveloped signature (XML content) or enveloping CAdES (any other content). */
  readonly format: 'XAdES' | 'CAdES';
  /** Hex SHA-256 of the content as the sender submitted it, before the seal. */
  readonly submittedSha256: string;
  /** Hex SHA-256 of the sender's e-seal certificate (DER). */
  readonly certificateSha256: string;
}

export interface Message {
  readonly id: string;
  /** The ebMS MessageId used on the AS4 hop (same at C2 and C3). */
  readonly ebmsMessageId: string;
  readonly role: MessageRole;
  readonly state: MessageState;
  readonly sender: ParticipantId;
  readonly recipient: ParticipantId;
  readonly subject?: string;
  readonly parts: readonly PayloadPart[];
  readonly submittedAt: Date;
  readonly updatedAt: Date;
}
