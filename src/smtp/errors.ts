import { QerdsError, isQerdsError, type ErrorCatalogueEntry } from '../core/errors.js';

/**
 * The SMTP module's error catalogue, as data: QerdsError code → reply code (RFC 5321 §4.2), enhanced status
 * code (RFC 3463, registry of RFC 5248) and text. `toSmtpReply` is the one place where an error becomes
 * wire form; codes of other modules that may reach the intake (core, pipeline) are mapped here too.
 */
export interface SmtpErrorDefinition extends ErrorCatalogueEntry {
  /** Basic reply code: 4xx transient (the client retries), 5xx permanent. */
  readonly reply: number;
  /** Enhanced status code `class.subject.detail`. */
  readonly enhanced: string;
}

export const smtpErrors = {
  /** RFC 4954 §6: 530 5.7.0 for a mail transaction before AUTH. */
  SMTP_AUTH_REQUIRED: {
    reply: 530,
    enhanced: '5.7.0',
    text: 'authentication required: STARTTLS, then AUTH PLAIN or LOGIN',
    httpStatus: 401,
    retryable: false,
  },
  /** RFC 4954 §6: 535 5.7.8 authentication credentials invalid. */
  SMTP_AUTH_FAILED: {
    reply: 535,
    enhanced: '5.7.8',
    text: 'authentication credentials invalid',
    httpStatus: 401,
    retryable: false,
  },
  /** RFC 4954 §6: 538 5.7.11 encryption required for the requested authentication mechanism. */
  SMTP_TLS_REQUIRED: {
    reply: 538,
    enhanced: '5.7.11',
    text: 'encryption required: issue STARTTLS before AUTH',
    httpStatus: 403,
    retryable: false,
  },
  /** MAIL FROM is not the authenticated account's address (RFC 6409 §6.1: the MSA may refuse). */
  SMTP_SENDER_MISMATCH: {
    reply: 553,
    enhanced: '5.7.1',
    text: 'sender address not owned by the authenticated account',
    httpStatus: 403,
    retryable: false,
  },
  /** The message's From/Sender header is not the authenticated account's address. */
  SMTP_HEADER_FROM_MISMATCH: {
    reply: 550,
    enhanced: '5.7.1',
    text: 'header From does not match the authenticated account',
    httpStatus: 403,
    retryable: false,
  },
  /** A recipient outside this AP's domains that no participant entry names: never relay. */
  SMTP_RELAY_DENIED: {
    reply: 550,
    enhanced: '5.7.1',
    text: 'relay access denied',
    httpStatus: 403,
    retryable: false,
  },
  /** An address in this AP's domain that no participant in the directory has. */
  SMTP_UNKNOWN_RECIPIENT: {
    reply: 550,
    enhanced: '5.1.1',
    text: 'recipient unknown',
    httpStatus: 404,
    retryable: false,
  },
  /** RFC 1870 / RFC 3463: 552 5.3.4 message too big for system. */
  SMTP_MESSAGE_TOO_LARGE: {
    reply: 552,
    enhanced: '5.3.4',
    text: 'message exceeds the maximum message size',
    httpStatus: 413,
    retryable: false,
  },
  /** The message is not parseable RFC 5322 (no From header, broken structure). */
  SMTP_MESSAGE_MALFORMED: {
    reply: 550,
    enhanced: '5.6.0',
    text: 'message is malformed',
    httpStatus: 400,
    retryable: false,
  },
  /** The submission was refused by the AP's policy after DATA (SubmissionRejection). */
  SMTP_SUBMISSION_REJECTED: {
    reply: 554,
    enhanced: '5.7.1',
    text: 'submission rejected by the policy of the access point',
    httpStatus: 422,
    retryable: false,
  },
  /** RFC 4954 §6: 454 4.7.0 temporary authentication failure: too many failed attempts from this address lately. */
  SMTP_AUTH_THROTTLED: {
    reply: 454,
    enhanced: '4.7.0',
    text: 'too many failed authentication attempts from this address; try again later',
    httpStatus: 429,
    retryable: true,
  },
  /** RFC 3463 4.7.1 (delivery not authorized, transient): more messages from this address than the listener takes in its window. */
  SMTP_RATE_LIMITED: {
    reply: 451,
    enhanced: '4.7.1',
    text: 'too many messages from this address; try again later',
    httpStatus: 429,
    retryable: true,
  },
  /** RFC 5321 §3.8 / RFC 3463 4.7.0: more connections at once from this address than the listener serves one address (421, then closed). */
  SMTP_TOO_MANY_CONNECTIONS: {
    reply: 421,
    enhanced: '4.7.0',
    text: 'too many connections from this address; try again later',
    httpStatus: 429,
    retryable: true,
  },
  /** RFC 3207 §4: the relay listener takes no mail transaction before STARTTLS (530 5.7.0). */
  SMTP_STARTTLS_REQUIRED: {
    reply: 530,
    enhanced: '5.7.0',
    text: 'Must issue a STARTTLS command first',
    httpStatus: 403,
    retryable: false,
  },
  /** Relay listener: the S/MIME seal is valid but its signer is not an access point this AP accepts for the sender (RFC 5248 5.7.1). */
  SMTP_SEAL_UNTRUSTED: {
    reply: 554,
    enhanced: '5.7.1',
    text: 'the dispatch is not sealed by a known access point',
    httpStatus: 403,
    retryable: false,
  },
  /** Relay listener: the S/MIME seal, a signed REM header or the evidence inside does not verify (RFC 3463 5.7.7 message integrity failure). */
  SMTP_SEAL_INVALID: {
    reply: 554,
    enhanced: '5.7.7',
    text: 'the seal of the dispatch does not verify',
    httpStatus: 422,
    retryable: false,
  },
  /** Relay listener: an encrypted dispatch that no key of this AP opens (RFC 3463 5.7.5 cryptographic failure). */
  SMTP_DECRYPTION_FAILED: {
    reply: 554,
    enhanced: '5.7.5',
    text: 'the dispatch cannot be decrypted by this access point',
    httpStatus: 422,
    retryable: false,
  },
  /** Anything we did not foresee, or the store is down: transient so the client queues and retries. */
  SMTP_LOCAL_ERROR: {
    reply: 451,
    enhanced: '4.3.0',
    text: 'local error in processing, try again later',
    httpStatus: 500,
    retryable: true,
  },
} as const satisfies Record<string, SmtpErrorDefinition>;

export type SmtpErrorCode = keyof typeof smtpErrors;

/** Adds these codes to the union of every catalogued code (core/errors.ts QerdsErrorCode). */
declare module '../core/errors.js' {
  interface QerdsErrorCatalogues {
    readonly smtp: typeof smtpErrors;
  }
}

/** Codes of other modules that can reach the SMTP edge, and the SMTP code they read as. */
const foreignCodes: Readonly<Record<string, SmtpErrorCode>> = {
  AUTH_REQUIRED: 'SMTP_AUTH_REQUIRED',
  PAYLOAD_TOO_LARGE: 'SMTP_MESSAGE_TOO_LARGE',
  BAD_REQUEST: 'SMTP_MESSAGE_MALFORMED',
  SUBMISSION_REJECTED: 'SMTP_SUBMISSION_REJECTED',
  NOT_FOUND: 'SMTP_UNKNOWN_RECIPIENT',
  INTERNAL: 'SMTP_LOCAL_ERROR',
  PIPELINE_UNKNOWN_RECIPIENT: 'SMTP_UNKNOWN_RECIPIENT',
};

export interface SmtpReply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
}

/** A QerdsError of the SMTP catalogue, with the catalogue's text unless a more precise one is given. */
export function smtpError(
  code: SmtpErrorCode,
  message?: string,
  details?: Record<string, unknown>,
): QerdsError {
  return new QerdsError(code, message ?? smtpErrors[code].text, details ? { details } : {});
}

/**
 * Wire form of any error. QerdsErrors of known codes keep their message (it was written for the client);
 * anything else becomes 451 4.3.0 with the catalogue text, so internal details never reach the client.
 */
export function toSmtpReply(error: unknown): SmtpReply {
  if (isQerdsError(error)) {
    const code = (error.code in smtpErrors ? error.code : foreignCodes[error.code]) as
      SmtpErrorCode | undefined;
    if (code) {
      const entry = smtpErrors[code];
      return { code: entry.reply, enhanced: entry.enhanced, text: oneLine(error.message) };
    }
  }
  const entry = smtpErrors.SMTP_LOCAL_ERROR;
  return { code: entry.reply, enhanced: entry.enhanced, text: entry.text };
}

/** The error object smtp-server turns into a reply: `responseCode`, and the enhanced code leading the text. */
export function toServerError(error: unknown): Error & { responseCode: number } {
  const reply = toSmtpReply(error);
  return Object.assign(new Error(`${reply.enhanced} ${reply.text}`), { responseCode: reply.code });
}

// Reply text goes on one line: a CR or LF from a message built with client data would split the reply.
function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').slice(0, 400);
}
