import { retryAfter } from './backoff.js';
import type { PipelineContext } from './ports.js';
import type { JobHandler } from './types.js';

/**
 * C2 → C1: mails one evidence (SubmissionAcceptance/Rejection, RelayFailure, or one C3 returned) to the
 * sender as a REM Receipt signed by the AP. The evidence is already in the sender's record (REST); the mail
 * is a copy, so a refusal is logged and not turned into evidence; the job is kept as a dead letter. 4xx replies and connection failures are
 * retried with back-off. A retry after a lost reply may send the mail twice; its Message-ID is derived from
 * the evidence id, so the two are recognisably the same.
 */
export function mailEvidenceStage(ctx: PipelineContext): JobHandler {
  return async (job) => {
    const evidenceId = String(job.data.evidenceId ?? '');
    const [message, evidence] = await Promise.all([
      ctx.store.getMessage(job.messageId),
      ctx.store.getEvidence(evidenceId),
    ]);
    const to = message && ctx.mail?.evidenceAddress(message.sender);
    if (!message || !evidence || !to || !ctx.mail) return { status: 'done' };
    const result = await ctx.mail.sendReceipt({
      to,
      message,
      evidence: { id: evidence.id, event: evidence.event, eventTime: evidence.eventTime, xml: evidence.xml },
    });
    if (result.status === 'accepted') {
      ctx.log.info({ evidenceId, event: evidence.event }, 'evidence mailed to the sender');
      return { status: 'done' };
    }
    const retry = ctx.mailRetry ?? ctx.relayRetry;
    const attempts = job.attempts + 1;
    const error = `SMTP ${result.response}`.slice(0, 200);
    if (result.permanent || attempts >= retry.maxAttempts) {
      ctx.log.error(
        { evidenceId, response: result.response, attempts },
        'evidence could not be mailed to the sender',
      );
      // Kept as a dead letter: an operator can replay it once the sender's mailbox takes mail again.
      return { status: 'dead', error };
    }
    return retryAfter(retry, attempts, error);
  };
}
