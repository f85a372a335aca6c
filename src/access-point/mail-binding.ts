import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { QerdsConfig } from '../config/index.js';
import { formatParticipantId, type ParticipantId } from '../core/index.js';
import { parseEvidenceXml } from '../evidence/index.js';
import type {
  IssuedEvidence,
  MailTransport,
  NoticeLinks,
  OutgoingPart,
  RecipientNotice,
} from '../pipeline/index.js';
import type { SigningIdentity } from '../pki/index.js';
import type { StoredMessage } from '../store/index.js';
import {
  buildRemMessage,
  composeOriginal,
  createMailSender,
  encryptRemMessage,
  type IntroductionTexts,
  type MailSender,
  type RemEncryption,
} from '../smtp/index.js';

/**
 * Binds the pipeline's MailTransport port to the SMTP module: REM messages (EN 319 532-3) built and signed
 * S/MIME by the AP's e-seal, sent through `smtp.outbound` with nodemailer. Who gets mail:
 * - a local recipient whose account (`accounts[]`) has a `deliveryEmail` gets each message
 *   as a REM Dispatch there (store-and-forward), encrypted S/MIME for the account's `deliveryCertificate`
 *   or the participant's directory `encryptionCertificate` when one is configured (signed, then enveloped,
 *   in the account's `deliveryEncryption` form);
 * - a sender participant with an SMTP account (`smtp.accounts[]`) gets every evidence about its messages
 *   as a REM Receipt at that account's address, whether it submitted by SMTP or by REST (the address is
 *   the participant's registered e-mail address at this AP);
 * - receipts and notices are encrypted like dispatches when the participant they go to has a certificate.
 * Undefined when no outbound SMTP is configured.
 */
export function createMailTransport(
  config: QerdsConfig,
  identity: SigningIdentity,
  log: Logger,
): (MailTransport & { close(): void }) | undefined {
  const outbound = config.smtp.outbound;
  if (!outbound) return undefined;
  const sender: MailSender = createMailSender({
    host: outbound.host,
    port: outbound.port,
    secure: outbound.secure,
    requireTls: outbound.requireTls,
    ca: outbound.tlsCa ? readFileSync(outbound.tlsCa) : undefined,
    auth: outbound.auth,
    maxConnections: outbound.maxConnections,
    timeoutMs: outbound.timeoutMs,
    name: config.smtp.domain,
    log: log.child({ component: 'smtp-out' }),
  });
  const from = { address: outbound.from ?? `rem@${config.smtp.domain}`, name: config.ap.name };
  const domain = from.address.slice(from.address.lastIndexOf('@') + 1);
  const deliveryEmails = new Map<string, string>();
  for (const entry of config.accounts) {
    if (entry.deliveryEmail && !deliveryEmails.has(entry.participant))
      deliveryEmails.set(entry.participant, entry.deliveryEmail);
  }
  const deliveryCertificates = new Map<string, X509Certificate>();
  const certificateFiles = [
    ...config.accounts.map((e) => [e.participant, e.deliveryCertificate] as const),
    ...config.directory.participants.map((p) => [p.id, p.encryptionCertificate] as const),
  ];
  // Read once at start: a missing or unreadable certificate is a configuration error, not a per-mail failure.
  for (const [participant, file] of certificateFiles) {
    if (file && !deliveryCertificates.has(participant))
      deliveryCertificates.set(participant, new X509Certificate(readFileSync(file)));
  }
  const deliveryEncryptions = new Map<string, RemEncryption>();
  for (const entry of config.accounts) {
    if (!deliveryEncryptions.has(entry.participant))
      deliveryEncryptions.set(entry.participant, entry.deliveryEncryption);
  }
  const evidenceEmails = new Map<string, string>();
  for (const account of config.smtp.accounts)
    if (!evidenceEmails.has(account.participant)) evidenceEmails.set(account.participant, account.email);

  /**
   * Every REM message to a participant with a known certificate is encrypted for it, not only the dispatch:
   * receipts to a sender name the recipient, the subject and the events, and notices carry pickup links.
   * A participant known only from the directory gets the config default's form (mail clients open it).
   */
  const headerProtectionFor = (participant: ParticipantId) =>
    deliveryCertificates.has(formatParticipantId(participant)) ? 'cipher' : 'clear';
  const encryptedFor = async (participant: ParticipantId, raw: Buffer): Promise<Buffer> => {
    const key = formatParticipantId(participant);
    const certificate = deliveryCertificates.get(key);
    if (!certificate) return raw;
    return encryptRemMessage(raw, [certificate], {
      encryption: deliveryEncryptions.get(key) ?? 'aes256-cbc',
    });
  };

  return {
    deliveryAddress: (recipient: ParticipantId) => deliveryEmails.get(formatParticipantId(recipient)),
    evidenceAddress: (participant: ParticipantId) => evidenceEmails.get(formatParticipantId(participant)),
    nonErdsAddress: (recipient: ParticipantId) =>
      config.smtp.relayToNonErds ? plainAddress(recipient) : undefined,
    async sendDispatch({ to, message, parts, evidence }) {
      const original = await originalOf(message, parts, from.address);
      const rem = buildRemMessage({
        headerProtection: headerProtectionFor(message.recipient),
        event: evidence.event,
        evidenceXml: evidence.xml,
        original,
        subject: message.subject ?? '',
        from,
        to: [{ address: to }],
        messageType: 'Dispatch',
        policies: config.ap.policyIds,
        eventTime: evidence.eventTime,
        signer: identity,
        // Stable per message: a dispatch sent again after a lost reply is recognisably the same mail.
        messageId: `<rem-dispatch-${safeId(message.id)}@${domain}>`,
        remHeaders: { 'REM-MessageIdentifier': message.ebmsMessageId },
      });
      return sender.send({ from: from.address, to, raw: await encryptedFor(message.recipient, rem.raw) });
    },
    async sendReceipt({ to, message, evidence }) {
      const part = message.parts[0];
      const rem = buildRemMessage({
        headerProtection: headerProtectionFor(message.sender),
        event: evidence.event,
        evidenceXml: evidence.xml,
        originalSha256: part?.plaintextSha256 ?? part?.sha256,
        subject: message.subject ?? '',
        from,
        to: [{ address: to }],
        messageType: 'Receipt',
        policies: config.ap.policyIds,
        reason: reasonText(evidence),
        eventTime: evidence.eventTime,
        signer: identity,
        messageId: `<rem-${safeId(evidence.id)}@${domain}>`,
        remHeaders: { 'REM-MessageIdentifier': message.ebmsMessageId },
      });
      return sender.send({ from: from.address, to, raw: await encryptedFor(message.sender, rem.raw) });
    },
    async sendNotification({ to, notice, links, evidence }) {
      const message = notice.message;
      const part = message.parts[0];
      const rem = buildRemMessage({
        headerProtection: headerProtectionFor(message.recipient),
        // The attached evidence names the event: the notice's own evidence is issued only once the mail is taken.
        event: evidence.event,
        evidenceXml: evidence.xml,
        originalSha256: part?.sha256,
        subject: `${NOTICE_TITLES[notice.kind].en}: ${message.subject ?? ''}`,
        from,
        to: [{ address: to }],
        messageType: 'Receipt',
        policies: config.ap.policyIds,
        eventTime: evidence.eventTime,
        introduction: noticeIntroduction(notice, links),
        signer: identity,
        // Stable per message and notice: the same notice sent again after a lost reply is recognisably the same mail.
        messageId: `<rem-notice-${safeId(message.id)}-${notice.kind}@${domain}>`,
        remHeaders: {
          'REM-MessageIdentifier': message.ebmsMessageId,
          ...(notice.deadline ? { 'REM-ExpirationDate': notice.deadline.toUTCString() } : {}),
        },
      });
      return sender.send({ from: from.address, to, raw: await encryptedFor(message.recipient, rem.raw) });
    },
    close: () => sender.close(),
  };
}

const NOTICE_TITLES = {
  NotificationForAcceptance: { en: 'Awaiting your acceptance', ja: '受領の承諾をお待ちしています' },
  ConsignmentNotification: { en: 'Available for pickup', ja: '受け取り可能です' },
} as const;

/** The introduction of a REM notification: what awaits the recipient and the links to act on it (no content). */
function noticeIntroduction(notice: RecipientNotice, links: NoticeLinks): IntroductionTexts {
  const title = NOTICE_TITLES[notice.kind];
  const lines = [
    `${title.ja} / ${title.en}`,
    `件名 / Subject: ${notice.message.subject ?? ''}`,
    `受け取り / Pickup: ${links.pickup}`,
    ...(links.accept ? [`承諾 / Accept (POST): ${links.accept}`] : []),
    ...(links.reject ? [`拒否 / Reject (POST): ${links.reject}`] : []),
    ...(notice.deadline ? [`期限 / Deadline: ${notice.deadline.toISOString()}`] : []),
  ];
  const escape = (text: string) =>
    text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return {
    text: lines.join('\r\n') + '\r\n',
    html: `<!DOCTYPE html><html><body>${lines.map((l) => `<p>${escape(l)}</p>`).join('')}</body></html>`,
  };
}

/**
 * The `message/rfc822` original of a dispatch: a mail submitted over SMTP is its own original, byte for
 * byte; other content (REST parts) is wrapped in a plain message whose attachments are the parts as stored
 * (ciphertext when C2 encrypted them end to end: the recipient decrypts).
 */
async function originalOf(
  message: StoredMessage,
  parts: readonly OutgoingPart[],
  fromAddress: string,
): Promise<Buffer> {
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && only.contentType.toLowerCase().startsWith('message/rfc822')) return only.body;
  return composeOriginal({
    from: { name: formatParticipantId(message.sender), address: fromAddress },
    subject: message.subject ?? '',
    date: message.submittedAt,
    parts,
  });
}

function reasonText(evidence: IssuedEvidence): string | undefined {
  try {
    const reason = parseEvidenceXml(evidence.xml).reason;
    return reason ? [reason.code, reason.details].filter(Boolean).join(': ') : undefined;
  } catch {
    return undefined;
  }
}

/** The address a participant `email:<address>` names (EN 319 522 non-ERDS recipient), if it is one. */
export function plainAddress(participant: ParticipantId): string | undefined {
  return participant.scheme.toLowerCase() === 'email' && /^[^@\s<>]+@[^@\s<>]+$/.test(participant.value)
    ? participant.value
    : undefined;
}

/** An id as part of a Message-ID (RFC 5322 dot-atom): anything else is replaced. */
export function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}
