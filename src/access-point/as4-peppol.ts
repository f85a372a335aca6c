import { createHash, type X509Certificate } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { PMode, Property, UserMessage } from '../as4/index.js';
import {
  formatParticipantId,
  isQerdsError,
  parseParticipantId as parseErdsParticipantId,
  QerdsError,
  type QerdsErrorCode,
  type ParticipantId,
  type PayloadPart,
  type ReasonCode,
} from '../core/index.js';
import {
  as4PeppolHeaderOf,
  buildSbd,
  EBMS_INITIATOR_ROLE,
  EBMS_RESPONDER_ROLE,
  formatIdentifier,
  jpPintDocumentType,
  jpPintProcess,
  parseParticipantId,
  parseSbd,
  peppolAs4Profile,
  PEPPOL_PARTY_ID_TYPE,
  peppolMessageProperties,
  PROCESS_SCHEME,
  readUblInvoice,
  sbdhMismatches,
  type DocumentTypeIdentifier,
  type ProcessIdentifier,
  type UblInvoice,
  seatIdOf,
  type ParticipantIdentifier,
} from '../peppol/index.js';
import { PEPPOL_AS4_TRANSPORT_PROFILE, relaysBySmtp, type DirectoryEntry } from '../directory/index.js';
import type { ReceivedMessage, RelayPart } from '../pipeline/index.js';
import { subjectCommonName } from '../pki/index.js';
import { certificateFrom } from '../pki/parse-cache.js';
import { checkJpPintDocument, type JpPintValidators } from './jp-pint-validation.js';
import { parseXmlStrict } from '../xml/index.js';

/**
 * The Peppol conventions of a Dispatch (Peppol AS4 profile, Peppol Envelope specification), used when this AP runs
 * the `peppol` AS4 profile: C2 wraps the UBL document C1 submitted in an SBD, sends it under the P-Mode of its
 * document type (Service = the process id, its scheme as @type; Action = the document type id with its scheme),
 * with `originalSender` / `finalRecipient` typed `iso6523-actorid-upis`, and PartyIds that are the CNs of the two
 * AP certificates. C3 reads the SBD back and holds it against the AS4 header.
 * The Peppol AS4 profile document itself is not among the stored sources: the error behaviour follows what the
 * Dutch Peppol Authority's invoice-process guideline quotes of it (one Peppol-specific transport error, EBMS:0004
 * with ErrorDetail `PEPPOL:NOT_SERVICED`, for a receiver, document type or process the receiving AP does not serve)
 * and phase4's Peppol servlet (other SBDH failures: EBMS:0004 with the reason as ErrorDetail).
 */
export const PEPPOL_NOT_SERVICED = 'PEPPOL:NOT_SERVICED';
/** The country of C1 in the SBDH (COUNTRY_C1) when the invoice names no seller country. */
export const DEFAULT_COUNTRY_C1 = 'JP';
/** Largest business document read into memory to wrap it in an SBD, bytes (a UBL invoice is kilobytes). */
const MAX_BUSINESS_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** A Peppol participant id from a qerds-ap one (`0188:…` → `iso6523-actorid-upis::0188:…`). */
export function peppolParticipant(id: ParticipantId, checkValues = true): ParticipantIdentifier {
  return parseParticipantId(formatParticipantId(id), { checkValues });
}

/** The seat id a certificate's CN holds, or undefined when its CN is no seat id. */
export function certificateSeatId(certificate: X509Certificate): string | undefined {
  return seatIdOf(subjectCommonName(certificate.subject) ?? '');
}

/** The seat id of an AP certificate (its CN); a certificate without one is no Peppol AP certificate. */
export function seatIdOfCertificate(certificate: X509Certificate): string {
  const seat = certificateSeatId(certificate);
  if (!seat)
    throw new QerdsError(
      'CONFIG_INVALID',
      `the certificate "${certificate.subject.replace(/\n/g, ', ')}" is no Peppol AP certificate (its CN is not a seat id like POP000123)`,
      { details: { retryable: false } },
    );
  return seat;
}

export interface PeppolDispatchInput {
  readonly ebmsMessageId: string;
  readonly sender: ParticipantId;
  readonly recipient: ParticipantId;
  readonly submittedAt: Date;
  readonly parts: readonly RelayPart[];
  /** Push P-Modes of this AP (the one of the document type is chosen). */
  readonly pmodes: readonly PMode[];
  /** This AP's AS4 signing certificate (its Peppol AP certificate). */
  readonly ownCertificate: X509Certificate;
  /** The receiving AP's certificate as the directory pins it. */
  readonly peerCertificatePem: string | undefined;
}

export interface PeppolDispatch {
  readonly pmode: PMode;
  readonly from: UserMessage['from'];
  readonly to: UserMessage['to'];
  readonly collaboration: Omit<UserMessage['collaboration'], 'conversationId'>;
  readonly messageProperties: Property[];
  readonly part: RelayPart & { readonly body: Buffer };
}

const notRetryable = (code: QerdsErrorCode, message: string) =>
  new QerdsError(code, message, { details: { retryable: false } });

/** What C2 sends for a Dispatch under the Peppol profile: the SBD around the one UBL document, and the AS4 header. */
export async function peppolDispatch(input: PeppolDispatchInput): Promise<PeppolDispatch> {
  if (input.parts.length !== 1)
    throw notRetryable(
      'PEPPOL_SBDH_MALFORMED',
      `a Peppol message carries one business document, not ${input.parts.length}`,
    );
  const part = input.parts[0]!;
  // Threat: C3 could not check what it cannot read; Peppol carries the document itself (AS4 encrypts it per hop).
  if (part.originalContentType !== undefined)
    throw notRetryable(
      'PEPPOL_SBDH_MALFORMED',
      'an end-to-end encrypted part cannot be wrapped in a Peppol SBD',
    );
  const xml = (
    Buffer.isBuffer(part.body) ? part.body : await readAtMost(part.body.open(), MAX_BUSINESS_DOCUMENT_BYTES)
  ).toString('utf8');
  const invoice = readUblInvoice(
    parseXmlStrict(xml, 'PEPPOL_SBDH_MALFORMED', { what: 'business document' }).documentElement!,
  );
  if (!invoice)
    throw notRetryable(
      'PEPPOL_SBDH_MALFORMED',
      'the business document is neither a UBL Invoice nor a CreditNote',
    );
  const { documentType, process } = peppolServiceOfInvoice(invoice);
  const action = formatIdentifier(documentType);
  const pmode = input.pmodes.find(
    (p) =>
      p.service === process.value &&
      (p.serviceType ?? PROCESS_SCHEME) === process.scheme &&
      p.action === action,
  );
  if (!pmode) throw notRetryable('AS4_EBMS_0010', `no Peppol P-Mode for document type ${action}`);
  if (!input.peerCertificatePem)
    throw notRetryable(
      'AS4_PEER_NOT_PINNED',
      'the directory pins no Peppol AP certificate for the receiving AP (its CN is the receiver PartyId)',
    );
  const sender = peppolParticipant(input.sender);
  const receiver = peppolParticipant(input.recipient);
  const sbd = buildSbd(
    {
      sender,
      receiver,
      documentType,
      process,
      countryC1: DEFAULT_COUNTRY_C1,
      // The same instance id on every attempt: C3 may drop a re-sent SBD by it, as it drops the MessageId.
      instanceIdentifier: uuidFrom(input.ebmsMessageId),
      creationTime: input.submittedAt,
    },
    xml,
  );
  const collaboration = {
    ...(pmode.agreement ? { agreementRef: pmode.agreement } : {}),
    service: process.value,
    serviceType: process.scheme,
    action,
  };
  const messageProperties = peppolMessageProperties(sender, receiver);
  // C2 reads back what it built as C3 will (parse and the header checks), so a fault of ours never reaches the network.
  const mismatches = sbdhMismatches(
    parseSbd(sbd).header,
    as4PeppolHeaderOf({ messageProperties, collaboration: { ...collaboration, conversationId: '' } }),
  );
  if (mismatches.length > 0)
    throw notRetryable(mismatches[0]!.code, mismatches.map((m) => m.message).join('; '));
  return {
    pmode,
    from: {
      partyId: seatIdOfCertificate(input.ownCertificate),
      partyIdType: PEPPOL_PARTY_ID_TYPE,
      role: EBMS_INITIATOR_ROLE,
    },
    to: {
      partyId: seatIdOfCertificate(certificateFrom(input.peerCertificatePem)),
      partyIdType: PEPPOL_PARTY_ID_TYPE,
      role: EBMS_RESPONDER_ROLE,
    },
    collaboration,
    messageProperties,
    part: {
      partId: 'sbd',
      contentType: 'application/xml',
      filename: 'sbd.xml',
      body: Buffer.from(sbd, 'utf8'),
    },
  };
}

/**
 * What a JP PINT document is sent as: its document type (wildcard scheme, from its root and CustomizationID) and
 * its process (billing, or self-billing for a self-billing CustomizationID). The SMP is asked for this pair, the
 * P-Mode is chosen by it, and the SBDH names it.
 */
export function peppolServiceOfInvoice(invoice: Pick<UblInvoice, 'root' | 'customizationId'>): {
  documentType: DocumentTypeIdentifier;
  process: ProcessIdentifier;
} {
  return {
    documentType: jpPintDocumentType(invoice.root, invoice.customizationId),
    process: jpPintProcess(invoice.customizationId),
  };
}

/**
 * The pipeline's `serviceOf` on the Peppol profile: the SMP service of a stored submission — the document type and
 * process of its one UBL document — so that C2 asks the recipient's SMP for the registration of that document
 * type (SML/BDXL, then the signed ServiceMetadata) and sends to the endpoint and certificate of that answer.
 * Anything that is not one readable UBL Invoice/CreditNote (the JP PINT check refuses it anyway, or it is
 * ciphertext) has no service: the directory's default document type is asked.
 */
export function peppolServiceOf(blobs: {
  get(sha256: string): Readable;
}): (
  parts: readonly PayloadPart[],
) => Promise<{ documentType: DocumentTypeIdentifier; process: ProcessIdentifier } | undefined> {
  return async (parts) => {
    if (parts.length !== 1 || parts[0]!.size > MAX_BUSINESS_DOCUMENT_BYTES) return undefined;
    try {
      const xml = (await readAtMost(blobs.get(parts[0]!.sha256), MAX_BUSINESS_DOCUMENT_BYTES)).toString(
        'utf8',
      );
      const invoice = readUblInvoice(
        parseXmlStrict(xml, 'PEPPOL_SBDH_MALFORMED', { what: 'business document' }).documentElement!,
      );
      return invoice && invoice.customizationId ? peppolServiceOfInvoice(invoice) : undefined;
    } catch (error) {
      if (isQerdsError(error)) return undefined;
      throw error;
    }
  };
}

/** The UserMessage of a Peppol Dispatch: its header, and one PartInfo per attachment with the MIME type alone. */
export function peppolUserMessage(
  dispatch: PeppolDispatch,
  input: {
    messageId: string;
    conversationId: string;
    timestamp: Date;
    attachments: readonly { readonly contentId: string; readonly contentType: string }[];
  },
): UserMessage {
  return {
    messageId: input.messageId,
    timestamp: input.timestamp,
    from: dispatch.from,
    to: dispatch.to,
    collaboration: { ...dispatch.collaboration, conversationId: input.conversationId },
    messageProperties: dispatch.messageProperties,
    payloads: input.attachments.map((a) => ({
      href: `cid:${a.contentId}`,
      mimeType: a.contentType,
      properties: [],
    })),
  };
}

/**
 * A Peppol refusal from the receiving AP (EBMS:0004 whose ErrorDetail is PEPPOL:NOT_SERVICED or one of our
 * PEPPOL_SBDH_… codes) is final: sending the same SBD again cannot change the answer, so it is not retried.
 */
export function finalPeppolRefusal(error: unknown): unknown {
  if (!isQerdsError(error, 'AS4_EBMS_0004')) return error;
  const errors = (error.details?.errors ?? []) as readonly { errorDetail?: string }[];
  if (
    !errors.some(
      (e) => e.errorDetail?.startsWith(PEPPOL_NOT_SERVICED) || e.errorDetail?.startsWith('PEPPOL_'),
    )
  )
    return error;
  return new QerdsError(error.code, error.message, {
    cause: error,
    details: { ...error.details, retryable: false },
  });
}

/**
 * The refusal of a Peppol UserMessage (Service typed with the Peppol process scheme) for which this AP has no P-Mode:
 * it does not serve that document type or process, which the Peppol AS4 profile answers with EBMS:0004
 * PEPPOL:NOT_SERVICED. Other messages keep the core's EBMS:0010.
 */
export function peppolNotServiced(message: UserMessage): QerdsError | undefined {
  if (message.collaboration.serviceType !== PROCESS_SCHEME) return undefined;
  return new QerdsError('AS4_EBMS_0004', PEPPOL_NOT_SERVICED, { details: { retryable: false } });
}

/** What C3 took from a Peppol UserMessage: the participants, and the refusal when the SBD contradicts its header. */
export interface PeppolReception {
  readonly sender: ParticipantId;
  readonly recipient: ParticipantId;
  readonly submittedAt?: Date;
  readonly part: RelayPart;
  /** Set when the SBD is malformed or contradicts the AS4 header: RelayRejection with this reason, then the error. */
  readonly refusal?: {
    readonly reason: { readonly code: ReasonCode; readonly details: string };
    readonly error: QerdsError;
  };
  /** The SBD's second identity (its sender and InstanceIdentifier) when it was read whole: duplicate detection. */
  readonly receptionKey?: NonNullable<ReceivedMessage['receptionKey']>;
}

/**
 * The reception key of an SBD: its Sender and DocumentIdentification/InstanceIdentifier. A second SBD with the same
 * pair under a new ebMS MessageId is the same business document sent again, not a transport retry (that keeps its
 * MessageId and is answered with the receipt): refused with EBMS:0004, ErrorDetail PEPPOL_SBDH_DUPLICATE_INSTANCE,
 * and not delivered twice. The Peppol Envelope specification's text on InstanceIdentifier uniqueness is not among
 * the stored sources; this follows phoss-ap (phax/phoss-ap, InboundOrchestrator / Phase4InboundMessageProcessorSPI),
 * whose default answers a duplicate SBDH instance with EBMS:0004 (EBMS_OTHER) naming it. phoss-ap keys on the
 * InstanceIdentifier alone; here it is scoped to the sender, so that two senders' identical UUIDs never collide.
 */
export function sbdhReceptionKey(
  sender: ParticipantIdentifier,
  instanceIdentifier: string,
): NonNullable<ReceivedMessage['receptionKey']> {
  const from = formatIdentifier(sender);
  return {
    key: `peppol-sbdh-instance\n${from}\n${instanceIdentifier}`,
    duplicate: (first) =>
      new QerdsError(
        'AS4_EBMS_0004',
        `PEPPOL_SBDH_DUPLICATE_INSTANCE: SBDH InstanceIdentifier ${instanceIdentifier} from ${from} was already received in ebMS message ${first.ebmsMessageId}`,
        { details: { retryable: false } },
      ),
  };
}

/**
 * C3: the SBD of a Peppol UserMessage, parsed and held against the AS4 header that carried it (sbdhMismatches:
 * sender, receiver, process, document type). Participants come from the AS4 header (what the message was routed
 * on); a missing originalSender/finalRecipient is EBMS:0009, refused before anything is recorded.
 */
export function readPeppolDispatch(
  message: UserMessage,
  payloads: readonly { readonly body: Buffer }[],
): PeppolReception {
  const header = as4PeppolHeaderOf(message);
  const participant = (value: string, name: string): ParticipantId => {
    try {
      return parseErdsParticipantId(parseParticipantId(value, { checkValues: false }).value);
    } catch {
      throw new QerdsError(
        'AS4_EBMS_0009',
        `message property ${name} is missing or no Peppol participant id`,
      );
    }
  };
  const sender = participant(header.originalSender, 'originalSender');
  const recipient = participant(header.finalRecipient, 'finalRecipient');
  if (payloads.length !== 1)
    throw new QerdsError(
      'AS4_EBMS_0004',
      `PEPPOL_SBDH_MALFORMED: a Peppol message carries one SBD, not ${payloads.length} payloads`,
    );
  const body = payloads[0]!.body;
  const part: RelayPart = { partId: 'sbd', contentType: 'application/xml', filename: 'sbd.xml', body };
  const refuse = (code: string, why: string): PeppolReception => ({
    sender,
    recipient,
    part,
    refusal: {
      reason: { code: 'RB02', details: `${code}: ${why}` },
      error: new QerdsError('AS4_EBMS_0004', `${code}: ${why}`, { details: { retryable: false } }),
    },
  });
  let parsed: ReturnType<typeof parseSbd>;
  try {
    parsed = parseSbd(body.toString('utf8'));
  } catch (error) {
    if (!isQerdsError(error) || !error.code.startsWith('PEPPOL_')) throw error;
    return refuse(error.code, error.message);
  }
  const mismatches = sbdhMismatches(parsed.header, header);
  if (mismatches.length > 0) return refuse(mismatches[0]!.code, mismatches.map((m) => m.message).join('; '));
  return {
    sender,
    recipient,
    submittedAt: parsed.header.creationTime,
    part,
    receptionKey: sbdhReceptionKey(parsed.header.sender, parsed.header.instanceIdentifier),
  };
}

/**
 * The JP PINT check of a submission bound for Peppol: one business document, within the size bound, through
 * `checkJpPintDocument` (well-formedness, UBL 2.1 XSD, the rules as code, the official Schematron, as configured).
 * The first failure refuses the submission (RA02 InvalidMessageFormat) naming the XSD error or the rule; warnings pass.
 */
export async function jpPintRefusal(
  parts: readonly PayloadPart[],
  read: (part: PayloadPart) => Promise<Buffer>,
  validators: JpPintValidators = {},
): Promise<{ code: ReasonCode; details: string } | undefined> {
  if (parts.length !== 1)
    return {
      code: 'RA02',
      details: `a Peppol submission carries one UBL document, not ${parts.length} parts`,
    };
  const part = parts[0]!;
  if (part.size > MAX_BUSINESS_DOCUMENT_BYTES)
    return { code: 'RA02', details: `the document exceeds ${MAX_BUSINESS_DOCUMENT_BYTES} bytes` };
  return checkJpPintDocument(await read(part), validators);
}

/** A UUID (the form Peppol SBDH instance ids take) derived from `text`. */
function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function readAtMost(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      throw notRetryable('PEPPOL_SBDH_MALFORMED', `the business document exceeds ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The pipeline's `submissionCheck` of an AP on the Peppol profile: JP PINT rules on the stored document, for a
 * submission routed to a Peppol peer (`peerSpeaksPeppol`); one routed to a qerds-ap over the ERDS service or to an
 * SMTP relay carries what the sender submitted.
 */
export function jpPintSubmissionCheck(
  blobs: { get(sha256: string): Readable },
  validators: JpPintValidators = {},
): (input: {
  readonly entry?: DirectoryEntry;
  readonly parts: readonly PayloadPart[];
}) => Promise<{ code: ReasonCode; details: string } | undefined> {
  return async ({ entry, parts }) =>
    entry && !peerSpeaksPeppol(entry, peppolAs4Profile.id)
      ? undefined
      : jpPintRefusal(
          parts,
          (part) => readAtMost(blobs.get(part.sha256), MAX_BUSINESS_DOCUMENT_BYTES),
          validators,
        );
}

/**
 * Whether a message to the AP of `entry` goes the Peppol way (SBD, Peppol AS4 header) or over qerds-ap's ERDS
 * service, on an AP whose `as4.profile` is `apProfile`: the entry's transport profile decides
 * (`peppol-transport-as4-v2_0`: Peppol; another one, e.g. `bdxr-transport-ebms3-as4-v1p0` for a qerds-ap peer or the
 * SMTP relay's: not), else the AP's profile; an `smtp://` endpoint is never Peppol. One AP thus serves Peppol peers
 * and ERDS peers side by side.
 */
export function peerSpeaksPeppol(
  entry: Pick<DirectoryEntry, 'endpoint' | 'transportProfile'> | undefined,
  apProfile: string,
): boolean {
  if (entry && relaysBySmtp(entry)) return false;
  if (entry?.transportProfile) return entry.transportProfile === PEPPOL_AS4_TRANSPORT_PROFILE;
  return apProfile === peppolAs4Profile.id;
}
