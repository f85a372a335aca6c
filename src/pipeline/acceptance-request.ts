import type { OutboxEntry, StoredMessage } from '../store/types.js';
import type { PipelineContext } from './ports.js';
import { noticeJob } from './recipient-notice.js';
import { recordEvidence } from './stage-support.js';
import type { JobOutcome } from './types.js';

/**
 * C3, consignment with the recipient's acceptance (EN 319 522-1): tell the recipient that `message` awaits its
 * acceptance, without the content. Sent: NotificationForAcceptance (RC01), the message awaits acceptance and an
 * `acceptance-expiry` entry falls due at the deadline (the outbox dispatcher, the AP's periodic sweep in every
 * process and under either queue, hands it to a worker then). Not sent after the retry budget:
 * NotificationForAcceptanceFailure, RC05 after several attempts or RC03 after one final refusal; the message
 * fails and nothing is handed over. Each evidence goes back to C2.
 */
export async function askForAcceptance(
  ctx: PipelineContext,
  job: OutboxEntry,
  message: StoredMessage,
  windowMs: number,
): Promise<JobOutcome> {
  const deadline = new Date(ctx.clock.now().getTime() + windowMs);
  return noticeJob(
    ctx,
    job,
    { kind: 'NotificationForAcceptance', message, deadline },
    {
      onSent: async (channel) => {
        await recordEvidence(
          ctx,
          message,
          { event: 'NotificationForAcceptance', reason: { code: 'RC01' } },
          { from: 'received', to: 'awaiting-acceptance' },
          {
            returnToSender: true,
            completesJob: true,
            alsoInTransaction: (tx) =>
              tx.enqueue(
                'acceptance-expiry',
                message.id,
                { deadline: deadline.toISOString() },
                { notBefore: deadline },
              ),
          },
        );
        ctx.log.info({ channel, deadline }, 'recipient asked to accept');
      },
      onGivenUp: (attempts, reason) =>
        recordEvidence(
          ctx,
          message,
          {
            event: 'NotificationForAcceptanceFailure',
            reason: {
              code: attempts > 1 ? 'RC05' : 'RC03',
              details: `after ${attempts} attempt(s): ${reason}`,
            },
          },
          { from: 'received', to: 'failed', patch: { lastError: 'NOTIFICATION_FOR_ACCEPTANCE_FAILED' } },
          { returnToSender: true, completesJob: true },
        ),
    },
  );
}
