import type { StoredMessage } from '../store/types.js';
import { retryAfter } from './backoff.js';
import type { IssuedEvidence, PipelineContext } from './ports.js';
import { readParts, recordEvidence, unlessMovedOn } from './stage-support.js';
import type { JobOutcome } from './types.js';

/**
 * C2 → a recipient outside any ERDS (EN 319 522-1 event group F, non-ERDS): the message leaves the ERDS world as a
 * REM Dispatch mail (the original, the SubmissionAcceptance, signed S/MIME by the AP) sent to the plain
 * address through the outbound SMTP server. What this ERDS can prove ends there:
 * - 250: RelayToNonERDS (RF01, MessageRelayedToNonERDS); the message is settled (`delivered`: nothing
 *   further will come back from outside the ERDS).
 * - 5xx to the mail: RelayToNonERDSFailure (RF03, MessageRejectedByExternalSystem) with the SMTP reply.
 * - 4xx or no reply: retried with the relay back-off; when the budget is spent, RelayToNonERDSFailure
 *   (RF02, ExternalSystemUnreachable) with the last reply.
 * Called by the relay stage with the message in `relaying`; the evidence goes to the sender (REST, mail).
 */
export async function relayToNonErds(
  ctx: PipelineContext,
  message: StoredMessage,
  to: string,
  previousAttempts: number,
): Promise<JobOutcome> {
  const mail = ctx.mail!;
  const acceptance = (await ctx.store.listEvidence(message.id)).find(
    (e) => e.event === 'SubmissionAcceptance',
  );
  if (!acceptance) {
    ctx.log.error('no SubmissionAcceptance to relay to a non-ERDS recipient with');
    return settle(ctx, message, 'failed', {
      code: 'RF02',
      details: 'no SubmissionAcceptance evidence to send',
    });
  }
  const evidence: IssuedEvidence = {
    id: acceptance.id,
    event: acceptance.event,
    eventTime: acceptance.eventTime,
    xml: acceptance.xml,
  };
  const result = await mail.sendDispatch({
    to,
    message,
    parts: await readParts(ctx.store, message.parts),
    evidence,
  });
  if (result.status === 'accepted') {
    ctx.log.info({ to, response: result.response }, 'relayed to a non-ERDS recipient by mail');
    return settle(ctx, message, 'delivered', { code: 'RF01', details: `${to}: SMTP ${result.response}` });
  }
  const attempts = previousAttempts + 1;
  const retry = ctx.mailRetry ?? ctx.relayRetry;
  ctx.log.warn(
    { to, attempts, permanent: result.permanent, response: result.response },
    'relay to a non-ERDS recipient refused',
  );
  if (result.permanent)
    return settle(ctx, message, 'failed', { code: 'RF03', details: `${to}: SMTP ${result.response}` });
  if (attempts < retry.maxAttempts) {
    await ctx.store.transitionMessage(message.id, 'relaying', 'relaying', { attempts, lastError: 'RF02' });
    return retryAfter(retry, attempts, `SMTP ${result.response}`.slice(0, 200));
  }
  return settle(ctx, message, 'failed', {
    code: 'RF02',
    details: `${to}: no delivery after ${attempts} attempts; last: SMTP ${result.response}`,
  });
}

async function settle(
  ctx: PipelineContext,
  message: StoredMessage,
  to: 'delivered' | 'failed',
  reason: { code: 'RF01' | 'RF02' | 'RF03'; details: string },
): Promise<JobOutcome> {
  await recordEvidence(
    ctx,
    message,
    { event: to === 'delivered' ? 'RelayToNonERDS' : 'RelayToNonERDSFailure', reason },
    { from: 'relaying', to, ...(to === 'failed' ? { patch: { lastError: reason.code } } : {}) },
    { completesJob: true },
  ).catch(unlessMovedOn);
  return { status: 'done' };
}
