/**
 * ERDS events and reason codes of ETSI EN 319 522-1 (table 1) and EN 319 522-2 (tables 7–12).
 * Kept as data: the event name is the last segment of its URI, the reason's URI name likewise.
 */
export const EVENT_URI_BASE = 'http://uri.etsi.org/19522/Event/';
export const REASON_URI_BASE = 'http://uri.etsi.org/19522/EventReason/';

export const evidenceEvents = [
  // A: submission
  'SubmissionAcceptance',
  'SubmissionRejection',
  // B: relay between ERDSs
  'RelayAcceptance',
  'RelayRejection',
  'RelayFailure',
  // C: acceptance by the recipient
  'NotificationForAcceptance',
  'NotificationForAcceptanceFailure',
  'ConsignmentAcceptance',
  'ConsignmentRejection',
  'AcceptanceRejectionExpiry',
  // D: consignment
  'ContentConsignment',
  'ContentConsignmentFailure',
  'ConsignmentNotification',
  'ConsignmentNotificationFailure',
  // E: handover
  'ContentHandover',
  'ContentHandoverFailure',
  // F: non-ERDS
  'RelayToNonERDS',
  'RelayToNonERDSFailure',
  'ReceivedFromNonERDS',
] as const;

export type EvidenceEvent = (typeof evidenceEvents)[number];

export function eventUri(event: EvidenceEvent): string {
  return EVENT_URI_BASE + event;
}

export function eventFromUri(uri: string): EvidenceEvent | undefined {
  if (!uri.startsWith(EVENT_URI_BASE)) return undefined;
  const name = uri.slice(EVENT_URI_BASE.length);
  return (evidenceEvents as readonly string[]).includes(name) ? (name as EvidenceEvent) : undefined;
}

/** Reason code → URI name (EN 319 522-2). The spelling "Acceptence" in RC03 is the standard's. */
export const reasonCodes = {
  RA01: 'MessageAccepted',
  RA02: 'InvalidMessageFormat',
  RA03: 'MalwareFound',
  RA04: 'SenderSigningCertExpiredOrRevoked',
  RA05: 'S_ERDS_PolicyViolation',
  RB01: 'S_ERDS_MessageSuccessfullyRelayed',
  RB02: 'R_ERDS_MessageRejected',
  RB03: 'R_ERDS_MessageRejectedForMalware',
  RB04: 'R_ERDS_MessageRejectedForInvalidSignature',
  RB05: 'R_ERDS_MessageRejectedForInvalidCertificate',
  RB06: 'R_ERDS_PolicyViolation',
  RB07: 'R_ERDS_Malfunction',
  RB08: 'R_ERDS_NotIdentified',
  RB09: 'R_ERDS_Unreachable',
  RB10: 'UnknownRecipient',
  RC01: 'NotificationForAcceptanceSent',
  RC02: 'SubsequentNotificationForAcceptanceSent',
  RC03: 'NotificationForAcceptenceError',
  RC04: 'SubsequentNotificationForAcceptanceError',
  RC05: 'NotificationForAcceptanceMultipleError',
  RC06: 'SubsequentNotificationForAcceptanceMultipleError',
  RC07: 'MessageAcceptedByRecipient',
  RC08: 'MessageRejectedByRecipient',
  RC09: 'MessageNotAcceptedInTimeByRecipient',
  RD01: 'MessageConsignedToRecipient',
  RD02: 'MessageConsignedToDelegate',
  RD03: 'S_ERDSP_ReceivedNoDeliveryInfoFromR_ERDSP',
  RD04: 'MessageNotConsignedForQuota',
  RD05: 'MessageNotConsignedForMalfunction',
  RD06: 'MessageNotConsignedForUnallowedType',
  RE01: 'MessageHandedOver',
  RE02: 'MessageHandedOverToDelegate',
  RE03: 'MessageNotHandedOverForUnallowedType',
  RE04: 'MessageHandoverTimeout',
  /** EN 319 522-2 "R?XX Other" of the handover group: a failure none of RE03–RE04 names (details say what). */
  REXX: 'Other',
  RF01: 'MessageRelayedToNonERDS',
  RF02: 'ExternalSystemUnreachable',
  RF03: 'MessageRejectedByExternalSystem',
  RF04: 'MessageReceivedFromNonERDS',
} as const;

export type ReasonCode = keyof typeof reasonCodes;

export function reasonUri(code: ReasonCode): string {
  return REASON_URI_BASE + reasonCodes[code];
}
