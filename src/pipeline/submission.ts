import {
  formatParticipantId,
  isQerdsError,
  type Identification,
  type ParticipantId,
  type PayloadPart,
  type ReasonCode,
} from '../core/index.js';
import type { DirectoryEntry } from '../directory/index.js';
import type { StoredMessage } from '../store/types.js';
import { encryptPartsForRecipient } from './e2e-encryption.js';
import { enqueueSenderCopies } from './sender-copies.js';
import { recipientEntry } from './stage-support.js';
import type { IssuedEvidence, PipelineContext } from './ports.js';

export interface SubmissionInput {
  readonly sender: ParticipantId;
  /** How the sender was identified (REQ3): recorded in the SubmissionAcceptance/Rejection. */
  readonly senderIdentification: Identification;
  readonly recipient: ParticipantId;
  readonly subject?: string;
  /** The sender's own reference (its ERP's correlation id): stored and returned with the message, never relayed. */
  readonly reference?: string;
  /** Parts already streamed into the blob store. */
  readonly parts: readonly PayloadPart[];
  /**
   * A refusal decided at intake before any routing (identification below the policy's level, invalid
   * e-seal): the submission is stored as rejected, its SubmissionRejection carrying this reason.
   */
  readonly rejection?: { readonly code: ReasonCode; readonly details: string };
  /** Details of the RA01 reason of the SubmissionAcceptance (e.g. the result of the sender's own seal check). */
  readonly acceptanceDetails?: string;
}

export interface SubmissionResult {
  readonly accepted: boolean;
  /** Set when the submission was refused after routing (end-to-end policy), with the SubmissionRejection's reason. */
  readonly rejection?: { readonly code: ReasonCode; readonly details: string };
  readonly message: StoredMessage;
  readonly evidence: IssuedEvidence;
}

/**
 * C1 → C2. Checks that the recipient can be reached, then in ONE transaction stores the message, its
 * SubmissionAcceptance and the relay job. A recipient no directory knows gets a SubmissionRejection
 * (RA05, policy: recipient must be addressable) stored with the message, so the sender can fetch it.
 */
export async function submitMessage(ctx: PipelineContext, input: SubmissionInput): Promise<SubmissionResult> {
  const id = ctx.ids.next('msg');
  const ebmsMessageId = `${ctx.ids.next('ebms')}@qerds-ap`;
  const submittedAt = ctx.clock.now();
  const routed = input.rejection ? { entry: undefined } : await route(ctx, input.recipient, input.parts);
  const found = routed.entry;
  // A plain e-mail address outside any ERDS, when the sender policy allows relaying there (EN 319 522-1 F events).
  const outside =
    input.rejection || found || routed.refusal ? undefined : ctx.mail?.nonErdsAddress(input.recipient);
  // REQ2 before anything is encrypted: a certificate that does not chain, expired, was revoked or is not
  // an encryption key is refused (threat: content readable by whoever published it), and so is plaintext
  // where the policy wants end-to-end encryption and no certificate is known.
  const contentRefusal =
    !input.rejection && found && ctx.submissionCheck
      ? await ctx.submissionCheck({ recipient: input.recipient, entry: found, parts: input.parts })
      : undefined;
  const rejection =
    input.rejection ??
    routed.refusal ??
    contentRefusal ??
    (found || outside ? endToEndRefusal(ctx, input, found?.encryptionCertificatePem) : undefined);
  const entry = rejection ? undefined : found;
  const nonErds = rejection ? undefined : outside;
  const accepted = entry !== undefined || nonErds !== undefined;
  // A sender whose e-seal this AP holds gets its unsealed content sealed here, before encryption: the seal
  // travels inside the ciphertext to C4, and the SubmissionAcceptance says the AP made it on its behalf.
  const sealed = accepted
    ? ((await ctx.onBehalfSealer?.seal(input.sender, input.parts)) ?? input.parts)
    : input.parts;
  // End to end (REQ2): when the directory names the recipient's encryption certificate, the parts are
  // encrypted here, once, so that the SubmissionAcceptance binds plaintext and ciphertext digests and C3
  // only ever sees ciphertext.
  const parts = entry?.encryptionCertificatePem
    ? await encryptPartsForRecipient(ctx.store.blobs, sealed, entry.encryptionCertificatePem)
    : sealed;
  const draft = { ebmsMessageId, sender: input.sender, recipient: input.recipient, parts, submittedAt };
  const evidence = await ctx.evidence.issue({
    event: accepted ? 'SubmissionAcceptance' : 'SubmissionRejection',
    reason: accepted
      ? { code: 'RA01', ...(input.acceptanceDetails ? { details: input.acceptanceDetails } : {}) }
      : (rejection ?? {
          code: 'RA05',
          details: `recipient ${formatParticipantId(input.recipient)} is not in the directory`,
        }),
    message: draft,
    senderIdentification: input.senderIdentification,
  });
  const { message, copied } = await ctx.store.transaction(async (tx) => {
    const stored = await tx.insertMessage({
      id,
      ebmsMessageId,
      role: 'sender-ap',
      state: accepted ? 'submitted' : 'rejected',
      sender: input.sender,
      recipient: input.recipient,
      subject: input.subject,
      reference: input.reference,
      parts,
      submittedAt,
      peer: entry?.endpoint ?? (nonErds ? `mailto:${nonErds}` : undefined),
    });
    await tx.insertEvidence({
      id: evidence.id,
      messageId: id,
      event: evidence.event,
      eventTime: evidence.eventTime,
      xml: evidence.xml,
      issuedBy: ctx.self.id,
    });
    if (accepted) await tx.enqueue('relay', id);
    return { message: stored, copied: await enqueueSenderCopies(ctx, tx, input.sender, id, evidence.id) };
  });
  if (accepted || copied) ctx.poke();
  ctx.log.info(
    {
      messageId: id,
      ebmsMessageId,
      event: evidence.event,
      ...(input.reference ? { reference: input.reference } : {}),
    },
    'submission recorded',
  );
  return { accepted, message, evidence, ...(rejection && !input.rejection ? { rejection } : {}) };
}

/**
 * The recipient's directory entry for the service of the parts (`ctx.serviceOf`); a directory that refuses its
 * answer (a forged or untrusted SMP response, an expired endpoint, an unreachable SMP, a participant not registered
 * for the document type) refuses the submission (RA05) with the directory's code and reason, since
 * routing on an answer we cannot trust could hand the content to whoever forged it.
 */
async function route(
  ctx: PipelineContext,
  recipient: ParticipantId,
  parts: readonly PayloadPart[],
): Promise<{ entry?: DirectoryEntry; refusal?: { code: ReasonCode; details: string } }> {
  try {
    return { entry: await recipientEntry(ctx, recipient, parts) };
  } catch (error) {
    if (!isQerdsError(error) || !error.code.startsWith('DIRECTORY_')) throw error;
    ctx.log.warn(
      { recipient: formatParticipantId(recipient), code: error.code, err: error },
      'directory refused the recipient lookup',
    );
    return {
      refusal: {
        code: 'RA05',
        details: `the directory refused the answer for ${formatParticipantId(recipient)}: ${error.code}: ${error.message}`,
      },
    };
  }
}

/** The end-to-end policy's objection to relaying this submission (RA05), if any. */
function endToEndRefusal(
  ctx: PipelineContext,
  input: SubmissionInput,
  certificatePem: string | undefined,
): { code: ReasonCode; details: string } | undefined {
  if (!ctx.endToEnd) return undefined;
  if (certificatePem) {
    const refusal = ctx.endToEnd.certificateRefusal(certificatePem);
    return refusal ? { code: 'RA05', details: refusal } : undefined;
  }
  if (!ctx.endToEnd.required(input.sender, input.recipient)) return undefined;
  // Also when C1 encrypted the parts itself: without the recipient's certificate C2 cannot tell for whom
  // they were encrypted, and the policy holds C2 to what it can vouch for.
  return {
    code: 'RA05',
    details: `end-to-end encryption is required for ${formatParticipantId(input.recipient)}, and no encryption certificate of the recipient is known`,
  };
}
