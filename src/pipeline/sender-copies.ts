import type { ParticipantId } from '../core/index.js';
import type { StoreTransaction } from '../store/types.js';
import type { PipelineContext } from './ports.js';

/**
 * C2 → C1: enqueues, in the transaction that stores an evidence about a message at the sender's AP, the
 * jobs that copy it to the sender by the channels it has: a REM Receipt by mail (`mail-evidence`) and a
 * signed JSON POST to its ERP's webhook (`evidence-webhook`). The evidence is in the sender's REST record
 * either way; these are copies. Returns whether any job was enqueued (the caller pokes the dispatcher
 * after the commit).
 */
export async function enqueueSenderCopies(
  ctx: PipelineContext,
  tx: StoreTransaction,
  sender: ParticipantId,
  messageId: string,
  evidenceId: string,
): Promise<boolean> {
  let enqueued = false;
  if (ctx.mail?.evidenceAddress(sender)) {
    await tx.enqueue('mail-evidence', messageId, { evidenceId });
    enqueued = true;
  }
  if (ctx.senderWebhooks?.has(sender)) {
    await tx.enqueue('evidence-webhook', messageId, { evidenceId });
    enqueued = true;
  }
  return enqueued;
}
