import { formatParticipantId, QerdsError, type Identification, type ParticipantId } from '../core/index.js';
import type { StoredMessage } from '../store/types.js';
import type { IssuedEvidence, PipelineContext } from './ports.js';
import { recordEvidence } from './stage-support.js';

/**
 * C3 → C4: hand the content over to the identified recipient (REQ4). The caller has authenticated
 * `recipient`; a message addressed to anyone else is reported as not found, so that ids cannot be probed.
 * The first handover issues ContentHandover (RE01) with how the recipient was identified and returns it
 * to C2; later downloads hand the same content over without new evidence.
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
  if (message.state !== 'received' && message.state !== 'consigned') {
    throw new QerdsError('STATE_CONFLICT', `message ${messageId} is ${message.state} and cannot be handed over`);
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
