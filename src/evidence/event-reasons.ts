import type { EvidenceData, EvidenceEvent, ReasonCode } from '../core/index.js';
import type { Finding } from '../pki/types.js';

/**
 * Which EN 319 522-2 reason codes (tables 7–12) go with which EN 319 522-1 event, kept as data. The
 * groups follow the tables (RA submission, RB relay, RC acceptance, RD consignment, RE handover, RF
 * non-ERDS). Choices where the tables are read, not quoted:
 * - RelayRejection (issued by the recipient's ERDS) takes the "rejected by the recipient's ERDS" codes
 *   RB02–RB06 and RB10 (unknown recipient); RelayFailure (issued by the sender's ERDS) any of RB02–RB10,
 *   since the sender's ERDS reports both rejections it was told of and relays it could not make.
 * - ConsignmentNotification takes the consignment codes RD01–RD02, its failure RD03–RD05.
 */
export const EVENT_REASONS: Readonly<Record<EvidenceEvent, readonly ReasonCode[]>> = {
  SubmissionAcceptance: ['RA01'],
  SubmissionRejection: ['RA02', 'RA03', 'RA04', 'RA05'],
  RelayAcceptance: ['RB01'],
  RelayRejection: ['RB02', 'RB03', 'RB04', 'RB05', 'RB06', 'RB10'],
  RelayFailure: ['RB02', 'RB03', 'RB04', 'RB05', 'RB06', 'RB07', 'RB08', 'RB09', 'RB10'],
  NotificationForAcceptance: ['RC01', 'RC02'],
  NotificationForAcceptanceFailure: ['RC03', 'RC04', 'RC05', 'RC06'],
  ConsignmentAcceptance: ['RC07'],
  ConsignmentRejection: ['RC08'],
  AcceptanceRejectionExpiry: ['RC09'],
  ContentConsignment: ['RD01', 'RD02'],
  ContentConsignmentFailure: ['RD03', 'RD04', 'RD05', 'RD06'],
  ConsignmentNotification: ['RD01', 'RD02'],
  ConsignmentNotificationFailure: ['RD03', 'RD04', 'RD05'],
  ContentHandover: ['RE01', 'RE02'],
  ContentHandoverFailure: ['RE03', 'RE04', 'REXX'],
  RelayToNonERDS: ['RF01'],
  RelayToNonERDSFailure: ['RF02', 'RF03'],
  ReceivedFromNonERDS: ['RF04'],
};

/** Events that report something that did not happen: EN 319 522-2 requires their reason. */
export const NEGATIVE_EVENTS: ReadonlySet<EvidenceEvent> = new Set<EvidenceEvent>([
  'SubmissionRejection',
  'RelayRejection',
  'RelayFailure',
  'NotificationForAcceptanceFailure',
  'ConsignmentRejection',
  'AcceptanceRejectionExpiry',
  'ContentConsignmentFailure',
  'ConsignmentNotificationFailure',
  'ContentHandoverFailure',
  'RelayToNonERDSFailure',
]);

/**
 * The event-specific rules on the components of one evidence: a negative event carries a reason, and a
 * reason belongs to its event's group. Returns findings (code EVIDENCE_INVALID_DATA).
 */
export function checkEventComponents(data: Pick<EvidenceData, 'event' | 'reason'>): Finding[] {
  const findings: Finding[] = [];
  const bad = (message: string): void =>
    void findings.push({ code: 'EVIDENCE_INVALID_DATA', message, severity: 'error' });
  if (NEGATIVE_EVENTS.has(data.event) && !data.reason) bad(`${data.event} needs an EventReason`);
  if (data.reason && !EVENT_REASONS[data.event].includes(data.reason.code)) {
    bad(
      `reason ${data.reason.code} does not belong to ${data.event} (allowed: ${EVENT_REASONS[data.event].join(', ')})`,
    );
  }
  return findings;
}
