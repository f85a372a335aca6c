import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { formatParticipantId, isQerdsError, parseParticipantId, type ParticipantId } from '../core/index.js';
import {
  acceptReturnedEvidence,
  receiveMessage,
  type EvidenceCheck,
  type PipelineContext,
} from '../pipeline/index.js';
import { subjectCommonName, type SigningIdentity, type TrustStore } from '../pki/index.js';
import { sealPinOf } from '../directory/index.js';
import { requirePeerAp } from './as4-security.js';
import { requireNotRevokedByOcsp } from './peer-ocsp.js';
import type { SmtpListenerSettings } from './smtp-binding.js';
import {
  createSmtpIntake,
  readOriginalParts,
  smtpError,
  verifyRemMessage,
  type IntakeMessage,
  type RemVerification,
  type SmtpIntake,
} from '../smtp/index.js';

/**
 * The relay listener of the REM SMTP binding (`smtp.relay`; the sending side is smtp-relay-transport.ts). It
 * takes, after STARTTLS only and for local participants only:
 * - a REM Dispatch from the sender's AP (C2 → C3): its S/MIME seal must verify under the trust store (`trust`:
 *   narrowed to listed QERDS with `pki.listedPeersOnly`), be the AP certificate the directory pins for the
 *   sender (as the AS4 endpoint checks), and be the seal of the SubmissionAcceptance inside, which names the
 *   message id, sender and recipient. Then it enters the same reception as AS4 (receiveMessage: dedupe by
 *   message id, RelayAcceptance, deliver and notify jobs), and 250 is answered only after that commit;
 * - a REM Receipt from the recipient's AP (C3 → C2) with one evidence about a message sent from here, recorded
 *   exactly as evidence returned over AS4 (acceptReturnedEvidence, carrier = the S/MIME signer).
 * Refusals: 554 5.7.7 (seal, signed headers or evidence do not verify), 554 5.7.1 (not sealed by a known AP),
 * 554 5.7.5 (cannot be decrypted), 550 5.1.1 (unknown recipient); nothing is stored for a refused message.
 */
export function createSmtpRelayListener(
  ctx: PipelineContext,
  settings: SmtpListenerSettings,
  deps: { readonly trust: TrustStore; readonly decryption: SigningIdentity; readonly log: Logger },
): SmtpIntake | undefined {
  const { smtp, mapping } = settings;
  const relay = smtp.relay;
  if (!relay) return undefined;
  const log = deps.log.child({ component: 'smtp-relay' });

  async function onMessage(message: IntakeMessage): Promise<{ messageIds: string[] }> {
    // The evidence inside is checked while the REM message is (one XAdES validation each), and kept for below.
    const checks = new Map<string, EvidenceCheck>();
    const verification = await verifyRemMessage(message.raw, {
      trust: deps.trust,
      at: ctx.clock.now(),
      decryption: [{ privateKey: deps.decryption.privateKey, certificate: deps.decryption.certificate }],
      verifyEvidence: async (xml) => {
        const check = await ctx.evidenceVerifier.check(xml);
        checks.set(xml, check);
        return {
          valid: check.valid,
          summary: check.valid ? `${check.event} ${check.id}` : (check.reason ?? 'invalid'),
        };
      },
    });
    refuseUnlessValid(verification);
    const signer = verification.signer!;
    const content = verification.signedContent!;
    const xml = content.evidenceXml[0]!;
    const check = checks.get(xml)!;
    // The evidence must be this AP's peer speaking: sealed by the same certificate as the REM message.
    if (check.sealFingerprint !== signer.fingerprint256)
      throw smtpError(
        'SMTP_SEAL_UNTRUSTED',
        'the evidence inside is sealed by another certificate than the REM message',
      );
    if (content.headers.get('rem-messageidentifier') !== check.messageId) {
      throw smtpError(
        'SMTP_SEAL_INVALID',
        `the signed REM-MessageIdentifier is not the message id ${check.messageId} of the evidence inside`,
      );
    }
    const sender = parseParticipantId(check.sender);
    const recipient = parseParticipantId(check.recipient);
    await requireNotRevoked(content.signerCertificate!);
    try {
      if (verification.messageType === 'Dispatch')
        return await dispatch(message, verification, check, sender, recipient);
      if (verification.messageType === 'Receipt') {
        // Returned evidence comes from the AP of the message's recipient.
        await requirePinnedAp(recipient, content.signerCertificate!);
        await acceptReturnedEvidence(ctx, xml, signer.fingerprint256);
        return { messageIds: [check.id] };
      }
    } catch (error) {
      if (
        isQerdsError(error) &&
        error.code.startsWith('PIPELINE_') &&
        error.code !== 'PIPELINE_UNKNOWN_RECIPIENT'
      )
        throw smtpError('SMTP_SEAL_INVALID', error.message);
      throw error;
    }
    throw smtpError(
      'SMTP_MESSAGE_MALFORMED',
      `REM-MessageType ${verification.messageType ?? '(none)'} is not taken here: Dispatch or Receipt`,
    );
  }

  async function dispatch(
    message: IntakeMessage,
    verification: RemVerification,
    check: EvidenceCheck,
    sender: ParticipantId,
    recipient: ParticipantId,
  ) {
    if (check.event !== 'SubmissionAcceptance')
      throw smtpError(
        'SMTP_SEAL_INVALID',
        `a REM Dispatch carries the SubmissionAcceptance, not ${check.event}`,
      );
    if (
      message.envelope.recipients.some(
        (r) => formatParticipantId(r.participant) !== formatParticipantId(recipient),
      )
    ) {
      throw smtpError(
        'SMTP_SEAL_INVALID',
        `the envelope recipient is not ${check.recipient}, whom the sealed evidence names`,
      );
    }
    await requirePinnedAp(sender, verification.signedContent!.signerCertificate!);
    const original = verification.signedContent!.original;
    if (!original)
      throw smtpError('SMTP_MESSAGE_MALFORMED', 'the REM Dispatch has no rem_message/original section');
    const { subject, parts } = await readOriginalParts(original);
    const submissionTime = verification.signedContent!.headers.get('rem-submissiontime');
    const submittedAt = submissionTime ? new Date(submissionTime) : undefined;
    const { duplicate } = await receiveMessage(ctx, {
      ebmsMessageId: check.messageId,
      sender,
      recipient,
      ...(subject !== undefined ? { subject } : {}),
      ...(submittedAt && !Number.isNaN(submittedAt.getTime()) ? { submittedAt } : {}),
      parts,
      fromErds: {
        id: check.issuerId,
        name: subjectCommonName(verification.signer!.subject) ?? verification.signer!.subject,
      },
    });
    const stored = await ctx.store.findMessageByEbmsId(check.messageId, 'recipient-ap');
    log.info(
      {
        messageId: stored?.id,
        ebmsMessageId: check.messageId,
        duplicate,
        remote: message.connection.remoteAddress,
        tls: message.connection.tlsProtocol,
      },
      'REM dispatch received over SMTP',
    );
    return { messageIds: [stored?.id ?? check.messageId] };
  }

  /**
   * When the directory pins the AP certificate of `participant`'s AP, only that AP may speak for it (threat: any
   * holder of a certificate under a trusted CA injecting messages or evidence in another AP's name). A participant
   * the directory does not know has no AP to speak for it at all.
   */
  async function requirePinnedAp(participant: ParticipantId, signer: X509Certificate): Promise<void> {
    const entry = await ctx.directory.lookup(participant);
    if (!entry)
      throw smtpError(
        'SMTP_SEAL_UNTRUSTED',
        `the directory knows no access point for ${formatParticipantId(participant)}`,
      );
    // REM messages are signed with the e-seal: the entry's seal pin (apSealCertificate, else apCertificate).
    const sealPin = sealPinOf(entry);
    if (sealPin) {
      if (new X509Certificate(sealPin).fingerprint256 !== signer.fingerprint256) {
        throw smtpError(
          'SMTP_SEAL_UNTRUSTED',
          `the seal is not that of the access point the directory names for ${formatParticipantId(participant)}`,
        );
      }
      return;
    }
    // No pin: the AS4 endpoint's rule (pki.unpinnedPeers, then an AP's signing role, never our own seal).
    const rules = {
      ownFingerprints: ctx.peerSeals?.ownSealFingerprint ? [ctx.peerSeals.ownSealFingerprint] : [],
      unpinned: ctx.peerSeals?.unpinnedPeers ?? false,
    };
    try {
      requirePeerAp(formatParticipantId(participant), entry, signer, rules);
    } catch (error) {
      throw smtpError(
        'SMTP_SEAL_UNTRUSTED',
        isQerdsError(error) ? error.message : 'the signer is not an access point',
      );
    }
  }

  /** The OCSP check the AS4 endpoint makes of a peer's seal (when its certificate names a responder), with an SMTP answer. */
  async function requireNotRevoked(certificate: X509Certificate): Promise<void> {
    try {
      await requireNotRevokedByOcsp(certificate, deps.trust, ctx.clock.now());
    } catch (error) {
      throw smtpError(
        'SMTP_SEAL_UNTRUSTED',
        isQerdsError(error) ? error.message : 'the OCSP status of the signer cannot be established',
      );
    }
  }

  return createSmtpIntake({
    mode: 'relay',
    host: relay.host,
    port: relay.port,
    tlsMode: 'starttls',
    tls: { key: readFileSync(settings.tls.key.path), cert: readFileSync(settings.tls.cert.path) },
    serverName: smtp.domain,
    domains: [smtp.domain],
    accounts: [],
    maxMessageBytes: relay.maxMessageBytes ?? smtp.maxMessageBytes,
    // Peers are APs, authenticated by their seal: no AUTH to throttle and no per-address message cap (a busy
    // peer relays many messages), only the connection limit.
    limits: { maxClients: smtp.limits.maxClients, maxClientsPerAddress: smtp.limits.maxClientsPerAddress },
    resolveRecipient: async (address) => {
      const participant = mapping.toParticipant(address);
      return participant && (await ctx.participants.isLocal(participant)) ? participant : undefined;
    },
    onMessage,
    log,
    clock: ctx.clock,
  });
}

/** Why a REM message that did not verify is refused, as the SMTP reply a peer can act on. */
function refuseUnlessValid(v: RemVerification): void {
  if (
    v.verdict === 'VALID' &&
    v.remHeaders === 'signed' &&
    v.signedContent?.signerCertificate &&
    v.signedContent.evidenceXml.length
  )
    return;
  const errors = v.findings.filter((f) => f.severity === 'error');
  const first = errors[0]?.message ?? 'the REM headers are not signed';
  if (
    errors.some((f) => ['REM_ENCRYPTED', 'REM_DECRYPT_FAILED', 'REM_ENCRYPTION_UNSUPPORTED'].includes(f.code))
  )
    throw smtpError('SMTP_DECRYPTION_FAILED', first);
  // A signature that holds but whose certificate the trust store does not accept (no path, expired, revoked: the
  // path findings), with nothing else wrong: an unknown or unacceptable signer, not a changed message.
  const pathOnly =
    v.signatureFindings.includes('SEAL_CERT_PATH_INVALID') &&
    v.signatureFindings.every((c) => c === 'SEAL_CERT_PATH_INVALID' || c.startsWith('PKI_'));
  if (pathOnly && errors.every((f) => f.code === 'REM_SIGNATURE_INVALID')) {
    throw smtpError(
      'SMTP_SEAL_UNTRUSTED',
      `the seal's certificate is not valid under this AP's trust store (${v.signer?.subject ?? 'unknown signer'})`,
    );
  }
  throw smtpError(
    'SMTP_SEAL_INVALID',
    errors
      .map((f) => f.message)
      .join('; ')
      .slice(0, 300) || first,
  );
}
