import type { PipelineContext } from './ports.js';
import { recordEvidence, unlessMovedOn } from './stage-support.js';
import type { JobHandler } from './types.js';

/**
 * C3: the recipient did not answer a NotificationForAcceptance in time. The job is an outbox entry due at the
 * deadline (written with the NotificationForAcceptance), so the outbox dispatcher, which polls in every AP
 * process whatever the queue, runs it then, and it survives restarts. A message still awaiting acceptance gets
 * AcceptanceRejectionExpiry (RC09) and ends `failed`, returned to C2; one already answered is left alone (the
 * compare-and-set in recordEvidence: no expiry after an acceptance, no acceptance after an expiry).
 */
export function acceptanceExpiryStage(ctx: PipelineContext): JobHandler {
  return async (job) => {
    const message = await ctx.store.getMessage(job.messageId);
    if (!message || message.state !== 'awaiting-acceptance') return { status: 'done' };
    const deadline = new Date(String(job.data.deadline));
    const early = deadline.getTime() - ctx.clock.now().getTime();
    // A process whose clock runs behind the one that wrote the entry waits for the deadline it promised.
    if (early > 0) return { status: 'retry', delayMs: early, error: 'ACCEPTANCE_WINDOW_OPEN' };
    await recordEvidence(
      ctx,
      message,
      {
        event: 'AcceptanceRejectionExpiry',
        reason: { code: 'RC09', details: `no answer from the recipient by ${deadline.toISOString()}` },
      },
      { from: 'awaiting-acceptance', to: 'failed', patch: { lastError: 'ACCEPTANCE_EXPIRED' } },
      { returnToSender: true, completesJob: true },
    ).catch(unlessMovedOn);
    ctx.log.info({ deadline }, 'acceptance window over without an answer');
    return { status: 'done' };
  };
}
