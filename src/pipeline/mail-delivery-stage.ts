import { isQerdsError } from '../core/index.js';
import type { StoredMessage } from '../store/types.js';
import { retryAfter } from './backoff.js';
import type { IssuedEvidence, PipelineContext } from './ports.js';
import { readParts, recordEvidence } from './stage-support.js';
import type { JobHandler, JobOutcome } from './types.js';

/**
 * C3 → C4 by mail, store-and-forward (EN 319 532-3): the consigned message goes to the recipient's
 * registered address as a REM Dispatch (the original content and the ContentConsignment evidence, signed
 * S/MIME by the AP's e-seal), through the configured outbound SMTP server.
 *
 * Outcome, returned to C2 as evidence:
 * - 250 (the recipient's mail server took responsibility for the message, RFC 5321 §6.1): ContentHandover
 *   (RE01). Our choice: in EN 319 532 terms the content was already consigned (ContentConsignment, issued
 *   when the dispatch was made available to the recipient's mailbox); the SMTP acceptance is the last point
 *   at which this ERDS can observe that the content reached the recipient's own system, so it is recorded
 *   as the handover. What happens inside the recipient's mail system afterwards is not seen by the ERDS.
 * - 5xx: ContentHandoverFailure, reason "Other" (REXX) with the SMTP reply in Details; the message fails.
 * - 4xx, or no reply (connection, TLS, timeout): retried with back-off; when the budget is spent,
 *   ContentHandoverFailure (RE04, MessageHandoverTimeout) with the last reply.
 *
 * Idempotent: only a message still `consigned` is sent. A crash between the 250 and the commit sends it
 * again; the REM Message-ID is derived from the message id so that the duplicate is recognisable.
 */
export function mailDeliveryStage(ctx: PipelineContext): JobHandler {
  return async (job) => {
    const message = await ctx.store.getMessage(job.messageId);
    if (!message || message.state !== 'consigned' || !ctx.mail) return { status: 'done' };
    const to = ctx.mail.deliveryAddress(message.recipient);
    if (!to) return { status: 'done' };
    const consignment = (await ctx.store.listEvidence(message.id)).findLast(
      (e) => e.event === 'ContentConsignment',
    );
    if (!consignment) {
      ctx.log.error('no ContentConsignment to dispatch with: mail delivery skipped');
      return { status: 'done' };
    }
    const evidence: IssuedEvidence = {
      id: consignment.id,
      event: consignment.event,
      eventTime: consignment.eventTime,
      xml: consignment.xml,
    };
    const parts = await readParts(ctx.store, message.parts);
    const result = await ctx.mail.sendDispatch({ to, message, parts, evidence });
    if (result.status === 'accepted') {
      await settle(ctx, message, 'delivered');
      ctx.log.info({ response: result.response }, 'REM dispatch accepted by the recipient mail server');
      return { status: 'done' };
    }
    const attempts = job.attempts + 1;
    const retry = ctx.mailRetry ?? ctx.relayRetry;
    ctx.log.warn(
      { attempts, permanent: result.permanent, response: result.response },
      'REM dispatch refused',
    );
    if (result.permanent)
      return settle(ctx, message, 'failed', { code: 'REXX', details: `SMTP ${result.response}` });
    if (attempts < retry.maxAttempts) {
      return retryAfter(retry, attempts, `SMTP ${result.response}`.slice(0, 200));
    }
    return settle(ctx, message, 'failed', {
      code: 'RE04',
      details: `no delivery after ${attempts} attempts; last: SMTP ${result.response}`,
    });
  };
}

async function settle(
  ctx: PipelineContext,
  message: StoredMessage,
  to: 'delivered' | 'failed',
  reason?: { code: 'REXX' | 'RE04'; details: string },
): Promise<JobOutcome> {
  try {
    await recordEvidence(
      ctx,
      message,
      to === 'delivered'
        ? { event: 'ContentHandover', reason: { code: 'RE01' } }
        : { event: 'ContentHandoverFailure', reason },
      { from: 'consigned', to, patch: to === 'failed' ? { lastError: reason?.code } : undefined },
      { returnToSender: true, completesJob: true },
    );
  } catch (error) {
    // The recipient downloaded it through the API meanwhile: that handover and its evidence stand.
    if (!isQerdsError(error) || error.code !== 'STATE_CONFLICT') throw error;
    ctx.log.info('handed over through the API during mail delivery: no second evidence');
  }
  return { status: 'done' };
}
