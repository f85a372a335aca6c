import type { OutboxEntry, StoredMessage } from '../store/types.js';
import type { PipelineContext } from './ports.js';
import { noticeJob } from './recipient-notice.js';
import { recordEvidence } from './stage-support.js';
import type { JobOutcome } from './types.js';

/**
 * C3, store-and-notify (EN 319 522-1 ConsignmentNotification): C3 keeps the content and tells the recipient
 * where to pick it up (the pickup URL of the message on C3's API, no content). Sent: ConsignmentNotification
 * (RD01), the message is consigned and ContentHandover follows when the recipient picks it up. Not sent after
 * the retry budget: ConsignmentNotificationFailure (RD05, the details say why) and the message fails.
 */
export async function consignByNotice(
  ctx: PipelineContext,
  job: OutboxEntry,
  message: StoredMessage,
): Promise<JobOutcome> {
  const from = message.state;
  return noticeJob(
    ctx,
    job,
    { kind: 'ConsignmentNotification', message },
    {
      onSent: async (channel) => {
        await recordEvidence(
          ctx,
          message,
          { event: 'ConsignmentNotification', reason: { code: 'RD01' } },
          { from, to: 'consigned' },
          { returnToSender: true, completesJob: true },
        );
        ctx.log.info({ channel }, 'recipient notified of the consigned message');
      },
      onGivenUp: (attempts, reason) =>
        recordEvidence(
          ctx,
          message,
          {
            event: 'ConsignmentNotificationFailure',
            reason: {
              code: 'RD05',
              details: `recipient not notified after ${attempts} attempt(s): ${reason}`,
            },
          },
          { from, to: 'failed', patch: { lastError: 'CONSIGNMENT_NOTIFICATION_FAILED' } },
          { returnToSender: true, completesJob: true },
        ),
    },
  );
}
