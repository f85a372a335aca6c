import { createHash } from 'node:crypto';
import type { AlgorithmSet, As4Profile, PModeInput } from '../as4/index.js';
import { formatParticipantId, type ParticipantId } from '../core/index.js';
import type { DirectoryEntry } from '../directory/index.js';
import type { RelayPart, Transport } from '../pipeline/index.js';

/**
 * How qerds-ap uses ebMS 3 between its access points (documented in docs/architecture.md), in one place:
 * Service `urn:qerds-ap:service:erds`; action `Dispatch` carries user content, action `Evidence` carries sealed
 * evidence back to the sender's AP (RefToMessageId = the dispatch). C1 and C4 travel as the `originalSender` /
 * `finalRecipient` message properties (four-corner model) with the participant id type. Evidence for one AP may
 * travel grouped: one Evidence message, one payload per evidence (see evidenceMessage). The ERDS service rides on an
 * AS4 profile (eDelivery 1.15 by default): its P-Modes start from that profile's defaults.
 */
export const ERDS_SERVICE = 'urn:qerds-ap:service:erds';
export const ACTION_DISPATCH = 'Dispatch';
export const ACTION_EVIDENCE = 'Evidence';
export const ERDS_ACTIONS: readonly string[] = Object.freeze([ACTION_DISPATCH, ACTION_EVIDENCE]);
/** eb:Property/@type of originalSender / finalRecipient between qerds-ap instances. */
export const ERDS_PARTICIPANT_ID_TYPE = 'urn:qerds-ap:participant-id';

/**
 * The key types an ERDS access point holds for each algorithm set: its e-seal signs AS4 messages and receipts
 * (signature), its AS4 encryption key decrypts what peers encrypt for it (encryption).
 */
export const ERDS_KEY_TYPES: Readonly<
  Record<AlgorithmSet, { readonly signature: string; readonly encryption: string }>
> = Object.freeze({
  'edelivery-1.15': Object.freeze({ signature: 'rsa', encryption: 'rsa' }),
  'edelivery-2.0': Object.freeze({ signature: 'ed25519', encryption: 'x25519' }),
});

/** The ERDS P-Mode of `action` on `profile`: the profile's defaults, the ERDS service, id `qerds-erds-<action>`. */
export function erdsPMode(profile: As4Profile, action: string): PModeInput {
  return {
    ...profile.pmodeDefaults,
    id: `qerds-erds-${action.toLowerCase()}`,
    service: ERDS_SERVICE,
    action,
  };
}

/** The default P-Modes of an ERDS access point on `profile`: one push P-Mode per ERDS action. */
export function erdsPModes(profile: As4Profile): PModeInput[] {
  return ERDS_ACTIONS.map((action) => erdsPMode(profile, action));
}

/** Most evidences in one Evidence message, and their most bytes (an evidence with B-LT validation data is ~20 KB). */
export const EVIDENCE_PER_MESSAGE = 64;
export const EVIDENCE_BYTES_PER_MESSAGE = 4 * 1024 * 1024;

/** One returned evidence waiting for its group, with the directory entry of the AP it goes to. */
export type EvidenceReturn = Parameters<Transport['sendEvidence']>[0] & {
  readonly peer: DirectoryEntry | undefined;
};

/** What the AS4 transport sends for a group of returned evidence (see evidenceMessage). */
export interface EvidenceMessage {
  readonly endpoint: string;
  readonly apCertificatePem?: string;
  readonly peer: DirectoryEntry | undefined;
  readonly action: string;
  readonly parts: readonly RelayPart[];
  readonly messageId: string;
  readonly refToMessageId?: string;
  readonly conversationId: string;
  readonly sender?: ParticipantId;
  readonly recipient?: ParticipantId;
  readonly extraProperties?: { name: string; value: string }[];
}

/**
 * The Evidence message carrying `items` (one or more, all bound for one AP). One evidence travels alone: MessageId
 * `<evidence id>@qerds-ap`, RefToMessageId and ConversationId the dispatch it is about, originalSender/finalRecipient
 * and the evidenceEvent property. Several: one payload each, a MessageId derived from their ids (a re-send of the
 * same group is recognisably the same message), RefToMessageId only when they are all about one dispatch, and the
 * participant properties only when all share them. The receiver reads message, sender and recipient from each
 * sealed evidence, never from these properties.
 */
export function evidenceMessage(items: readonly EvidenceReturn[]): EvidenceMessage {
  const first = items[0]!;
  const parts = items.map((item, i) => ({
    partId: items.length === 1 ? 'evidence' : `evidence-${i + 1}`,
    contentType: 'application/xml',
    filename: `${item.evidence.event}.xml`,
    body: Buffer.from(item.evidence.xml, 'utf8'),
  }));
  const common = {
    endpoint: first.endpoint,
    apCertificatePem: first.apCertificatePem,
    peer: first.peer,
    action: ACTION_EVIDENCE,
    parts,
  };
  if (items.length === 1) {
    return {
      ...common,
      messageId: `${first.evidence.id}@qerds-ap`,
      refToMessageId: first.refToEbmsMessageId,
      conversationId: first.refToEbmsMessageId,
      sender: first.sender,
      recipient: first.recipient,
      extraProperties: [{ name: 'evidenceEvent', value: first.evidence.event }],
    };
  }
  const messageId = `evidence-group-${createHash('sha256')
    .update(items.map((i) => i.evidence.id).join('\n'))
    .digest('hex')
    .slice(0, 40)}@qerds-ap`;
  const shared = <V>(value: (item: EvidenceReturn) => V, same: (a: V, b: V) => boolean): V | undefined => {
    const v = value(first);
    return items.every((item) => same(value(item), v)) ? v : undefined;
  };
  const sameParticipant = (a: ParticipantId, b: ParticipantId) =>
    formatParticipantId(a) === formatParticipantId(b);
  const refTo = shared(
    (i) => i.refToEbmsMessageId,
    (a, b) => a === b,
  );
  const sender = shared((i) => i.sender, sameParticipant);
  const recipient = shared((i) => i.recipient, sameParticipant);
  return {
    ...common,
    messageId,
    ...(refTo ? { refToMessageId: refTo } : {}),
    conversationId: refTo ?? messageId,
    ...(sender ? { sender } : {}),
    ...(recipient ? { recipient } : {}),
  };
}
