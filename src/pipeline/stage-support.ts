import type { Readable } from 'node:stream';
import { QerdsError, type MessageState, type PayloadPart } from '../core/index.js';
import type { Store, StoredMessage, StoreTransaction } from '../store/types.js';
import { enqueueEvidenceMail } from './mail-evidence-stage.js';
import type { EvidenceRequest, IssuedEvidence, OutgoingPart, PipelineContext } from './ports.js';

/** Read a message's parts from the blob store (whole parts: the thin AS4 client takes buffers). */
export async function readParts(store: Store, parts: readonly PayloadPart[]): Promise<OutgoingPart[]> {
  return Promise.all(
    parts.map(async (part) => ({
      partId: part.partId,
      contentType: part.contentType,
      filename: part.filename,
      // The plaintext's digest and size stay at C2: they would let C3 confirm a guessed plaintext.
      ...(part.originalContentType === undefined ? {} : { originalContentType: part.originalContentType }),
      body: await streamToBuffer(store.blobs.get(part.sha256)),
    })),
  );
}

export async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The state change an evidence proves, applied compare-and-set in the evidence's transaction. */
export interface StateChange {
  readonly from: MessageState;
  readonly to: MessageState;
  readonly patch?: { lastError?: string; attempts?: number };
}

/**
 * Issue an evidence about a stored message (chained to its latest one) and commit it together with
 * `alsoInTransaction` (a state change) and, when `returnToSender`, a notify job that carries it back
 * to the sender's AP.
 */
export async function recordEvidence(
  ctx: PipelineContext,
  message: StoredMessage,
  request: Omit<EvidenceRequest, 'message' | 'previousEvidenceId'>,
  transition: StateChange,
  options: { returnToSender?: boolean; alsoInTransaction?: (tx: StoreTransaction) => Promise<unknown> } = {},
): Promise<IssuedEvidence> {
  const chain = await ctx.store.listEvidence(message.id);
  const evidence = await ctx.evidence.issue({ ...request, message, previousEvidenceId: chain.at(-1)?.id });
  let mailed = false;
  await ctx.store.transaction(async (tx) => {
    // The evidence stands only with the state change it proves: if another job or request moved the message
    // first, nothing is recorded (no ContentConsignment after a handover, no RelayFailure after a delivery).
    if (!(await tx.transitionMessage(message.id, transition.from, transition.to, transition.patch))) {
      throw new QerdsError('STATE_CONFLICT', `message ${message.id} is no longer ${transition.from}: ${request.event} not recorded`);
    }
    await options.alsoInTransaction?.(tx);
    await tx.insertEvidence({ id: evidence.id, messageId: message.id, event: evidence.event, eventTime: evidence.eventTime, xml: evidence.xml, issuedBy: ctx.self.id });
    if (options.returnToSender) await tx.enqueue('notify', message.id, { evidenceId: evidence.id });
    // At the sender's AP (e.g. RelayFailure) the evidence also goes to a sender who gets evidence by mail.
    if (message.role === 'sender-ap' && (await enqueueEvidenceMail(ctx, tx, message.sender, message.id, evidence.id))) mailed = true;
  });
  if (options.returnToSender || mailed) ctx.poke();
  return evidence;
}

/** For `.catch()` after recordEvidence: a lost state race means the work is already done elsewhere. */
export function unlessMovedOn(error: unknown): undefined {
  if (error instanceof QerdsError && error.code === 'STATE_CONFLICT') return undefined;
  throw error;
}
