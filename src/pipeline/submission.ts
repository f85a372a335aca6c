import { formatParticipantId, type Identification, type ParticipantId, type PayloadPart, type ReasonCode } from '../core/index.js';
import type { StoredMessage } from '../store/types.js';
import { encryptPartsForRecipient } from './e2e-encryption.js';
import { enqueueEvidenceMail } from './mail-evidence-stage.js';
import type { IssuedEvidence, PipelineContext } from './ports.js';

export interface SubmissionInput {
  readonly sender: ParticipantId;
  /** How the sender was identified (REQ3): recorded in the SubmissionAcceptance/Rejection. */
  readonly senderIdentification: Identification;
  readonly recipient: ParticipantId;
  readonly subject?: string;
  /** Parts already streamed into the blob store. */
  readonly parts: readonly PayloadPart[];
  /**
   * A refusal decided at intake before any routing (identification below the policy's level, invalid
   * e-seal): the submission is stored as rejected, its SubmissionRejection carrying this reason.
   */
  readonly rejection?: { readonly code: ReasonCode; readonly details: string };
}

export interface SubmissionResult {
  readonly accepted: boolean;
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
  const entry = input.rejection ? undefined : await ctx.directory.lookup(input.recipient);
  const accepted = entry !== undefined;
  // End to end (REQ2): when the directory names the recipient's encryption certificate, the parts are
  // encrypted here, once, so that the SubmissionAcceptance binds plaintext and ciphertext digests and C3
  // only ever sees ciphertext.
  const parts = entry?.encryptionCertificatePem ? await encryptPartsForRecipient(ctx.store.blobs, input.parts, entry.encryptionCertificatePem) : input.parts;
  const draft = { ebmsMessageId, sender: input.sender, recipient: input.recipient, parts, submittedAt };
  const evidence = await ctx.evidence.issue({
    event: accepted ? 'SubmissionAcceptance' : 'SubmissionRejection',
    reason: accepted
      ? { code: 'RA01' }
      : (input.rejection ?? { code: 'RA05', details: `recipient ${formatParticipantId(input.recipient)} is not in the directory` }),
    message: draft,
    senderIdentification: input.senderIdentification,
  });
  const mailed = await ctx.store.transaction(async (tx) => {
    await tx.insertMessage({
      id,
      ebmsMessageId,
      role: 'sender-ap',
      state: accepted ? 'submitted' : 'rejected',
      sender: input.sender,
      recipient: input.recipient,
      subject: input.subject,
      parts,
      submittedAt,
      peer: entry?.endpoint,
    });
    await tx.insertEvidence({ id: evidence.id, messageId: id, event: evidence.event, eventTime: evidence.eventTime, xml: evidence.xml, issuedBy: ctx.self.id });
    if (accepted) await tx.enqueue('relay', id);
    return enqueueEvidenceMail(ctx, tx, input.sender, id, evidence.id);
  });
  if (accepted || mailed) ctx.poke();
  ctx.log.info({ messageId: id, ebmsMessageId, event: evidence.event }, 'submission recorded');
  const message = await ctx.store.getMessage(id);
  if (!message) throw new Error(`message ${id} vanished after commit`);
  return { accepted, message, evidence };
}
