import { formatParticipantId, QerdsError, type Identification, type ParticipantId } from '../core/index.js';
import type { StoredMessage } from '../store/types.js';
import type { IssuedEvidence, PipelineContext } from './ports.js';
import { consignmentPolicyOf } from './recipient-notice.js';
import { recordEvidence } from './stage-support.js';

/**
 * C3 → C4: hand the content over to the identified recipient (REQ4). The caller has authenticated
 * `recipient`; a message addressed to anyone else is reported as not found, so that ids cannot be probed.
 * The first handover issues ContentHandover (RE01) with how the recipient was identified and returns it
 * to C2; later downloads hand the same content over without new evidence. Nothing is handed over before
 * the recipient's ConsignmentAcceptance when its policy asks for one.
 */
export async function handOver(
  ctx: PipelineContext,
  messageId: string,
  recipient: ParticipantId,
  identification: Identification,
): Promise<{ message: StoredMessage; evidence?: IssuedEvidence }> {
  const message = await ctx.store.getMessage(messageId);
  if (!message || message.role !== 'recipient-ap' || formatParticipantId(message.recipient) !== formatParticipantId(recipient)) {
    throw new QerdsError('NOT_FOUND', `no message ${messageId} for ${formatParticipantId(recipient)}`);
  }
  if (message.state === 'delivered') return { message };
  // A recipient whose policy asks for acceptance first gets nothing before its ConsignmentAcceptance.
  const acceptanceFirst = consignmentPolicyOf(ctx, message.recipient).acceptance !== undefined;
  const open = message.state === 'consigned' || message.state === 'accepted' || (message.state === 'received' && !acceptanceFirst);
  if (!open) {
    const why = message.state === 'awaiting-acceptance' || message.state === 'received' ? 'awaits the recipient\'s acceptance' : `is ${message.state}`;
    throw new QerdsError('STATE_CONFLICT', `message ${messageId} ${why} and cannot be handed over`);
  }
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
