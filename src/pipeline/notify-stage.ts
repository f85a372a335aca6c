import { QerdsError } from '../core/index.js';
import { retryAfter } from './backoff.js';
import { NON_ERDS_PEER } from './non-erds-reception.js';
import type { PipelineContext } from './ports.js';
import type { JobHandler } from './types.js';

/**
 * C3 → C2: carry one evidence back to the sender's AP (found in the directory by the sender's
 * participant id, as in a four-corner network). Concurrent jobs for one AP may share an Evidence message (the
 * transport groups them; notify's concurrency bounds how many). Retried with back-off; C2 drops duplicates by
 * evidence id, so a retry after a lost receipt is harmless. When the budget is spent (or the sender's
 * AP is unknown) the job becomes a dead letter: kept, listed and replayable, never silently dropped.
 */
export function notifyStage(ctx: PipelineContext): JobHandler {
  return async (job) => {
    const evidenceId = String(job.data.evidenceId ?? '');
    const [message, evidence] = await Promise.all([
      ctx.store.getMessage(job.messageId),
      ctx.store.getEvidence(evidenceId),
    ]);
    if (!message || !evidence) return { status: 'done' };
    // Received from outside any ERDS: the sender has no AP; the evidence stays here (and with the recipient).
    if (message.peer === NON_ERDS_PEER) return { status: 'done' };
    const entry = await ctx.directory.lookup(message.sender);
    if (!entry) {
      // A dead letter, not a silent end: once the directory knows the sender's AP, a replay delivers it.
      ctx.log.error({ evidenceId }, 'sender AP not in directory: evidence stays here only');
      return { status: 'dead', error: 'DIRECTORY_NOT_FOUND' };
    }
    try {
      await ctx.transport.sendEvidence({
        endpoint: entry.endpoint,
        ...(entry.transportProfile ? { transportProfile: entry.transportProfile } : {}),
        apCertificatePem: entry.apCertificatePem,
        refToEbmsMessageId: message.ebmsMessageId,
        sender: message.recipient,
        recipient: message.sender,
        evidence: {
          id: evidence.id,
          event: evidence.event,
          eventTime: evidence.eventTime,
          xml: evidence.xml,
        },
      });
      return { status: 'done' };
    } catch (error) {
      const attempts = job.attempts + 1;
      const code = error instanceof QerdsError ? error.code : 'AS4_EBMS_0005';
      if (attempts >= ctx.relayRetry.maxAttempts) {
        ctx.log.error({ evidenceId, code, err: error }, 'evidence could not be returned to the sender AP');
        return { status: 'dead', error: code };
      }
      return retryAfter(ctx.relayRetry, attempts, code);
    }
  };
}
