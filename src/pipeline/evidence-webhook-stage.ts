import { retryAfter } from './backoff.js';
import type { PipelineContext } from './ports.js';
import type { JobHandler } from './types.js';

/**
 * C2 → C1's ERP: POSTs one evidence about a sender's message to the sender's webhook (signed JSON, see
 * access-point/webhook-post.ts). As with the evidence mail, this is a copy of what the sender's REST record
 * holds, so a refusal is logged, not turned into evidence: 5xx, 408, 429 and connection failures are
 * retried with back-off, and a permanent refusal or a spent budget leaves the job as a dead letter that an
 * operator can replay. A retry repeats the same `webhook-id` (the evidence id), so the ERP can drop it.
 */
export function evidenceWebhookStage(ctx: PipelineContext): JobHandler {
  return async (job) => {
    const evidenceId = String(job.data.evidenceId ?? '');
    const [message, evidence] = await Promise.all([
      ctx.store.getMessage(job.messageId),
      ctx.store.getEvidence(evidenceId),
    ]);
    if (!message || !evidence || !ctx.senderWebhooks?.has(message.sender)) return { status: 'done' };
    const result = await ctx.senderWebhooks.post(message, {
      id: evidence.id,
      event: evidence.event,
      eventTime: evidence.eventTime,
      xml: evidence.xml,
    });
    if (result.status === 'sent') {
      ctx.log.info({ evidenceId, event: evidence.event }, 'evidence posted to the sender webhook');
      return { status: 'done' };
    }
    const attempts = job.attempts + 1;
    const error = result.reason.slice(0, 200);
    const retry = ctx.webhookRetry ?? ctx.relayRetry;
    if (result.permanent || attempts >= retry.maxAttempts) {
      ctx.log.error(
        { evidenceId, reason: result.reason, attempts },
        'evidence could not be posted to the sender webhook',
      );
      return { status: 'dead', error };
    }
    ctx.log.warn({ evidenceId, reason: result.reason, attempts }, 'sender webhook refused; retrying');
    return retryAfter(retry, attempts, error);
  };
}
