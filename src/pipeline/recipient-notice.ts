import type { ParticipantId } from '../core/index.js';
import type { OutboxEntry } from '../store/types.js';
import { retryAfter } from './backoff.js';
import type { ConsignmentPolicy, PipelineContext, RecipientNotice } from './ports.js';
import { unlessMovedOn } from './stage-support.js';
import type { JobOutcome } from './types.js';

/** Without configured channels every recipient gets the plain inbox (ContentConsignment, no acceptance). */
const INBOX: ConsignmentPolicy = { mode: 'inbox' };

export function consignmentPolicyOf(ctx: PipelineContext, recipient: ParticipantId): ConsignmentPolicy {
  return ctx.recipients?.policy(recipient) ?? INBOX;
}

/** One try of a job to notify the recipient: sent, to be retried (`retry`), or given up on. */
export type NoticeAttempt =
  | { readonly sent: true; readonly channel: string }
  | { readonly sent: false; readonly retry: JobOutcome; readonly reason: string }
  | { readonly sent: false; readonly retry?: undefined; readonly attempts: number; readonly reason: string };

/**
 * Sends `notice` over the recipient's channels as attempt `job.attempts + 1`. A temporary refusal is retried
 * with the relay back-off until `relayRetry.maxAttempts`; a permanent one (no channel, a 4xx) is final at
 * once. Delivery is at least once: a crash between sending and recording the evidence sends it again.
 */
export async function tryNotice(
  ctx: PipelineContext,
  job: OutboxEntry,
  notice: RecipientNotice,
): Promise<NoticeAttempt> {
  const attempts = job.attempts + 1;
  const latest = await ctx.store.latestEvidence(notice.message.id);
  const evidence = latest && {
    id: latest.id,
    event: latest.event,
    eventTime: latest.eventTime,
    xml: latest.xml,
  };
  const result = ctx.recipients
    ? await ctx.recipients
        .notify(notice.message.recipient, { ...notice, ...(evidence ? { evidence } : {}) })
        .catch((error: unknown) => ({
          status: 'refused' as const,
          permanent: false,
          reason: (error as Error).message,
        }))
    : {
        status: 'refused' as const,
        permanent: true,
        reason: 'no notification channel configured for the recipient',
      };
  if (result.status === 'sent') return { sent: true, channel: result.channel };
  ctx.log.warn(
    {
      notice: notice.kind,
      attempts,
      reason: result.reason,
      permanent: result.permanent,
    },
    'recipient notification refused',
  );
  if (!result.permanent && attempts < ctx.relayRetry.maxAttempts) {
    return {
      sent: false,
      reason: result.reason,
      retry: retryAfter(ctx.relayRetry, attempts, 'NOTIFICATION_REFUSED'),
    };
  }
  return { sent: false, attempts, reason: result.reason };
}

/**
 * The shape of a notice job: send `notice`; when a channel took it, `onSent` records the positive evidence; when the
 * retry budget is spent or the refusal is final, `onGivenUp` records the failure evidence. Either record losing its
 * compare-and-set (the message moved on meanwhile) ends the job quietly.
 */
export async function noticeJob(
  ctx: PipelineContext,
  job: OutboxEntry,
  notice: RecipientNotice,
  record: {
    onSent: (channel: string) => Promise<unknown>;
    onGivenUp: (attempts: number, reason: string) => Promise<unknown>;
  },
): Promise<JobOutcome> {
  const attempt = await tryNotice(ctx, job, notice);
  if (!attempt.sent && attempt.retry) return attempt.retry;
  if (attempt.sent) await record.onSent(attempt.channel).catch(unlessMovedOn);
  else await record.onGivenUp(attempt.attempts, attempt.reason).catch(unlessMovedOn);
  return { status: 'done' };
}
