import { QerdsError } from '../core/index.js';
import { enqueueEvidenceMail } from './mail-evidence-stage.js';
import type { PipelineContext } from './ports.js';

/**
 * C2 receives an evidence that C3 issued about one of our messages. It is kept only when its seal
 * verifies against our trust store (threat: a peer or a man in the middle planting forged proof in the
 * sender's record). Duplicates (same evidence id) are ignored. A ContentHandover moves the message to
 * `delivered`.
 */
export async function acceptReturnedEvidence(ctx: PipelineContext, xml: string): Promise<{ duplicate: boolean }> {
  const check = await ctx.evidenceVerifier.check(xml);
  if (!check.valid) {
    throw new QerdsError('PIPELINE_EVIDENCE_INVALID', `returned evidence rejected: ${check.reason ?? 'invalid'}`, {
      details: { ebmsCode: 'EBMS:0004', retryable: false, evidenceId: check.id },
    });
  }
  const message = await ctx.store.findMessageByEbmsId(check.messageId, 'sender-ap');
  if (!message) {
    throw new QerdsError('PIPELINE_UNKNOWN_MESSAGE', `evidence ${check.id} refers to unknown message ${check.messageId}`, {
      details: { ebmsCode: 'EBMS:0004', retryable: false },
    });
  }
  if (await ctx.store.getEvidence(check.id)) return { duplicate: true };
  const mailed = await ctx.store.transaction(async (tx) => {
    await tx.insertEvidence({ id: check.id, messageId: message.id, event: check.event, eventTime: check.eventTime, xml, issuedBy: check.issuerId });
    if (check.event === 'ContentHandover' && (message.state === 'relayed' || message.state === 'relaying')) {
      await tx.transitionMessage(message.id, message.state, 'delivered');
    }
    return enqueueEvidenceMail(ctx, tx, message.sender, message.id, check.id);
  });
  if (mailed) ctx.poke();
  ctx.log.info({ messageId: message.id, evidenceId: check.id, event: check.event }, 'evidence returned by the recipient AP');
  return { duplicate: false };
}
