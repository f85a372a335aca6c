import type { Logger } from 'pino';
import type { QerdsConfig } from '../config/index.js';
import { formatParticipantId } from '../core/index.js';
import type { IssuedEvidence, SenderWebhooks } from '../pipeline/index.js';
import type { StoredMessage } from '../store/index.js';
import { postWebhook } from './webhook-post.js';

/**
 * Binds the pipeline's SenderWebhooks port to the config: a local sender whose `accounts[]`
 * entry has an `evidenceWebhookUrl` gets every evidence about its messages POSTed there, signed with its
 * `webhookSecret` (the first entry of a participant that names a URL wins). Absent when no sender has one.
 */
export function createSenderWebhooks(
  config: QerdsConfig,
  baseUrl: () => string,
  log: Logger,
  timeoutMs = config.relay.timeoutMs,
): SenderWebhooks | undefined {
  const hooks = new Map<string, { url: string; secret?: string }>();
  for (const entry of config.accounts) {
    if (entry.evidenceWebhookUrl && !hooks.has(entry.participant))
      hooks.set(entry.participant, { url: entry.evidenceWebhookUrl, secret: entry.webhookSecret });
  }
  if (hooks.size === 0) return undefined;
  return {
    has: (sender) => hooks.has(formatParticipantId(sender)),
    async post(message, evidence) {
      const hook = hooks.get(formatParticipantId(message.sender));
      if (!hook) return { status: 'refused', permanent: true, reason: 'the sender has no evidence webhook' };
      return postWebhook(
        {
          url: hook.url,
          id: evidence.id,
          body: evidenceWebhookBody(message, evidence, baseUrl()),
          secret: hook.secret,
          timeoutMs,
        },
        log,
      );
    },
  };
}

/**
 * The JSON a sender's webhook receives: which message, which event, and the evidence itself (the sealed XML,
 * a few KiB, verifiable offline with `qerds verify`), so the ERP needs no second request to keep the proof.
 */
export function evidenceWebhookBody(
  message: StoredMessage,
  evidence: IssuedEvidence,
  baseUrl: string,
): Record<string, unknown> {
  const api = `${baseUrl.replace(/\/+$/, '')}/api/v1`;
  return {
    type: 'evidence',
    messageId: message.id,
    ebmsMessageId: message.ebmsMessageId,
    sender: formatParticipantId(message.sender),
    recipient: formatParticipantId(message.recipient),
    subject: message.subject,
    reference: message.reference,
    evidenceId: evidence.id,
    event: evidence.event,
    eventTime: evidence.eventTime.toISOString(),
    messageUrl: `${api}/messages/${encodeURIComponent(message.id)}`,
    evidenceUrl: `${api}/evidence/${encodeURIComponent(evidence.id)}`,
    evidenceXml: evidence.xml,
  };
}
