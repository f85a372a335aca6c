import {
  formatParticipantId,
  isQerdsError,
  QerdsError,
  type ParticipantId,
  type ReasonCode,
} from '../core/index.js';
import type { StoredMessage } from '../store/types.js';
import type { PipelineContext, RelayPart } from './ports.js';

export interface ReceivedMessage {
  readonly ebmsMessageId: string;
  readonly sender: ParticipantId;
  readonly recipient: ParticipantId;
  readonly subject?: string;
  /** Submission time at C2, when the relay carries it; else the time of reception. */
  readonly submittedAt?: Date;
  readonly parts: readonly RelayPart[];
  /** The relaying ERDS (C2), as identified by its verified signature. */
  readonly fromErds: { readonly id: string; readonly name: string };
  /**
   * A refusal the binding decided from the content before reception (a Peppol SBDH that contradicts its AS4
   * header): the message is recorded as rejected with RelayRejection for `reason`, returned to C2 like any
   * evidence, and `error` is thrown (also for a re-sent copy).
   */
  readonly refusal?: {
    readonly reason: { readonly code: ReasonCode; readonly details: string };
    readonly error: QerdsError;
  };
  /**
   * A second identity of the message beside its ebMS MessageId (Peppol: the SBDH sender and InstanceIdentifier).
   * A message under a new MessageId whose key an accepted message holds already is refused with `duplicate(first)`,
   * nothing recorded. Held only by an accepted message: one refused may come again, corrected, under the same key.
   */
  readonly receptionKey?: {
    readonly key: string;
    readonly duplicate: (first: StoredMessage) => QerdsError;
  };
}

/**
 * C3 receives a relayed message (its AS4 signature already verified). Duplicates (same ebMS MessageId)
 * are acknowledged again and change nothing. Otherwise, in one transaction: the message, its
 * RelayAcceptance, the delivery job and the job that returns the evidence to C2. A recipient that is
 * not a participant of this AP gets RelayRejection (RB10) and the relay is refused.
 */
export async function receiveMessage(
  ctx: PipelineContext,
  input: ReceivedMessage,
): Promise<{ duplicate: boolean }> {
  // A cheap early answer for a plain re-send; the unique (ebMS MessageId, role) constraint is what decides
  // when two copies arrive at once (below): both pass this read, one insert wins.
  const already = await ctx.store.findMessageByEbmsId(input.ebmsMessageId, 'recipient-ap');
  if (already) return duplicateOf(ctx, already, input);
  // The same business document again under a new MessageId (a sender's resubmission, not a transport retry): refused
  // before anything is stored. The unique key decides when two such copies arrive at once (below).
  const keyHolder =
    input.receptionKey && !input.refusal
      ? await ctx.store.findMessageByReceptionKey(input.receptionKey.key)
      : undefined;
  if (keyHolder) throw sameKey(ctx, keyHolder, input);
  const parts = await Promise.all(
    input.parts.map(async (part) => {
      const { sha256, size } = await ctx.store.blobs.put(
        Buffer.isBuffer(part.body) ? part.body : part.body.open(),
      );
      const original =
        part.originalContentType === undefined ? {} : { originalContentType: part.originalContentType };
      return {
        partId: part.partId,
        contentType: part.contentType,
        filename: part.filename,
        sha256,
        size,
        ...original,
      };
    }),
  );
  const known = !input.refusal && (await ctx.participants.isLocal(input.recipient));
  const id = ctx.ids.next('msg');
  const submittedAt = input.submittedAt ?? ctx.clock.now();
  const draft = {
    ebmsMessageId: input.ebmsMessageId,
    sender: input.sender,
    recipient: input.recipient,
    parts,
    submittedAt,
  };
  const evidence = await ctx.evidence.issue({
    event: known ? 'RelayAcceptance' : 'RelayRejection',
    reason: known
      ? { code: 'RB01' }
      : (input.refusal?.reason ?? {
          code: 'RB10',
          details: `${formatParticipantId(input.recipient)} is not a participant of this ERDS`,
        }),
    message: draft,
    externalErds: input.fromErds,
  });
  try {
    await ctx.store.transaction(async (tx) => {
      await tx.insertMessage({
        id,
        ebmsMessageId: input.ebmsMessageId,
        role: 'recipient-ap',
        state: known ? 'received' : 'rejected',
        sender: input.sender,
        recipient: input.recipient,
        subject: input.subject,
        parts,
        submittedAt,
        peer: input.fromErds.id,
      });
      await tx.insertEvidence({
        id: evidence.id,
        messageId: id,
        event: evidence.event,
        eventTime: evidence.eventTime,
        xml: evidence.xml,
        issuedBy: ctx.self.id,
      });
      if (known && input.receptionKey) await tx.insertReceptionKey(input.receptionKey.key, id);
      await tx.enqueue('notify', id, { evidenceId: evidence.id });
      if (known) await tx.enqueue('deliver', id);
    });
  } catch (error) {
    // Lost the race to a concurrent copy: its transaction recorded the message and its one evidence; ours
    // rolled back whole (the sealed evidence above is dropped unrecorded, the blobs are shared by content).
    const winner = isQerdsError(error, 'STORE_DUPLICATE')
      ? await ctx.store.findMessageByEbmsId(input.ebmsMessageId, 'recipient-ap')
      : undefined;
    if (winner) return duplicateOf(ctx, winner, input);
    const holder =
      isQerdsError(error, 'STORE_DUPLICATE') && input.receptionKey
        ? await ctx.store.findMessageByReceptionKey(input.receptionKey.key)
        : undefined;
    if (holder) throw sameKey(ctx, holder, input);
    throw error;
  }
  ctx.poke();
  ctx.log.info(
    { messageId: id, ebmsMessageId: input.ebmsMessageId, event: evidence.event },
    'relayed message recorded',
  );
  if (!known) throw input.refusal?.error ?? unknownRecipient(input.recipient);
  return { duplicate: false };
}

/** A re-sent message gets the answer the first one got: a refusal must not turn into a receipt on retry. */
function duplicateOf(
  ctx: PipelineContext,
  first: StoredMessage,
  input: ReceivedMessage,
): { duplicate: true } {
  ctx.log.info({ messageId: first.id, ebmsMessageId: input.ebmsMessageId }, 'duplicate relay dropped');
  if (first.state === 'rejected') throw input.refusal?.error ?? unknownRecipient(input.recipient);
  return { duplicate: true };
}

/** A message under a new MessageId whose reception key `first` holds: refused, nothing recorded. */
function sameKey(ctx: PipelineContext, first: StoredMessage, input: ReceivedMessage): QerdsError {
  ctx.log.warn(
    { messageId: first.id, ebmsMessageId: input.ebmsMessageId, firstEbmsMessageId: first.ebmsMessageId },
    'duplicate business document refused (reception key held by an earlier message)',
  );
  return input.receptionKey!.duplicate(first);
}

/** The finalRecipient value is not one this AP serves: EBMS:0001 ValueNotRecognized, final (not retried). */
function unknownRecipient(recipient: ParticipantId): QerdsError {
  return new QerdsError(
    'PIPELINE_UNKNOWN_RECIPIENT',
    `recipient ${formatParticipantId(recipient)} unknown at this AP`,
    {
      details: { ebmsCode: 'EBMS:0001', retryable: false },
    },
  );
}
