import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { pinMismatch, type SigningIdentity, type TrustStore } from '../pki/index.js';
import {
  formatParticipantId,
  QerdsError,
  type Clock,
  type QerdsErrorCode,
  type ParticipantId,
} from '../core/index.js';
import {
  encryptionCertificateRefusal,
  relaysBySmtp,
  type Directory,
  type DirectoryEntry,
} from '../directory/index.js';
import {
  streamToBuffer,
  type IssuedEvidence,
  type RelayAnswer,
  type RelayPart,
  type Transport,
} from '../pipeline/index.js';
import {
  buildRemMessage,
  composeOriginal,
  createAddressMapping,
  createMailSender,
  encryptRemMessage,
  type MailSender,
  type RemMessageInput,
} from '../smtp/index.js';
import { peerTlsPins } from './as4-tls.js';
import { safeId } from './mail-binding.js';

/**
 * The REM SMTP binding between access points (ETSI EN 319 522-4-1 with the REM messages of EN 319 532-3), the
 * pipeline's Transport for peers whose directory entry says so (`relaysBySmtp`):
 * - a dispatch (C2 → C3) is a REM Dispatch: the content as the `message/rfc822` original (each part an
 *   attachment named by its part id, base64: octets unchanged), the SubmissionAcceptance as xml_evidence, the
 *   ebMS-equivalent message id in the signed `REM-MessageIdentifier` header (C3 dedupes by it), S/MIME signed
 *   by the AP's e-seal; encrypted (AuthEnvelopedData) for the peer AP's encryption certificate when the
 *   directory names one;
 * - evidence returned (C3 → C2) is a REM Receipt with that evidence, signed the same way.
 * Sent with nodemailer to the peer's relay listener `smtp://host:port?domain=<mail domain>`, to the recipient's
 * derived address `<scheme>-<value>@<domain>`, with TLS required: STARTTLS must succeed, the server certificate
 * must chain to the AP's anchors (with their CRLs), name the host and match the entry's TLS pins; never a
 * plaintext fallback (the MTA-STS "enforce" behaviour, from the directory instead of a fetched policy).
 * A 250 is the peer's commit; a 5xx is final (QerdsError, `retryable: false`, `reasonCode` RB02…RB10 by the
 * enhanced status code); 4xx, connection and TLS failures are retryable.
 */
export interface SmtpRelayTransportOptions {
  readonly identity: SigningIdentity;
  /** For the peer's encryption certificate (trust, validity, CRL, key usage). */
  readonly trust: TrustStore;
  readonly directory: Directory;
  /** This AP's relay address (From, envelope sender), e.g. `rem@<smtp.domain>`, and its display name. */
  readonly from: { readonly address: string; readonly name: string };
  /** REM-ApplicablePolicy. */
  readonly policies: readonly string[];
  /** Anchors (PEM) a peer's server certificate must chain to, and their CRLs. */
  readonly tls: { readonly ca: readonly (string | Buffer)[]; readonly crl: readonly (string | Buffer)[] };
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

export function createSmtpRelayTransport(options: SmtpRelayTransportOptions): Transport & { close(): void } {
  const senders = new Map<string, MailSender>();
  const ownDomain = options.from.address.slice(options.from.address.lastIndexOf('@') + 1);

  /** One pooled connection set per peer and pins: a connection verified against one peer's pins never carries another's mail. */
  function senderFor(peer: SmtpPeer, entry: DirectoryEntry | undefined): MailSender {
    const pins = peerTlsPins(entry);
    const key = [
      peer.host,
      peer.port,
      ...(pins?.spki ?? []),
      ...(pins?.certificates ?? []).map((c) => c.fingerprint256),
    ].join(' ');
    let sender = senders.get(key);
    if (!sender) {
      sender = createMailSender({
        host: peer.host,
        port: peer.port,
        requireTls: true,
        ca: options.tls.ca,
        crl: options.tls.crl,
        checkServerCertificate: (cert) => {
          const why = pinMismatch(new X509Certificate(cert.raw), pins);
          return why ? new Error(why) : undefined;
        },
        maxConnections: 2,
        timeoutMs: options.timeoutMs,
        name: ownDomain,
        log: options.log,
      });
      senders.set(key, sender);
    }
    return sender;
  }

  async function send(input: {
    endpoint: string;
    to: ParticipantId;
    rem: Omit<RemMessageInput, 'to' | 'from' | 'signer' | 'policies' | 'headerProtection'>;
  }): Promise<RelayAnswer> {
    const peer = smtpPeer(input.endpoint);
    const entry = await options.directory.lookup(input.to);
    const to = createAddressMapping({ domains: [peer.domain] }).toAddress(input.to);
    if (!to)
      throw final(
        'RELAY_SMTP_ADDRESS',
        `participant ${formatParticipantId(input.to)} has no mail address form (<scheme>-<value>@${peer.domain})`,
      );
    const encryptFor = encryptionCertificate(entry);
    const rem = buildRemMessage({
      ...input.rem,
      from: options.from,
      to: [{ address: to }],
      signer: options.identity,
      policies: options.policies,
      headerProtection: encryptFor ? 'cipher' : 'clear',
    });
    const raw = encryptFor ? await encryptRemMessage(rem.raw, [encryptFor]) : rem.raw;
    const outcome = await senderFor(peer, entry).send({ from: options.from.address, to, raw });
    if (outcome.status === 'accepted') return { smtpResponse: outcome.response };
    const where = `${peer.host}:${peer.port}`;
    if (!outcome.permanent) {
      throw new QerdsError('RELAY_SMTP_UNAVAILABLE', `${where}: ${outcome.response}`, {
        details: { retryable: true, ...(outcome.replyCode ? { replyCode: outcome.replyCode } : {}) },
      });
    }
    throw final(
      'RELAY_SMTP_REFUSED',
      `${where} refused the REM message: ${outcome.response}`,
      refusalReason(outcome.replyCode, outcome.response),
    );
  }

  /** The peer AP's encryption certificate from its entry, when it names one that may be used now. */
  function encryptionCertificate(entry: DirectoryEntry | undefined): X509Certificate | undefined {
    const pem = entry?.apEncryptionCertificatePem;
    if (!pem) return undefined;
    const refusal = encryptionCertificateRefusal(pem, options.trust, options.clock.now());
    if (refusal)
      throw final(
        'RELAY_SMTP_ENCRYPTION_CERTIFICATE',
        `the encryption certificate of the peer AP cannot be used: ${refusal}`,
      );
    return new X509Certificate(pem);
  }

  return {
    async sendMessage(input) {
      const evidence = input.submissionEvidence;
      if (!evidence)
        throw final(
          'RELAY_SMTP_NO_EVIDENCE',
          'a REM Dispatch carries the SubmissionAcceptance, and the message has none',
        );
      const parts = await Promise.all(
        input.parts.map(async (part) => ({ ...part, body: await partBytes(part) })),
      );
      const original = await composeOriginal({
        from: { name: formatParticipantId(input.sender), address: options.from.address },
        subject: input.subject ?? '',
        date: input.submittedAt,
        parts,
        exact: true,
      });
      return send({
        endpoint: input.endpoint,
        to: input.recipient,
        rem: {
          event: evidence.event,
          evidenceXml: evidence.xml,
          original,
          subject: input.subject ?? '',
          messageType: 'Dispatch',
          eventTime: evidence.eventTime,
          // Stable per message: a dispatch sent again after a lost reply is recognisably the same mail.
          messageId: `<rem-relay-${safeId(input.ebmsMessageId)}@${ownDomain}>`,
          remHeaders: {
            'REM-MessageIdentifier': input.ebmsMessageId,
            'REM-SubmissionTime': input.submittedAt.toISOString(),
          },
        },
      });
    },
    sendEvidence(input) {
      return send({
        endpoint: input.endpoint,
        to: input.recipient,
        rem: receiptOf(input.evidence, input.refToEbmsMessageId, ownDomain),
      });
    },
    close() {
      for (const sender of senders.values()) sender.close();
      senders.clear();
    },
  };
}

/** The REM Receipt that carries one evidence back to the sender's AP. */
function receiptOf(
  evidence: IssuedEvidence,
  ebmsMessageId: string,
  domain: string,
): Omit<RemMessageInput, 'to' | 'from' | 'signer' | 'policies' | 'headerProtection'> {
  return {
    event: evidence.event,
    evidenceXml: evidence.xml,
    subject: ebmsMessageId,
    messageType: 'Receipt',
    eventTime: evidence.eventTime,
    messageId: `<rem-${safeId(evidence.id)}@${domain}>`,
    remHeaders: { 'REM-MessageIdentifier': ebmsMessageId },
  };
}

/**
 * Routes each send by the peer's directory entry: the SMTP relay binding for `smtp://` endpoints (or transport
 * profile `etsi-rem-smtp`), AS4 for every other one (the default). Without an SMTP transport every peer gets AS4.
 */
export function routeTransport(as4: Transport, smtp: Transport | undefined): Transport {
  const pick = (input: { endpoint: string; transportProfile?: string }) =>
    smtp && relaysBySmtp(input) ? smtp : as4;
  return {
    sendMessage: (input) => pick(input).sendMessage(input),
    sendEvidence: (input) => pick(input).sendEvidence(input),
  };
}

interface SmtpPeer {
  readonly host: string;
  readonly port: number;
  /** Mail domain of the peer's participants (RCPT TO `<scheme>-<value>@<domain>`). */
  readonly domain: string;
}

/** `smtp://host[:port][?domain=<mail domain>]`; the domain defaults to the host name. */
export function smtpPeer(endpoint: string): SmtpPeer {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw final(
      'RELAY_SMTP_ENDPOINT',
      `the directory names the SMTP relay endpoint "${endpoint}", which is not a URL`,
    );
  }
  if (url.protocol !== 'smtp:' || !url.hostname)
    throw final('RELAY_SMTP_ENDPOINT', `the SMTP relay endpoint must be smtp://host:port, not "${endpoint}"`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host, port: url.port ? Number(url.port) : 25, domain: url.searchParams.get('domain') ?? host };
}

/**
 * The RelayFailure reason a final SMTP refusal stands for, by its enhanced status code (RFC 3463), as the
 * relay listener of qerds-ap writes them: 5.1.x unknown recipient (RB10), 5.7.7 seal or content does not verify
 * (RB04), 554 5.7.1 the seal is not of a known AP (RB05), 5.3.4 too large and other 5.7.x policy refusals (RB06),
 * anything else RB02.
 */
export function refusalReason(
  replyCode: number | undefined,
  response: string,
): 'RB02' | 'RB04' | 'RB05' | 'RB06' | 'RB10' {
  const enhanced = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(response)?.[1];
  if (enhanced?.startsWith('5.1.')) return 'RB10';
  if (enhanced === '5.7.7') return 'RB04';
  if (enhanced === '5.7.1' && replyCode === 554) return 'RB05';
  if (enhanced === '5.3.4' || replyCode === 552 || enhanced?.startsWith('5.7.')) return 'RB06';
  return 'RB02';
}

function final(code: QerdsErrorCode, message: string, reasonCode?: string): QerdsError {
  return new QerdsError(code, message, {
    details: { retryable: false, ...(reasonCode ? { reasonCode } : {}) },
  });
}

async function partBytes(part: RelayPart): Promise<Buffer> {
  // A REM message is signed whole, in memory: large parts are bounded by the peer's SIZE (smtp.relay.maxMessageBytes).
  return Buffer.isBuffer(part.body) ? part.body : streamToBuffer(part.body.open());
}
