import type { Logger } from 'pino';
import type { RecipientLinks } from '../api/index.js';
import type { QerdsConfig } from '../config/index.js';
import { formatParticipantId, type ParticipantId } from '../core/index.js';
import type { ConsignmentPolicy, IssuedEvidence, MailTransport, NoticeResult, RecipientChannels, RecipientNotice } from '../pipeline/index.js';

type RecipientEntry = QerdsConfig['apiKeys'][number] | QerdsConfig['accounts'][number];

/**
 * Binds the pipeline's RecipientChannels port to the config: each local recipient's consignment policy
 * (`acceptance`, `consignment`, `acceptanceWindowSeconds` of its `apiKeys[]` / `accounts[]` entry; the first
 * entry of a participant wins) and its channels: the webhook (`notificationUrl`), to which notices are POSTed as
 * JSON, and, with `mail`, a signed REM notification to its registered address (`deliveryEmail`). A notice is sent
 * when one channel took it; it is refused for good only when every channel refused it for good.
 */
export function createRecipientChannels(
  config: QerdsConfig,
  links: RecipientLinks,
  log: Logger,
  options: {
    timeoutMs?: number;
    mail?: MailTransport;
    /**
     * The signed one-time pickup link (POST /pickup/…, second factor) for a person, i.e. an `accounts[]` entry
     * with a `totp` or `password` credential; the mail notice carries it instead of the API URL, which needs
     * system credentials (REQ4). @defaultValue none: every notice carries the API URL
     */
    personalPickupLink?: (messageId: string, recipient: ParticipantId) => string;
  } = {},
): RecipientChannels {
  const entries = new Map<string, RecipientEntry>();
  for (const entry of [...config.apiKeys, ...config.accounts]) if (!entries.has(entry.participant)) entries.set(entry.participant, entry);
  const people = new Set(config.accounts.filter((a) => a.credentials.some((c) => c.kind === 'totp' || c.kind === 'password')).map((a) => a.participant));
  const personal = options.personalPickupLink;
  const mailLinks = (recipient: ParticipantId): RecipientLinks =>
    personal && people.has(formatParticipantId(recipient)) ? { ...links, pickup: (id) => personal(id, recipient) } : links;
  const timeoutMs = options.timeoutMs ?? config.relay.timeoutMs;
  return {
    policy(recipient): ConsignmentPolicy {
      const entry = entries.get(formatParticipantId(recipient));
      const mode = entry?.consignment ?? 'inbox';
      if (entry?.acceptance !== 'required') return { mode };
      return { mode, acceptance: { windowMs: (entry.acceptanceWindowSeconds ?? config.policy.acceptanceWindowSeconds) * 1000 } };
    },
    async notify(recipient, notice): Promise<NoticeResult> {
      const url = entries.get(formatParticipantId(recipient))?.notificationUrl;
      const address = options.mail?.deliveryAddress(recipient);
      const channels: Promise<NoticeResult>[] = [];
      if (url) channels.push(postWebhook(url, noticeBody(notice, links), timeoutMs, log));
      if (address && notice.evidence) channels.push(mailNotice(options.mail!, address, notice, notice.evidence, mailLinks(recipient)));
      if (channels.length === 0) return { status: 'refused', permanent: true, reason: 'no notification channel configured for the recipient' };
      const results = await Promise.all(channels);
      const sent = results.flatMap((r) => (r.status === 'sent' ? [r.channel] : []));
      if (sent.length > 0) return { status: 'sent', channel: sent.join(', ') };
      const refusals = results.flatMap((r) => (r.status === 'refused' ? [r] : []));
      return { status: 'refused', permanent: refusals.every((r) => r.permanent), reason: refusals.map((r) => r.reason).join('; ') };
    },
  };
}

/** The JSON a recipient's webhook receives: what the message is and where to act on it, never its content. */
export function noticeBody(notice: RecipientNotice, links: RecipientLinks): Record<string, unknown> {
  const m = notice.message;
  return {
    type: notice.kind,
    messageId: m.id,
    ebmsMessageId: m.ebmsMessageId,
    sender: formatParticipantId(m.sender),
    recipient: formatParticipantId(m.recipient),
    subject: m.subject,
    submittedAt: m.submittedAt.toISOString(),
    parts: m.parts.map((p) => ({ partId: p.partId, contentType: p.contentType, size: p.size, sha256: p.sha256 })),
    pickupUrl: links.pickup(m.id),
    ...(notice.kind === 'NotificationForAcceptance'
      ? { acceptUrl: links.accept(m.id), rejectUrl: links.reject(m.id), deadline: notice.deadline?.toISOString() }
      : {}),
  };
}

async function mailNotice(mail: MailTransport, to: string, notice: RecipientNotice, evidence: IssuedEvidence, links: RecipientLinks): Promise<NoticeResult> {
  const id = notice.message.id;
  const acceptance = notice.kind === 'NotificationForAcceptance' ? { accept: links.accept(id), reject: links.reject(id) } : {};
  const result = await mail.sendNotification({ to, notice, links: { pickup: links.pickup(id), ...acceptance }, evidence });
  if (result.status === 'accepted') return { status: 'sent', channel: `mail ${to}` };
  return { status: 'refused', permanent: result.permanent, reason: `mail to ${to} refused: ${result.response}` };
}

async function postWebhook(url: string, body: Record<string, unknown>, timeoutMs: number, log: Logger): Promise<NoticeResult> {
  let response: Response;
  try {
    // No redirects: a notice goes only where the operator configured it (threat: a redirect sending it elsewhere).
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return { status: 'refused', permanent: false, reason: `webhook ${url} unreachable: ${(error as Error).message}` };
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.ok) {
    log.debug({ url, status: response.status, type: body.type }, 'recipient webhook notified');
    return { status: 'sent', channel: `webhook ${url}` };
  }
  // 3xx (not followed) and 4xx: the recipient's end refuses this request as such, and a retry sends the same;
  // 408/429 and 5xx may pass later.
  const permanent = response.status < 500 && response.status !== 408 && response.status !== 429;
  return { status: 'refused', permanent, reason: `webhook ${url} answered HTTP ${response.status}` };
}
