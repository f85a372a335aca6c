import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ConfiguredKeyPair, QerdsConfig } from '../config/index.js';
import {
  formatParticipantId,
  lineTextProblem,
  parseParticipantId,
  QerdsError,
  type ParticipantId,
  type PayloadPart,
} from '../core/index.js';
import { receiveFromNonErds, submitMessage, type PipelineContext } from '../pipeline/index.js';
import {
  createAddressMapping,
  createSmtpIntake,
  SMTP_AUTH_METHOD,
  smtpError,
  type AddressMapping,
  type IntakeMessage,
  type SmtpIntake,
} from '../smtp/index.js';

/** SMTP AUTH with a password over TLS: one factor, recorded as eIDAS LoA low (REQ3). */
const LOA_LOW = 'http://eidas.europa.eu/LoA/low';

/** What an SMTP listener takes from the configuration. */
export interface SmtpListenerSettings {
  /** The `smtp` section. */
  readonly smtp: QerdsConfig['smtp'];
  /** The key pair it presents at STARTTLS, after defaults (`config.files.smtpTls`; the relay listener's `smtpRelayTls`). */
  readonly tls: ConfiguredKeyPair;
  /** Mail addresses ↔ participants (smtpAddressMapping), shared by the listeners. */
  readonly mapping: AddressMapping;
}

/** `<scheme>-<value>@<smtp.domain>` names participant `<scheme>:<value>`; a directory entry's `email` names its participant too. */
export function smtpAddressMapping(
  domain: string,
  participants: QerdsConfig['directory']['participants'],
): AddressMapping {
  const explicit = participants.flatMap((p) =>
    p.email ? [{ email: p.email, participant: parseParticipantId(p.id) }] : [],
  );
  return createAddressMapping({ domains: [domain], explicit });
}

/**
 * Binds the SMTP intake to the pipeline: an accepted mail is stored as one payload part (the original
 * RFC 5322 bytes, `message/rfc822`, content-addressed so its SHA-256 is what the evidence records) and
 * submitted like a REST submission, once per recipient, with SMTP AUTH as the identification method.
 */
export function createSmtpIntakeBinding(
  ctx: PipelineContext,
  settings: SmtpListenerSettings,
  log: Logger,
): SmtpIntake {
  const { smtp, mapping } = settings;

  async function onMessage(message: IntakeMessage): Promise<{ messageIds: string[] }> {
    if (!message.account || !message.authenticatedAt) throw smtpError('SMTP_AUTH_REQUIRED');
    refuseUnsealableText(message);
    const part = await storeOriginal(ctx, message.raw, smtp.maxMessageBytes);
    const senderIdentification = {
      method: SMTP_AUTH_METHOD,
      assuranceLevel: LOA_LOW,
      authenticatedAt: message.authenticatedAt,
    };
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
    if (messageIds.length === 0)
      throw new QerdsError(
        'SUBMISSION_REJECTED',
        'no recipient can be reached (SubmissionRejection recorded)',
      );
    return { messageIds };
  }

  return createSmtpIntake({
    host: smtp.host,
    port: smtp.port,
    tlsMode: smtp.tlsMode,
    tls: { key: readFileSync(settings.tls.key.path), cert: readFileSync(settings.tls.cert.path) },
    serverName: smtp.domain,
    domains: [smtp.domain],
    accounts: smtp.accounts.map((a) => ({ ...a, participant: parseParticipantId(a.participant) })),
    maxMessageBytes: smtp.maxMessageBytes,
    limits: {
      maxClients: smtp.limits.maxClients,
      maxClientsPerAddress: smtp.limits.maxClientsPerAddress,
      authFailures: smtp.limits.authFailures,
      windowMs: smtp.limits.windowSeconds * 1000,
    },
    resolveRecipient: async (address) => {
      const participant = mapping.toParticipant(address);
      if (participant && (await ctx.directory.lookup(participant))) return participant;
      // Outside any ERDS: only when the sender policy allows it, and never an address of our own domain
      // (an unknown local recipient stays "unknown"). The intake only asks after AUTH: not an open relay.
      const outside = !participant && !address.toLowerCase().endsWith(`@${smtp.domain.toLowerCase()}`);
      const plain: ParticipantId = { scheme: 'email', value: address };
      return outside && ctx.mail?.nonErdsAddress(plain) ? plain : undefined;
    },
    onMessage,
    log: log.child({ component: 'smtp' }),
    clock: ctx.clock,
  });
}

/**
 * Strings of the mail that enter evidence or headers (envelope addresses, recipients, the decoded subject)
 * must be one-line XML 1.0 text: 550 5.6.0 otherwise, before anything is stored. Threat: an address or an
 * encoded-word subject carrying U+0000 or a lone surrogate makes a sealed evidence that does not parse, and
 * CR/LF in a decoded subject is folded differently further on (C3 would see another subject).
 */
function refuseUnsealableText(message: IntakeMessage): void {
  const values: [string, string | undefined][] = [
    ['MAIL FROM', message.envelope.mailFrom],
    ...message.envelope.recipients.map((r): [string, string] => [
      'RCPT TO',
      formatParticipantId(r.participant),
    ]),
    ['Subject', message.parsed.subject],
  ];
  for (const [what, value] of values) {
    const problem = value === undefined ? undefined : lineTextProblem(value);
    if (problem) throw smtpError('SMTP_MESSAGE_MALFORMED', `${what}: ${problem}`);
  }
}

/** The original mail as one stored part (`message/rfc822`, content-addressed: its SHA-256 is what evidence records). */
async function storeOriginal(ctx: PipelineContext, raw: Buffer, maxBytes: number): Promise<PayloadPart> {
  const { sha256, size } = await ctx.store.blobs.put(raw, { maxBytes });
  return { partId: 'part-1', contentType: 'message/rfc822', filename: 'original.eml', sha256, size };
}

/**
 * What is known of a sender outside any ERDS: the SMTP envelope sender, claimed and not checked. Recorded with
 * this method URI and the lowest level there is (eIDAS "low"); the method says that nothing was authenticated.
 */
export const UNAUTHENTICATED_SMTP_METHOD = 'urn:qerds-ap:authentication:unauthenticated-smtp-envelope';

/**
 * The inbound listener (`smtp.inbound`): plain mail from outside any ERDS for local participants enters the
 * pipeline with ReceivedFromNonERDS evidence, once per recipient. RCPT TO takes only addresses that name a
 * participant of this AP (derived `<scheme>-<value>@<smtp.domain>` or an explicit directory e-mail): never a relay.
 */
export function createSmtpInboundBinding(
  ctx: PipelineContext,
  settings: SmtpListenerSettings,
  log: Logger,
): SmtpIntake | undefined {
  const { smtp, mapping } = settings;
  if (!smtp.inbound) return undefined;
  return createSmtpIntake({
    mode: 'inbound',
    host: smtp.inbound.host,
    port: smtp.inbound.port,
    tlsMode: 'starttls',
    tls: { key: readFileSync(settings.tls.key.path), cert: readFileSync(settings.tls.cert.path) },
    serverName: smtp.domain,
    domains: [smtp.domain],
    accounts: [],
    maxMessageBytes: smtp.maxMessageBytes,
    limits: {
      maxClients: smtp.limits.maxClients,
      maxClientsPerAddress: smtp.limits.maxClientsPerAddress,
      messagesPerAddress: smtp.limits.inboundMessagesPerAddress,
      windowMs: smtp.limits.windowSeconds * 1000,
    },
    resolveRecipient: async (address) => {
      const participant = mapping.toParticipant(address);
      return participant && (await ctx.participants.isLocal(participant)) ? participant : undefined;
    },
    async onMessage(message) {
      refuseUnsealableText(message);
      const part = await storeOriginal(ctx, message.raw, smtp.maxMessageBytes);
      const sender: ParticipantId = { scheme: 'email', value: message.envelope.mailFrom || 'MAILER-DAEMON' };
      const tls = message.connection.tlsProtocol ? `, ${message.connection.tlsProtocol}` : ', no TLS';
      const messageIds: string[] = [];
      for (const recipient of message.envelope.recipients) {
        const { messageId } = await receiveFromNonErds(ctx, {
          sender,
          recipient: recipient.participant,
          subject: message.parsed.subject,
          parts: [part],
          senderIdentification: {
            method: UNAUTHENTICATED_SMTP_METHOD,
            assuranceLevel: LOA_LOW,
            authenticatedAt: ctx.clock.now(),
          },
          origin: `SMTP from <${message.envelope.mailFrom}> via ${message.connection.remoteAddress}${tls}, sender not authenticated`,
        });
        messageIds.push(messageId);
      }
      return { messageIds };
    },
    log: log.child({ component: 'smtp-inbound' }),
    clock: ctx.clock,
  });
}
