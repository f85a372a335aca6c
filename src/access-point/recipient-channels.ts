import type { Logger } from 'pino';
import type { RecipientLinks } from '../api/index.js';
import type { QerdsConfig } from '../config/index.js';
import { formatParticipantId, type ParticipantId } from '../core/index.js';
import type {
  ConsignmentPolicy,
  IssuedEvidence,
  MailTransport,
  NoticeResult,
  RecipientChannels,
  RecipientNotice,
} from '../pipeline/index.js';
import { postWebhook } from './webhook-post.js';

type RecipientEntry = QerdsConfig['accounts'][number];

/**
 * Binds the pipeline's RecipientChannels port to the config: each local recipient's consignment policy
 * (`acceptance`, `consignment`, `acceptanceWindowSeconds` of its `accounts[]` entry; the first
 * entry of a participant wins) and its channels: the webhook (`notificationUrl`), to which notices are POSTed as
 * JSON (signed with the entry's `webhookSecret` when it has one, see webhook-post.ts), and, with `mail`, a signed REM notification to its registered address (`deliveryEmail`). A notice is sent
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
  for (const entry of config.accounts)
    if (!entries.has(entry.participant)) entries.set(entry.participant, entry);
  const people = new Set(
    config.accounts
      .filter((a) => a.credentials.some((c) => c.kind === 'totp' || c.kind === 'password'))
      .map((a) => a.participant),
  );
  const personal = options.personalPickupLink;
  const mailLinks = (recipient: ParticipantId): RecipientLinks =>
    personal && people.has(formatParticipantId(recipient))
      ? { ...links, pickup: (id) => personal(id, recipient) }
      : links;
  const timeoutMs = options.timeoutMs ?? config.relay.timeoutMs;
  return {
    policy(recipient): ConsignmentPolicy {
      const entry = entries.get(formatParticipantId(recipient));
      const mode = entry?.consignment ?? 'inbox';
      if (entry?.acceptance !== 'required') return { mode };
      return {
        mode,
        acceptance: {
          windowMs: (entry.acceptanceWindowSeconds ?? config.policy.acceptanceWindowSeconds) * 1000,
        },
      };
    },
    async notify(recipient, notice): Promise<NoticeResult> {
      const entry = entries.get(formatParticipantId(recipient));
      const url = entry?.notificationUrl;
      const address = options.mail?.deliveryAddress(recipient);
      const channels: Promise<NoticeResult>[] = [];
      if (url) {
        // The notice's evidence id names the event on every retry (webhook-id); a notice without one is one per message and kind.
        const id = notice.evidence?.id ?? `${notice.kind}-${notice.message.id}`;
        channels.push(
          postWebhook(
            { url, id, body: noticeBody(notice, links), secret: entry?.webhookSecret, timeoutMs },
            log,
          ),
        );
      }
      if (address && notice.evidence)
        channels.push(mailNotice(options.mail!, address, notice, notice.evidence, mailLinks(recipient)));
      if (channels.length === 0)
        return {
          status: 'refused',
          permanent: true,
          reason: 'no notification channel configured for the recipient',
        };
      const results = await Promise.all(channels);
      const sent = results.flatMap((r) => (r.status === 'sent' ? [r.channel] : []));
      if (sent.length > 0) return { status: 'sent', channel: sent.join(', ') };
      const refusals = results.flatMap((r) => (r.status === 'refused' ? [r] : []));
      return {
        status: 'refused',
        permanent: refusals.every((r) => r.permanent),
        reason: refusals.map((r) => r.reason).join('; '),
      };
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
    parts: m.parts.map((p) => ({
      partId: p.partId,
      contentType: p.contentType,
      size: p.size,
      sha256: p.sha256,
    })),
    pickupUrl: links.pickup(m.id),
    ...(notice.kind === 'NotificationForAcceptance'
      ? {
          acceptUrl: links.accept(m.id),
          rejectUrl: links.reject(m.id),
          deadline: notice.deadline?.toISOString(),
        }
      : {}),
  };
}

async function mailNotice(
  mail: MailTransport,
  to: string,
  notice: RecipientNotice,
  evidence: IssuedEvidence,
  links: RecipientLinks,
): Promise<NoticeResult> {
  const id = notice.message.id;
  const acceptance =
    notice.kind === 'NotificationForAcceptance' ? { accept: links.accept(id), reject: links.reject(id) } : {};
  const result = await mail.sendNotification({
    to,
    notice,
    links: { pickup: links.pickup(id), ...acceptance },
    evidence,
  });
  if (result.status === 'accepted') return { status: 'sent', channel: `mail ${to}` };
  return {
    status: 'refused',
    permanent: result.permanent,
    reason: `mail to ${to} refused: ${result.response}`,
  };
}
