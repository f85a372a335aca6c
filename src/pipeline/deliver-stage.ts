import type { StoredMessage } from '../store/types.js';
import { askForAcceptance } from './acceptance-request.js';
import { consignByNotice } from './consignment-notice.js';
import type { PipelineContext } from './ports.js';
import { consignmentPolicyOf } from './recipient-notice.js';
import { recordEvidence, unlessMovedOn } from './stage-support.js';
import type { JobHandler } from './types.js';

/**
 * C3: consign the message to its recipient, as the recipient's policy says (ConsignmentPolicy):
 * - acceptance required and the message just `received`: ask for acceptance first (acceptance-request.ts);
 *   the recipient's ConsignmentAcceptance moves it to `accepted` and runs this stage again;
 * - `notify` (store-and-notify): ConsignmentNotification with the pickup URL (consignment-notice.ts);
 * - else the inbox: ContentConsignment (RD01), made available for pickup through the API once the recipient
 *   identifies itself. A recipient with a registered delivery address also gets it by mail (store-and-forward:
 *   the mail-delivery stage); the API pickup stays open to every recipient.
 * Each evidence returns to C2. Idempotent: only a message still `received` or `accepted` is consigned.
 */
export function deliverStage(ctx: PipelineContext): JobHandler {
  return async (job) => {
    const message = await ctx.store.getMessage(job.messageId);
    if (!message || (message.state !== 'received' && message.state !== 'accepted')) return { status: 'done' };
    const policy = consignmentPolicyOf(ctx, message.recipient);
    if (message.state === 'received' && policy.acceptance)
      return askForAcceptance(ctx, job, message, policy.acceptance.windowMs);
    if (policy.mode === 'notify') return consignByNotice(ctx, job, message);
    await consignToInbox(ctx, message);
    return { status: 'done' };
  };
}

async function consignToInbox(ctx: PipelineContext, message: StoredMessage): Promise<void> {
  const recorded = await recordEvidence(
    ctx,
    message,
    { event: 'ContentConsignment', reason: { code: 'RD01' } },
    { from: message.state, to: 'consigned' },
    {
      returnToSender: true,
      completesJob: true,
      // Store-and-forward by mail when the recipient has a registered delivery address (mail-delivery-stage.ts).
      alsoInTransaction: async (tx) => {
        if (ctx.mail?.deliveryAddress(message.recipient)) await tx.enqueue('mail-delivery', message.id);
      },
    },
  ).catch(unlessMovedOn);
  if (recorded) ctx.log.info('consigned to recipient inbox');
}
