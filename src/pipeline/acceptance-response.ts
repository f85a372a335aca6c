import { formatParticipantId, QerdsError, type Identification, type ParticipantId } from '../core/index.js';
import type { StoredMessage } from '../store/types.js';
import type { IssuedEvidence, PipelineContext } from './ports.js';
import { consignmentPolicyOf } from './recipient-notice.js';
import { recordEvidence } from './stage-support.js';

/** The recipient's answer to a NotificationForAcceptance; `reason` is its own words on a rejection. */
export type AcceptanceAnswer =
  { readonly accept: true } | { readonly accept: false; readonly reason?: string };

/**
 * C3: the identified recipient accepts or rejects a message that awaits its acceptance (EN 319 522-1). Accept:
 * ConsignmentAcceptance (RC07) and the normal consignment follows (the deliver stage runs again on the
 * `accepted` message). Reject: ConsignmentRejection (RC08) and the message ends `rejected`: its content is
 * never handed over. Both record how the recipient was identified and go back to C2. A message addressed
 * to someone else is NOT_FOUND (ids cannot be probed); one that no longer awaits acceptance (answered,
 * expired) or whose window is over is STATE_CONFLICT, and the compare-and-set of recordEvidence settles a
 * race with the expiry sweep: only one of ConsignmentAcceptance and AcceptanceRejectionExpiry is recorded.
 */
export async function answerAcceptance(
  ctx: PipelineContext,
  messageId: string,
  recipient: ParticipantId,
  identification: Identification,
  answer: AcceptanceAnswer,
): Promise<{ message: StoredMessage; evidence: IssuedEvidence }> {
  const message = await ctx.store.getMessage(messageId);
  if (
    !message ||
    message.role !== 'recipient-ap' ||
    formatParticipantId(message.recipient) !== formatParticipantId(recipient)
  ) {
    throw new QerdsError('NOT_FOUND', `no message ${messageId} for ${formatParticipantId(recipient)}`);
  }
  if (message.state !== 'awaiting-acceptance') {
    throw new QerdsError(
      'STATE_CONFLICT',
      `message ${messageId} is ${message.state}: it does not await acceptance`,
    );
  }
  const deadline = await acceptanceDeadline(ctx, message);
  if (deadline && ctx.clock.now() > deadline) {
    // The sweep has not run yet, but the window is over: an answer now would contradict the expiry to come.
    throw new QerdsError(
      'STATE_CONFLICT',
      `the acceptance window of message ${messageId} ended at ${deadline.toISOString()}`,
    );
  }
  const evidence = answer.accept
    ? await recordEvidence(
        ctx,
        message,
        { event: 'ConsignmentAcceptance', reason: { code: 'RC07' }, recipientIdentification: identification },
        { from: 'awaiting-acceptance', to: 'accepted' },
        { returnToSender: true, alsoInTransaction: (tx) => tx.enqueue('deliver', message.id) },
      )
    : await recordEvidence(
        ctx,
        message,
        {
          event: 'ConsignmentRejection',
          reason: { code: 'RC08', ...(answer.reason ? { details: answer.reason } : {}) },
          recipientIdentification: identification,
        },
        { from: 'awaiting-acceptance', to: 'rejected', patch: { lastError: 'REJECTED_BY_RECIPIENT' } },
        { returnToSender: true },
      );
  ctx.log.info(
    { messageId, evidenceId: evidence.id, event: evidence.event },
    'recipient answered the acceptance request',
  );
  return { message: { ...message, state: answer.accept ? 'accepted' : 'rejected' }, evidence };
}

/** End of the acceptance window: the NotificationForAcceptance's event time plus the recipient's window. */
async function acceptanceDeadline(ctx: PipelineContext, message: StoredMessage): Promise<Date | undefined> {
  const window = consignmentPolicyOf(ctx, message.recipient).acceptance?.windowMs;
  const notice = (await ctx.store.listEvidence(message.id)).findLast(
    (e) => e.event === 'NotificationForAcceptance',
  );
  return window !== undefined && notice ? new Date(notice.eventTime.getTime() + window) : undefined;
}
