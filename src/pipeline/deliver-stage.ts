import type { PipelineContext } from './ports.js';
import { recordEvidence, unlessMovedOn } from './stage-support.js';
import type { JobHandler } from './types.js';

/**
 * C3: consign the message to the recipient's inbox (made available for pickup through the API once the
 * recipient identifies itself). Issues ContentConsignment (RD01) and returns it to C2. Idempotent: only
 * a message still in `received` is consigned. A recipient with a registered delivery address also gets it
 * by mail (store-and-forward: the mail-delivery stage); the API pickup stays open to every recipient.
 */
export function deliverStage(ctx: PipelineContext): JobHandler {
  return async (job) => {
    const message = await ctx.store.getMessage(job.messageId);
    if (!message || message.state !== 'received') return { status: 'done' };
    const recorded = await recordEvidence(
      ctx,
      message,
      { event: 'ContentConsignment', reason: { code: 'RD01' } },
      { from: 'received', to: 'consigned' },
      {
        returnToSender: true,
        // Store-and-forward by mail when the recipient has a registered delivery address (mail-delivery-stage.ts).
        alsoInTransaction: async (tx) => {
          if (ctx.mail?.deliveryAddress(message.recipient)) await tx.enqueue('mail-delivery', message.id);
        },
      },
    ).catch(unlessMovedOn);
    if (!recorded) return { status: 'done' };
    ctx.log.info({ messageId: message.id }, 'consigned to recipient inbox');
    return { status: 'done' };
  };
}
