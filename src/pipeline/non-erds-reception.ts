import type { Identification, ParticipantId, PayloadPart } from '../core/index.js';
import type { PipelineContext } from './ports.js';

/** `peer` of a message that entered from outside any ERDS: there is no sender AP to return evidence to. */
export const NON_ERDS_PEER = 'non-erds:smtp';

export interface NonErdsMessage {
  /** The sender as far as it is known: `email:<SMTP envelope sender>`, unauthenticated. */
  readonly sender: ParticipantId;
  /** A local participant of this AP. */
  readonly recipient: ParticipantId;
  readonly subject?: string;
  /** Parts already in the blob store (the mail as received, `message/rfc822`). */
  readonly parts: readonly PayloadPart[];
  /** How little is known of the sender: recorded in the evidence as the sender's identification. */
  readonly senderIdentification: Identification;
  /** Where it came from (remote address, HELO name, TLS), for the evidence details. */
  readonly origin: string;
}

/**
 * A plain mail from outside any ERDS enters this AP for a local recipient (EN 319 522-1 group F). In one
 * transaction: the message (`received`, recipient side), its ReceivedFromNonERDS evidence (RF04,
 * MessageReceivedFromNonERDS) and the delivery job; from there it is consigned and handed over like a
 * relayed message. No evidence goes back: the sender has no ERDS (the notify stage skips NON_ERDS_PEER).
 */
export async function receiveFromNonErds(
  ctx: PipelineContext,
  input: NonErdsMessage,
): Promise<{ messageId: string }> {
  const id = ctx.ids.next('msg');
  const ebmsMessageId = `${ctx.ids.next('ebms')}@qerds-ap`;
  const submittedAt = ctx.clock.now();
  const draft = {
    ebmsMessageId,
    sender: input.sender,
    recipient: input.recipient,
    parts: input.parts,
    submittedAt,
  };
  const evidence = await ctx.evidence.issue({
    event: 'ReceivedFromNonERDS',
    reason: { code: 'RF04', details: input.origin },
    message: draft,
    senderIdentification: input.senderIdentification,
  });
  await ctx.store.transaction(async (tx) => {
    await tx.insertMessage({
      id,
      ebmsMessageId,
      role: 'recipient-ap',
      state: 'received',
      sender: input.sender,
      recipient: input.recipient,
      subject: input.subject,
      parts: input.parts,
      submittedAt,
      peer: NON_ERDS_PEER,
    });
    await tx.insertEvidence({
      id: evidence.id,
      messageId: id,
      event: evidence.event,
      eventTime: evidence.eventTime,
      xml: evidence.xml,
      issuedBy: ctx.self.id,
    });
    await tx.enqueue('deliver', id);
  });
  ctx.poke();
  ctx.log.info({ messageId: id, event: evidence.event }, 'message from outside any ERDS recorded');
  return { messageId: id };
}
