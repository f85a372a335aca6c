import { createHash } from 'node:crypto';
import { isQerdsError, type QerdsErrorCode } from '../core/index.js';
import { directoryErrors } from '../directory/index.js';
import type { StoredMessage } from '../store/types.js';
import { retryAfter } from './backoff.js';
import { relayToNonErds } from './non-erds-relay.js';
import type { PipelineContext, RelayAnswer, RelayPart } from './ports.js';
import {
  readRelayParts,
  recipientEntry,
  recordEvidence,
  stepTransaction,
  unlessMovedOn,
} from './stage-support.js';
import type { JobHandler } from './types.js';

/**
 * C2 → C3. Pushes the message to the recipient's AP and waits for its signed receipt (AS4), or for the 250
 * that the peer gives once it committed the message (SMTP relay binding: the message stays `relaying` until
 * C3's RelayAcceptance comes back, or a check due `relay.evidenceTimeoutMs` later fails it with RB09).
 * A failure is retried with back-off; when the budget is spent, or the
 * peer refuses for good, RelayFailure is issued (with the transport's reason code when it names one, e.g.
 * RB04 for a dispatch whose seal C3 refused) and the message fails. Idempotent: a message past `relaying`
 * is left alone, and C3 drops a re-sent duplicate by its ebMS MessageId.
 */
export function relayStage(ctx: PipelineContext): JobHandler {
  return async (job) => {
    let message = await ctx.store.getMessage(job.messageId);
    if (!message || !['submitted', 'relaying'].includes(message.state)) return { status: 'done' };
    // The deadline check that an SMTP relay left behind: C3 took the message (250) but its RelayAcceptance
    // has not come back. Still `relaying` now means it never did: reception awareness ends in RelayFailure.
    if (typeof job.data.awaitingRelayEvidenceSince === 'string') {
      if (message.state !== 'relaying') return { status: 'done' };
      return fail(
        ctx,
        message,
        'RB09',
        `the recipient AP took the message by SMTP at ${job.data.awaitingRelayEvidenceSince} but returned no relay evidence in time`,
      );
    }
    if (message.state === 'submitted') {
      await ctx.store.transitionMessage(message.id, 'submitted', 'relaying');
      message = { ...message, state: 'relaying' };
    }
    // The recipient's entry for this message's service (an SMP answer, verified again unless still cached).
    let entry;
    try {
      entry = await recipientEntry(ctx, message.recipient, message.parts);
    } catch (error) {
      if (!isQerdsError(error) || !error.code.startsWith('DIRECTORY_')) throw error;
      // A refused answer (forged, untrusted, not registered for the document type) is final: nothing is sent
      // on it. An unreachable SMP or SML is retried like an unreachable peer.
      const attempts = job.attempts + 1;
      ctx.log.warn(
        { messageId: message.id, attempts, code: error.code, err: error },
        'directory refused the relay lookup',
      );
      if (error.details?.retryable !== false && directoryRetryable(error.code)) {
        await ctx.store.transitionMessage(message.id, 'relaying', 'relaying', {
          attempts,
          lastError: error.code,
        });
        if (attempts < ctx.relayRetry.maxAttempts) return retryAfter(ctx.relayRetry, attempts, error.code);
        return fail(ctx, message, 'RB09', `${error.code}: ${error.message}`);
      }
      return fail(
        ctx,
        message,
        'RB10',
        `the directory refused the answer for the recipient: ${error.code}: ${error.message}`,
      );
    }
    if (!entry) {
      const nonErds = ctx.mail?.nonErdsAddress(message.recipient);
      if (nonErds) return relayToNonErds(ctx, message, nonErds, job.attempts);
      return fail(ctx, message, 'RB10', 'recipient is no longer in the directory');
    }

    const parts: RelayPart[] = await readRelayParts(ctx.store, message.parts);
    const acceptance = (await ctx.store.listEvidence(message.id)).find(
      (e) => e.event === 'SubmissionAcceptance',
    );
    let answer: RelayAnswer;
    try {
      answer = await ctx.transport.sendMessage({
        endpoint: entry.endpoint,
        ...(entry.transportProfile ? { transportProfile: entry.transportProfile } : {}),
        apCertificatePem: entry.apCertificatePem,
        ebmsMessageId: message.ebmsMessageId,
        sender: message.sender,
        recipient: message.recipient,
        subject: message.subject,
        submittedAt: message.submittedAt,
        parts,
        peer: entry,
        ...(acceptance
          ? {
              submissionEvidence: {
                id: acceptance.id,
                event: acceptance.event,
                eventTime: acceptance.eventTime,
                xml: acceptance.xml,
              },
            }
          : {}),
      });
    } catch (error) {
      const attempts = job.attempts + 1;
      const code = isQerdsError(error) ? error.code : 'AS4_EBMS_0005';
      const retryable = !isQerdsError(error) || error.details?.retryable !== false;
      ctx.log.warn({ attempts, code, err: error }, 'relay attempt failed');
      await ctx.store.transitionMessage(message.id, 'relaying', 'relaying', { attempts, lastError: code });
      if (retryable && attempts < ctx.relayRetry.maxAttempts) {
        return retryAfter(ctx.relayRetry, attempts, code);
      }
      const named = isQerdsError(error) ? relayFailureReason(error.details?.reasonCode) : undefined;
      return fail(
        ctx,
        message,
        retryable ? 'RB09' : (named ?? 'RB02'),
        `${code}: ${(error as Error).message}`,
      );
    }
    if ('smtpResponse' in answer) {
      // Taken over by C3 (its 250 comes after its commit); the RelayAcceptance it returns moves the message on.
      // A check due at the deadline ends it in RelayFailure if that evidence never comes (committed with the state).
      const since = ctx.clock.now();
      const deadline = new Date(since.getTime() + (ctx.relayEvidenceTimeoutMs ?? 3_600_000));
      await stepTransaction(ctx, async (tx) => {
        // False when C3's RelayAcceptance came back first and moved the message on: then there is nothing to await.
        if (await tx.transitionMessage(message!.id, 'relaying', 'relaying', { attempts: job.attempts + 1 })) {
          await tx.enqueue(
            'relay',
            message!.id,
            { awaitingRelayEvidenceSince: since.toISOString() },
            { notBefore: deadline },
          );
        }
      });
      ctx.log.info(
        { endpoint: entry.endpoint, response: answer.smtpResponse },
        'relayed by SMTP, awaiting the RelayAcceptance of the recipient AP',
      );
      return { status: 'done' };
    }
    if (answer.recordRelayAcceptance) {
      await recordReceiptBoundAcceptance(ctx, message, answer.receiptXml, job.attempts + 1);
      ctx.log.info({ endpoint: entry.endpoint }, 'relayed, receipt verified and bound in RelayAcceptance');
      return { status: 'done' };
    }
    // The receipt may arrive after C3's handover evidence moved the message on: that is not an error (the job is
    // completed all the same, in the same commit).
    await stepTransaction(ctx, (tx) =>
      tx.transitionMessage(message!.id, 'relaying', 'relayed', { attempts: job.attempts + 1 }),
    );
    ctx.log.info({ endpoint: entry.endpoint }, 'relayed, receipt verified');
    return { status: 'done' };
  };
}

/**
 * C2's own RelayAcceptance for a peer that may return no ERDS evidence (a Peppol AP): it names the SHA-256 of the
 * peer's signed receipt, which the transport verified (signature, our MessageId, NRR digests), so that the sealed
 * evidence binds that receipt; the receipt is kept in the store (peer receipts). When the peer's own evidence moved the message on meanwhile, it is recorded on the
 * state the message is in.
 */
async function recordReceiptBoundAcceptance(
  ctx: PipelineContext,
  message: StoredMessage,
  receiptXml: string,
  attempts: number,
): Promise<void> {
  const digest = createHash('sha256').update(receiptXml, 'utf8').digest('hex');
  // The receipt itself is kept before the evidence that names its digest: whoever checks the RelayAcceptance later
  // (export, `qerds verify`, GET /messages/{id}/receipts) finds the very bytes it binds. Idempotent on a retry.
  await ctx.store.insertPeerReceipt({
    messageId: message.id,
    sha256: digest,
    xml: receiptXml,
    receivedAt: ctx.clock.now(),
  });
  const request = {
    event: 'RelayAcceptance' as const,
    reason: {
      code: 'RB01' as const,
      details: `the recipient's access point acknowledged ebMS message ${message.ebmsMessageId} with a signed non-repudiation receipt (SHA-256 ${digest}); a Peppol access point that is not an ERDS returns no evidence of its own`,
    },
  };
  try {
    await recordEvidence(
      ctx,
      message,
      request,
      { from: 'relaying', to: 'relayed', patch: { attempts } },
      { completesJob: true },
    );
  } catch (error) {
    if (!isQerdsError(error, 'STATE_CONFLICT')) throw error;
    const now = await ctx.store.getMessage(message.id);
    if (now)
      await recordEvidence(ctx, now, request, { from: now.state, to: now.state }, { completesJob: true });
  }
}

/** Directory refusals that a later attempt may not meet (the catalogue's `retryable`: an unreachable SMP, DNS). */
function directoryRetryable(code: QerdsErrorCode): boolean {
  return (directoryErrors as Record<string, { retryable: boolean } | undefined>)[code]?.retryable === true;
}

type RelayFailureReason = 'RB02' | 'RB03' | 'RB04' | 'RB05' | 'RB06' | 'RB09' | 'RB10';

/** The reason code a transport named for a final refusal (`details.reasonCode`), when it is one RelayFailure may carry. */
function relayFailureReason(code: unknown): RelayFailureReason | undefined {
  return typeof code === 'string' && ['RB02', 'RB03', 'RB04', 'RB05', 'RB06', 'RB10'].includes(code)
    ? (code as RelayFailureReason)
    : undefined;
}

async function fail(ctx: PipelineContext, message: StoredMessage, code: RelayFailureReason, details: string) {
  const recordFrom = (from: 'relaying' | 'failed') =>
    recordEvidence(
      ctx,
      message,
      { event: 'RelayFailure', reason: { code, details } },
      { from, to: 'failed', patch: { lastError: code } },
      { completesJob: true },
    ).catch(unlessMovedOn);
  let recorded = await recordFrom('relaying');
  // C3 records its RelayRejection, queues it back to us and then answers with the error: on a busy machine that
  // evidence can come back (and fail the message) before our relay job has read the answer. The relay failed all the
  // same, and the sender gets the same pair of evidence whichever came first.
  if (!recorded && (await refusedByPeerFirst(ctx, message.id))) recorded = await recordFrom('failed');
  // C3's evidence may have settled the message otherwise meanwhile (e.g. handed over): then there is no failure to
  // prove.
  if (!recorded) return { status: 'done' } as const;
  ctx.log.error({ reason: code, details }, 'relay failed for good');
  return { status: 'done' } as const;
}

/** The message failed by C3's RelayRejection, and holds no RelayFailure yet. */
async function refusedByPeerFirst(ctx: PipelineContext, messageId: string): Promise<boolean> {
  const now = await ctx.store.getMessage(messageId);
  if (now?.state !== 'failed') return false;
  const events = (await ctx.store.listEvidence(messageId)).map((e) => e.event);
  return events.includes('RelayRejection') && !events.includes('RelayFailure');
}
