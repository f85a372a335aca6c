import { formatParticipantId, QerdsError, type Identification, type ParticipantId } from '../core/index.js';
import type { StoredMessage } from '../store/types.js';
import type { IssuedEvidence, PipelineContext } from './ports.js';
import { consignmentPolicyOf } from './recipient-notice.js';
import { recordEvidence } from './stage-support.js';

/**
 * C3 → C4: may the content go to the identified `recipient` now? The message, or NOT_FOUND (a message
 * addressed to anyone else is reported exactly like a missing one, so that ids cannot be probed), or
 * STATE_CONFLICT (nothing is handed over before the recipient's ConsignmentAcceptance when its policy asks for
 * one). Checked before a byte of content goes out; `handOver` records the evidence once it went out.
 */
export async function checkHandover(
  ctx: PipelineContext,
  messageId: string,
  recipient: ParticipantId,
): Promise<StoredMessage> {
  const message = await ctx.store.getMessage(messageId);
  if (
    !message ||
    message.role !== 'recipient-ap' ||
    formatParticipantId(message.recipient) !== formatParticipantId(recipient)
  ) {
    throw new QerdsError('NOT_FOUND', `no message ${messageId}`);
  }
  if (message.state === 'delivered') return message;
  // A recipient whose policy asks for acceptance first gets nothing before its ConsignmentAcceptance.
  const acceptanceFirst = consignmentPolicyOf(ctx, message.recipient).acceptance !== undefined;
  const open =
    message.state === 'consigned' ||
    message.state === 'accepted' ||
    (message.state === 'received' && !acceptanceFirst);
  if (!open) {
    const why =
      message.state === 'awaiting-acceptance' || message.state === 'received'
        ? "awaits the recipient's acceptance"
        : `is ${message.state}`;
    throw new QerdsError('STATE_CONFLICT', `message ${messageId} ${why} and cannot be handed over`);
  }
  return message;
}

/**
 * C3 → C4: the content was handed over to the identified recipient (REQ4). Call it only once the content
 * actually left (the whole body written): ContentHandover is proof that it did. The first handover issues
 * ContentHandover (RE01) with how the recipient was identified and returns it to C2; later downloads hand
 * the same content over without new evidence. Same refusals as `checkHandover`.
 */
export async function handOver(
  ctx: PipelineContext,
  messageId: string,
  recipient: ParticipantId,
  identification: Identification,
): Promise<{ message: StoredMessage; evidence?: IssuedEvidence }> {
  const message = await checkHandover(ctx, messageId, recipient);
  if (message.state === 'delivered') return { message };
  const evidence = await recordEvidence(
    ctx,
    message,
    { event: 'ContentHandover', reason: { code: 'RE01' }, recipientIdentification: identification },
    { from: message.state, to: 'delivered' },
    { returnToSender: true },
  );
  ctx.log.info({ messageId, evidenceId: evidence.id }, 'content handed over to the recipient');
  return { message: { ...message, state: 'delivered' }, evidence };
}
