import type { As4Profile, PMode, PModeInput, Property, UserMessage } from '../as4/index.js';
import type { PeppolFinding } from './errors.js';
import {
  PARTICIPANT_SCHEME,
  PROCESS_SCHEME,
  formatIdentifier,
  parseDocumentTypeId,
  parseProcessId,
  type DocumentTypeIdentifier,
  type ParticipantIdentifier,
  type ProcessIdentifier,
} from './identifiers.js';
import type { As4PeppolHeader } from './sbdh-check.js';

/*
 * The Peppol AS4 profile as a plug-in of the AS4 core's `As4Profile` contract (STYLE.md rule 3, after phase4's
 * `AS4PeppolProfileRegistarSPI`); type-only imports of src/as4, which does not import this module. The Peppol AS4
 * profile document is not among the stored sources; the values follow phase4's `PeppolPMode` and
 * `PeppolCompatibilityValidator` (phase4-profile-peppol) and the eDelivery AS4 1.15 algorithms of /work/shared/AS4.md.
 */

export const PEPPOL_AGREEMENT = 'urn:fdc:peppol.eu:2017:agreements:tia:ap_provider';
/** eb:PartyId/@type of a Peppol AP; the value is the CN of the AP certificate (its seat id, `POP000000`). */
export const PEPPOL_PARTY_ID_TYPE = 'urn:fdc:peppol.eu:2017:identifiers:ap';
/** ebMS 3 default roles, spelled again here: peppol/ imports only as4's types (test/peppol/module-boundary.test.ts). */
export const EBMS_INITIATOR_ROLE = 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator';
export const EBMS_RESPONDER_ROLE = 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder';
/** Seat id: `P` + two letters (the Peppol Authority, `OP` for OpenPeppol) + six digits (peppol-commons REGEX_SEAT_ID). */
export const SEAT_ID = /^P[A-Z]{2}[0-9]{6}$/;

const pmodeDefaults: Readonly<Partial<PModeInput>> = Object.freeze({
  profile: 'peppol',
  agreement: PEPPOL_AGREEMENT,
  mep: 'push',
  serviceType: PROCESS_SCHEME,
  // edelivery-1.15: RSA-SHA256 signatures, RSA-OAEP (MGF1-SHA256) key transport, AES-128-GCM payloads.
  security: Object.freeze({ algorithmSet: 'edelivery-1.15', encrypt: true }),
  receipt: Object.freeze({ nonRepudiation: true, replyPattern: 'response' }),
  compress: true,
});

const finding = (rule: string, message: string, severity: 'fatal' | 'warning' = 'fatal'): PeppolFinding => ({
  rule,
  severity,
  message,
  location: rule.replace(/^peppol-as4-/, ''),
});

function validate(pmode: PMode): PeppolFinding[] {
  const out: PeppolFinding[] = [];
  if (pmode.agreement !== PEPPOL_AGREEMENT)
    out.push(
      finding(
        'peppol-as4-agreement',
        `AgreementRef must be ${PEPPOL_AGREEMENT}, not ${pmode.agreement ?? 'absent'}`,
      ),
    );
  if (pmode.security.algorithmSet !== 'edelivery-1.15') {
    out.push(
      finding(
        'peppol-as4-algorithms',
        `Peppol signs with RSA-SHA256 and encrypts with AES-128-GCM under RSA-OAEP (edelivery-1.15), not ${pmode.security.algorithmSet}`,
      ),
    );
  }
  if (!pmode.security.encrypt)
    out.push(finding('peppol-as4-encrypt', 'every Peppol payload is encrypted for the receiving AP'));
  if (!pmode.receipt.nonRepudiation)
    out.push(finding('peppol-as4-receipt', 'receipts must be signed with non-repudiation information'));
  if (pmode.receipt.replyPattern !== 'response')
    out.push(finding('peppol-as4-receipt', 'receipts come on the HTTP response'));
  if (!pmode.compress)
    out.push(
      finding(
        'peppol-as4-compression',
        'payloads are sent uncompressed (Peppol senders such as phase4 gzip the SBD)',
        'warning',
      ),
    );
  for (const [name, party, role] of [
    ['initiator', pmode.initiator, EBMS_INITIATOR_ROLE],
    ['responder', pmode.responder, EBMS_RESPONDER_ROLE],
  ] as const) {
    if (!party) continue;
    if (party.partyIdType !== PEPPOL_PARTY_ID_TYPE)
      out.push(finding(`peppol-as4-${name}`, `${name} PartyId type must be ${PEPPOL_PARTY_ID_TYPE}`));
    if (!SEAT_ID.test(party.partyId))
      out.push(
        finding(
          `peppol-as4-${name}`,
          `${name} PartyId "${party.partyId}" is not the CN of a Peppol AP certificate (POP000000)`,
        ),
      );
    if (party.role !== role) out.push(finding(`peppol-as4-${name}`, `${name} Role must be ${role}`));
  }
  if (pmode.serviceType !== PROCESS_SCHEME)
    out.push(
      finding(
        'peppol-as4-service',
        `Service/@type must be ${PROCESS_SCHEME}, not ${pmode.serviceType ?? 'absent'}`,
      ),
    );
  try {
    parseProcessId(`${PROCESS_SCHEME}::${pmode.service}`);
  } catch {
    out.push(finding('peppol-as4-service', `Service "${pmode.service}" is not a Peppol process identifier`));
  }
  try {
    // Action is the whole document type id, scheme included.
    if (!/^[A-Za-z0-9]+(-[A-Za-z0-9]+)+::/.test(pmode.action)) throw new Error('no scheme');
    parseDocumentTypeId(pmode.action);
  } catch {
    out.push(
      finding(
        'peppol-as4-action',
        `Action "${pmode.action}" is not a Peppol document type identifier with its scheme`,
      ),
    );
  }
  return out;
}

export const peppolAs4Profile: As4Profile = Object.freeze({ id: 'peppol', pmodeDefaults, validate });

/** The seat id of an AP from its certificate's subject CN, or undefined when the CN is not one. */
export function seatIdOf(commonName: string): string | undefined {
  const cn = commonName.trim();
  return SEAT_ID.test(cn) ? cn : undefined;
}

export interface PeppolPModeInput {
  readonly id: string;
  /** CN of our AP certificate (sending) and of the receiving AP's certificate (from the SMP). */
  readonly initiatorSeatId: string;
  readonly responderSeatId: string;
  readonly process: ProcessIdentifier;
  readonly documentType: DocumentTypeIdentifier;
}

/** The input of a Peppol P-Mode for one exchange: the profile defaults (copied) under the exchange's parties, service and action. */
export function peppolPModeInput(input: PeppolPModeInput): PModeInput {
  return {
    ...pmodeDefaults,
    security: { ...pmodeDefaults.security },
    receipt: { ...pmodeDefaults.receipt },
    id: input.id,
    initiator: {
      partyId: input.initiatorSeatId,
      partyIdType: PEPPOL_PARTY_ID_TYPE,
      role: EBMS_INITIATOR_ROLE,
    },
    responder: {
      partyId: input.responderSeatId,
      partyIdType: PEPPOL_PARTY_ID_TYPE,
      role: EBMS_RESPONDER_ROLE,
    },
    service: input.process.value,
    serviceType: input.process.scheme,
    action: formatIdentifier(input.documentType),
  };
}

/** eb:MessageProperties of a Peppol UserMessage: C1 and C4, typed with the participant scheme. */
export function peppolMessageProperties(
  sender: ParticipantIdentifier,
  receiver: ParticipantIdentifier,
): Property[] {
  return [
    { name: 'originalSender', value: sender.value, type: sender.scheme },
    { name: 'finalRecipient', value: receiver.value, type: receiver.scheme },
  ];
}

/**
 * The AS4 values the SBDH must agree with (sbdhMismatches), read from a received UserMessage. A missing
 * originalSender or finalRecipient becomes an empty value, which no SBDH matches.
 */
export function as4PeppolHeaderOf(
  message: Pick<UserMessage, 'messageProperties' | 'collaboration'>,
): As4PeppolHeader {
  const prop = (name: string) => message.messageProperties.find((p) => p.name === name);
  const sender = prop('originalSender');
  const recipient = prop('finalRecipient');
  return {
    originalSender: sender?.value ?? '',
    originalSenderType: sender?.type ?? PARTICIPANT_SCHEME,
    finalRecipient: recipient?.value ?? '',
    finalRecipientType: recipient?.type ?? PARTICIPANT_SCHEME,
    service: message.collaboration.service,
    ...(message.collaboration.serviceType === undefined
      ? {}
      : { serviceType: message.collaboration.serviceType }),
    action: message.collaboration.action,
  };
}
