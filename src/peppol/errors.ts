import type { ErrorCatalogueEntry } from '../core/errors.js';

/**
 * Codes of the Peppol module. HTTP status: how the REST API answers a submission refused with it (a 422 is a
 * well-formed request whose Peppol content is wrong). On receipt over AS4 the binding maps SBDH mismatches to
 * EBMS:0004 (Other) with the code in the description, as phase4 does; that mapping lives at the protocol edge.
 */
export const peppolErrors = {
  PEPPOL_PARTICIPANT_ID_INVALID: {
    text: 'the Peppol participant identifier is malformed or fails its ICD check',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_DOCTYPE_ID_INVALID: {
    text: 'the Peppol document type identifier is malformed',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_PROCESS_ID_INVALID: {
    text: 'the Peppol process identifier is malformed',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_MALFORMED: {
    text: 'the Standard Business Document is not well-formed or lacks a mandatory SBDH element',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_HEADER_VERSION: {
    text: 'the SBDH HeaderVersion is not 1.0',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_SENDER_INVALID: {
    text: 'the SBDH Sender is missing, repeated or not a Peppol participant identifier',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_RECEIVER_INVALID: {
    text: 'the SBDH Receiver is missing, repeated or not a Peppol participant identifier',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_DOCTYPE_INVALID: {
    text: 'the SBDH DOCUMENTID scope is missing or malformed',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_PROCESS_INVALID: {
    text: 'the SBDH PROCESSID scope is missing or malformed',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_COUNTRY_C1_INVALID: {
    text: 'the SBDH COUNTRY_C1 scope is missing or not an ISO 3166-1 alpha-2 code',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_INSTANCE_ID_INVALID: {
    text: 'the SBDH InstanceIdentifier is missing or malformed',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_CREATION_TIME_INVALID: {
    text: 'the SBDH CreationDateAndTime is missing or not an xs:dateTime with a time zone',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_STANDARD_MISMATCH: {
    text: 'the SBDH Standard, Type or TypeVersion contradicts the business document or the document type',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_MLS_TYPE_INVALID: {
    text: 'the SBDH MLS_TYPE scope is neither ALWAYS_SEND nor FAILURE_ONLY',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_SENDER_MISMATCH: {
    text: 'the SBDH Sender differs from the AS4 originalSender',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_RECEIVER_MISMATCH: {
    text: 'the SBDH Receiver differs from the AS4 finalRecipient or the participant looked up',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_DOCTYPE_MISMATCH: {
    text: 'the SBDH document type differs from the AS4 Action or is not registered in the SMP',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_PROCESS_MISMATCH: {
    text: 'the SBDH process differs from the AS4 Service or is not registered in the SMP',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_SBDH_DUPLICATE_INSTANCE: {
    text: 'a business document with this SBDH InstanceIdentifier was already received from this sender under another ebMS MessageId',
    httpStatus: 409,
    retryable: false,
  },
  PEPPOL_SMP_SIGNATURE_ALGORITHM: {
    text: 'the SMP response is signed with an algorithm the signature policy does not accept',
    httpStatus: 502,
    retryable: false,
  },
  PEPPOL_REPORT_INCOMPLETE: {
    text: 'an exchange record lacks what the Peppol report needs (C4 country of a received exchange)',
    httpStatus: 500,
    retryable: false,
  },
  PEPPOL_INVOICE_INVALID: {
    text: 'the business document breaks JP PINT rules',
    httpStatus: 422,
    retryable: false,
  },
  PEPPOL_VALIDATOR_FAILED: {
    text: 'an external validator of the business document (xmllint, the JP PINT Schematron) gave no verdict; try again later',
    httpStatus: 503,
    retryable: true,
  },
  PEPPOL_VALIDATOR_UNAVAILABLE: {
    text: 'a configured validator of business documents (xmllint, java and Saxon, a Schematron stylesheet) cannot run',
    httpStatus: 500,
    retryable: false,
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

export type PeppolErrorCode = keyof typeof peppolErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly peppol: typeof peppolErrors;
  }
}

/** A rule broken: the rule id of the specification (`ibr-co-10`, `aligned-ibr-jp-01`…) and where. */
export interface PeppolFinding {
  readonly rule: string;
  readonly severity: 'fatal' | 'warning';
  readonly message: string;
  /** Where in the document, as a short path (`cac:LegalMonetaryTotal/cbc:PayableAmount`). */
  readonly location?: string;
}
