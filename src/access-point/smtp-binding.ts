import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { QerdsConfig } from '../config/index.js';
import { parseParticipantId, QerdsError, type PayloadPart } from '../core/index.js';
import { submitMessage, type PipelineContext } from '../pipeline/index.js';
import { devPkiLayout } from '../pki/index.js';
import { createAddressMapping, createSmtpIntake, SMTP_AUTH_METHOD, type IntakeMessage, type SmtpIntake } from '../smtp/index.js';

/** SMTP AUTH with a password over TLS: one factor, recorded as eIDAS LoA low (REQ3). */
const LOA_LOW = 'http://eidas.europa.eu/LoA/low';

/**
 * Binds the SMTP intake to the pipeline: an accepted mail is stored as one payload part (the original
 * RFC 5322 bytes, `message/rfc822`, content-addressed so its SHA-256 is what the evidence records) and
 * submitted like a REST submission, once per recipient, with SMTP AUTH as the identification method.
 */
export function createSmtpIntakeBinding(ctx: PipelineContext, config: QerdsConfig, log: Logger): SmtpIntake {
  const smtp = config.smtp;
  const dev = devPkiLayout(config.pki.dir).ap(config.pki.apName);
  const explicit = config.directory.participants.flatMap((p) => (p.email ? [{ email: p.email, participant: parseParticipantId(p.id) }] : []));
  const mapping = createAddressMapping({ domains: [smtp.domain], explicit });

  async function onMessage(message: IntakeMessage): Promise<{ messageIds: string[] }> {
    const { sha256, size } = await ctx.store.blobs.put(message.raw, { maxBytes: smtp.maxMessageBytes });
    const part: PayloadPart = { partId: 'part-1', contentType: 'message/rfc822', filename: 'original.eml', sha256, size };
    const senderIdentification = { method: SMTP_AUTH_METHOD, assuranceLevel: LOA_LOW, authenticatedAt: message.authenticatedAt };
    const messageIds: string[] = [];
    for (const recipient of message.envelope.recipients) {
      const result = await submitMessage(ctx, {
        sender: message.account.participant,
        senderIdentification,
        recipient: recipient.participant,
        subject: message.parsed.subject,
        parts: [part],
      });
      if (result.accepted) messageIds.push(result.message.id);
    }
    // Rejections are stored with their SubmissionRejection evidence; the client learns of them only when
    // no recipient was accepted (RCPT TO already checked the directory, so this is a race, not the rule).
    if (messageIds.length === 0) throw new QerdsError('SUBMISSION_REJECTED', 'no recipient can be reached (SubmissionRejection recorded)');
    return { messageIds };
  }

  return createSmtpIntake({
    host: smtp.host,
    port: smtp.port,
    tlsMode: smtp.tlsMode,
    tls: { key: readFileSync(smtp.tlsKey ?? dev.tlsKey), cert: readFileSync(smtp.tlsCert ?? dev.tlsCert) },
    serverName: smtp.domain,
    domains: [smtp.domain],
    accounts: smtp.accounts.map((a) => ({ ...a, participant: parseParticipantId(a.participant) })),
    maxMessageBytes: smtp.maxMessageBytes,
    resolveRecipient: async (address) => {
      const participant = mapping.toParticipant(address);
      return participant && (await ctx.directory.lookup(participant)) ? participant : undefined;
    },
    onMessage,
    log: log.child({ component: 'smtp' }),
    clock: ctx.clock,
  });
}
