import { QerdsError } from '../core/errors.js';
import type { PeppolErrorCode } from './errors.js';
import {
  PARTICIPANT_SCHEME,
  PROCESS_SCHEME,
  formatIdentifier,
  parseDocumentTypeId,
  parseParticipantId,
  registrationAccepts,
  sameIdentifier,
  sameParticipant,
  type DocumentTypeIdentifier,
  type PeppolIdentifier,
} from './identifiers.js';
import type { PeppolSbdh } from './sbdh.js';

/**
 * The values of the AS4 UserMessage that carried the SBD, as the Peppol AS4 profile fills them: MessageProperties
 * `originalSender` (C1) and `finalRecipient` (C4) with their `type`, CollaborationInfo `Service` (the process id,
 * `@type` its scheme) and `Action` (the full document type id, `scheme::value`). A plain object so that this module
 * needs nothing of src/as4.
 */
export interface As4PeppolHeader {
  readonly originalSender: string;
  /** @defaultValue 'iso6523-actorid-upis' */
  readonly originalSenderType?: string;
  readonly finalRecipient: string;
  /** @defaultValue 'iso6523-actorid-upis' */
  readonly finalRecipientType?: string;
  readonly service: string;
  /** @defaultValue 'cenbii-procid-ubl' */
  readonly serviceType?: string;
  readonly action: string;
}

/** What the SMP published for the receiver: whom the lookup was for and what it registered. */
export interface SmpLookupResult {
  readonly participant: PeppolIdentifier;
  /** Registered document types; wildcard registrations accept specialisations (registrationAccepts). */
  readonly documentTypes: readonly DocumentTypeIdentifier[];
  /** Processes registered for the document type; absent: not checked. */
  readonly processes?: readonly PeppolIdentifier[];
}

export interface SbdhMismatch {
  readonly code: PeppolErrorCode;
  readonly message: string;
}

const participant = (value: string, type: string | undefined): PeppolIdentifier | undefined => {
  try {
    return parseParticipantId(`${type ?? PARTICIPANT_SCHEME}::${value.replace(/^[A-Za-z0-9-]+::/, '')}`, {
      checkValues: false,
    });
  } catch {
    return undefined;
  }
};

/**
 * Every way the SBDH contradicts the AS4 header that carried it and the SMP record the sender used, one entry per
 * contradiction with its own code. Threat: a sender AP that puts one receiver in the AS4 header (passing the
 * receiving AP's checks) and another in the SBDH (read by the receiver's back end), or declares one document type
 * to the SMP and routing and delivers another.
 */
export function sbdhMismatches(
  sbdh: PeppolSbdh,
  as4?: As4PeppolHeader,
  smp?: SmpLookupResult,
): SbdhMismatch[] {
  const out: SbdhMismatch[] = [];
  if (as4) {
    const sender = participant(as4.originalSender, as4.originalSenderType);
    if (!sender || !sameParticipant(sender, sbdh.sender)) {
      out.push({
        code: 'PEPPOL_SBDH_SENDER_MISMATCH',
        message: `SBDH Sender ${formatIdentifier(sbdh.sender)} ≠ AS4 originalSender ${as4.originalSender}`,
      });
    }
    const recipient = participant(as4.finalRecipient, as4.finalRecipientType);
    if (!recipient || !sameParticipant(recipient, sbdh.receiver)) {
      out.push({
        code: 'PEPPOL_SBDH_RECEIVER_MISMATCH',
        message: `SBDH Receiver ${formatIdentifier(sbdh.receiver)} ≠ AS4 finalRecipient ${as4.finalRecipient}`,
      });
    }
    if (as4.service !== sbdh.process.value || (as4.serviceType ?? PROCESS_SCHEME) !== sbdh.process.scheme) {
      out.push({
        code: 'PEPPOL_SBDH_PROCESS_MISMATCH',
        message: `SBDH process ${formatIdentifier(sbdh.process)} ≠ AS4 Service ${as4.serviceType ?? PROCESS_SCHEME}::${as4.service}`,
      });
    }
    let action: DocumentTypeIdentifier | undefined;
    try {
      action = parseDocumentTypeId(as4.action);
    } catch {
      action = undefined;
    }
    if (!action || !sameIdentifier(action, sbdh.documentType)) {
      out.push({
        code: 'PEPPOL_SBDH_DOCTYPE_MISMATCH',
        message: `SBDH document type ${formatIdentifier(sbdh.documentType)} ≠ AS4 Action ${as4.action}`,
      });
    }
  }
  if (smp) {
    if (!sameParticipant(smp.participant, sbdh.receiver)) {
      out.push({
        code: 'PEPPOL_SBDH_RECEIVER_MISMATCH',
        message: `SBDH Receiver ${formatIdentifier(sbdh.receiver)} ≠ SMP participant ${formatIdentifier(smp.participant)}`,
      });
    }
    if (!smp.documentTypes.some((r) => registrationAccepts(r, sbdh.documentType))) {
      out.push({
        code: 'PEPPOL_SBDH_DOCTYPE_MISMATCH',
        message: `the SMP registers no document type that accepts ${formatIdentifier(sbdh.documentType)}`,
      });
    }
    if (smp.processes && !smp.processes.some((p) => sameIdentifier(p, sbdh.process))) {
      out.push({
        code: 'PEPPOL_SBDH_PROCESS_MISMATCH',
        message: `the SMP registers process ${formatIdentifier(sbdh.process)} for no endpoint`,
      });
    }
  }
  return out;
}

/** sbdhMismatches, thrown: the first mismatch as a QerdsError with its code, all of them in `details.mismatches`. */
export function assertSbdhConsistent(sbdh: PeppolSbdh, as4?: As4PeppolHeader, smp?: SmpLookupResult): void {
  const found = sbdhMismatches(sbdh, as4, smp);
  if (found.length > 0)
    throw new QerdsError(found[0]!.code, found[0]!.message, { details: { mismatches: found } });
}
