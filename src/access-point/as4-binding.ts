import type { X509Certificate } from 'node:crypto';
import type { RequestHandler } from 'express';
import {
  createAs4Handler,
  EBMS_INITIATOR_ROLE,
  EBMS_RESPONDER_ROLE,
  isEbmsErrorCode,
  qerdsCodeOf,
  sendUserMessage,
  streamedAttachment,
  type Attachment,
  type EnvelopeLimits,
  type ReceiptInput,
  type UserMessage,
  type UserMessagePacker,
} from '../as4/index.js';
import {
  checkCertificateRole,
  pinMismatch,
  subjectCommonName,
  type As4TlsClient,
  type SigningIdentity,
  type TrustStore,
} from '../pki/index.js';
import {
  createGroupSender,
  formatParticipantId,
  isQerdsError,
  parseParticipantId,
  QerdsError,
  type ParticipantId,
} from '../core/index.js';
import type { Directory, DirectoryEntry } from '../directory/index.js';
import {
  acceptReturnedEvidenceGroup,
  receiveMessage,
  type CheckedReturnedEvidence,
  type PipelineContext,
  type RelayPart,
  type Transport,
} from '../pipeline/index.js';
import {
  outgoingPMode,
  peerEncryptionCertificate,
  requirePeerAp,
  requirePinnedPeer,
  type As4Security,
  type PeerApRules,
} from './as4-security.js';
import {
  finalPeppolRefusal,
  peppolDispatch,
  peppolNotServiced,
  peppolUserMessage,
  PEPPOL_NOT_SERVICED,
  peerSpeaksPeppol,
  readAtMost,
  readPeppolDispatch,
  type PeppolDispatch,
} from './as4-peppol.js';
import { peerTlsPins } from './as4-tls.js';
import { peppolAs4Profile } from '../peppol/index.js';
import { requireNotRevokedByOcsp } from './peer-ocsp.js';
import { requirePeppolApCertificate, type PeppolPeerPolicy } from './peppol-peer-check.js';
import { certificateFrom } from '../pki/parse-cache.js';
import {
  ACTION_DISPATCH,
  ACTION_EVIDENCE,
  ERDS_PARTICIPANT_ID_TYPE,
  ERDS_SERVICE,
  EVIDENCE_BYTES_PER_MESSAGE,
  EVIDENCE_PER_MESSAGE,
  evidenceMessage,
  type EvidenceReturn,
} from '../profiles/index.js';

/**
 * The pipeline's Transport over AS4: each message goes under this AP's push P-Mode for its action, GZIP
 * compressed (`as4.compress` and the P-Mode's `compress`), signed, and encrypted for the receiving AP's
 * encryption certificate from the directory (required when the P-Mode wants encryption: without one the
 * send fails for good, not retryable).
 */
export function createAs4Transport(options: {
  self: { id: string; name: string };
  identity: SigningIdentity;
  trust: TrustStore;
  /** Who may sign the receipts of peers (`trust` narrowed to listed QERDS when pki.listedPeersOnly). @defaultValue trust */
  peerTrust?: TrustStore;
  timeoutMs: number;
  as4: As4Security;
  /** Where the receiving AP's encryption certificate is found: the entry of the participant it serves. */
  directory: Directory;
  /** HTTPS to peers (client certificate, anchors, per-peer pins). @defaultValue node:http(s) with node's global agent (no pins) */
  tls?: As4TlsClient;
  now?: () => Date;
  /** Told of each Evidence message acknowledged by the peer, with the number of evidences it carried (a metric). */
  onEvidenceReturned?: (evidences: number) => void;
  /**
   * Peppol AS4 profile with `pki.peppolAnchors`: a receipt counts only when its signer is a Peppol AP certificate
   * under the network's AP CAs, not revoked (peppol-peer-check.ts); otherwise the send fails (EBMS:0101).
   */
  peppolPeers?: PeppolPeerPolicy;
  /** Where a message whose parts are all in memory is packed (the AP's worker pool). @defaultValue this thread */
  pack?: UserMessagePacker;
}): Transport {
  const now = options.now ?? (() => new Date());
  const send = async (input: {
    endpoint: string;
    apCertificatePem?: string;
    messageId: string;
    refToMessageId?: string;
    conversationId: string;
    action: string;
    /** originalSender / finalRecipient; a message carrying evidence about several messages may have none. */
    sender?: ParticipantId;
    recipient?: ParticipantId;
    /** The peer's directory entry, when the caller has it. @defaultValue the entry of `recipient` */
    peer?: DirectoryEntry;
    extraProperties?: { name: string; value: string }[];
    parts: readonly RelayPart[];
    /** A Dispatch under the Peppol profile: its P-Mode and AS4 header (as4-peppol.ts) instead of the ERDS ones. */
    peppol?: PeppolDispatch;
  }) => {
    const pmode = input.peppol?.pmode ?? outgoingPMode(options.as4, ERDS_SERVICE, input.action);
    // The same entry the pipeline took the endpoint from (C4's for a dispatch, C1's for returned evidence).
    const peer =
      input.peer ?? (input.recipient ? await options.directory.lookup(input.recipient) : undefined);
    // A Peppol peer knows this AP by its Peppol AP certificate; a qerds-ap peer over ERDS by its ERDS identity (as4.erds).
    const identity =
      input.peppol || peerSpeaksPeppol(peer, options.as4.profile)
        ? options.identity
        : options.as4.erds.signing;
    const encryptFor = peerEncryptionCertificate(
      pmode,
      peer?.apEncryptionCertificatePem,
      options.trust,
      now(),
    );
    // Threat: a receipt (proof of relay) signed by whoever answers at the endpoint, judged by the trust store alone.
    // The AP certificate the receipt must be signed with: the caller's, else the one the peer's entry pins.
    const pinned = input.apCertificatePem ?? peer?.apCertificatePem;
    requirePinnedPeer(input.endpoint, pinned, options.as4.peers);
    const attachments: Attachment[] = input.parts.map((part, i) => {
      const contentId = `part-${i + 1}@qerds-ap`;
      // A large part stays a stream from the blob store to the wire.
      return Buffer.isBuffer(part.body)
        ? { contentId, contentType: part.contentType, body: part.body }
        : streamedAttachment(contentId, part.contentType, part.body);
    });
    const erdsMessage = (): UserMessage => ({
      messageId: input.messageId,
      timestamp: now(),
      refToMessageId: input.refToMessageId,
      from: pmode.initiator ?? { partyId: options.self.id, role: EBMS_INITIATOR_ROLE },
      // Without a directory-given party id, the peer's endpoint URL names it (a URI, as ebMS wants for untyped ids).
      to: pmode.responder ?? { partyId: input.endpoint, role: EBMS_RESPONDER_ROLE },
      collaboration: {
        ...(pmode.agreement ? { agreementRef: pmode.agreement } : {}),
        service: ERDS_SERVICE,
        action: input.action,
        conversationId: input.conversationId,
      },
      messageProperties: [
        ...(input.sender
          ? [
              {
                name: 'originalSender',
                value: formatParticipantId(input.sender),
                type: ERDS_PARTICIPANT_ID_TYPE,
              },
            ]
          : []),
        ...(input.recipient
          ? [
              {
                name: 'finalRecipient',
                value: formatParticipantId(input.recipient),
                type: ERDS_PARTICIPANT_ID_TYPE,
              },
            ]
          : []),
        ...(input.extraProperties ?? []),
      ],
      payloads: input.parts.map((part, i) => ({
        href: `cid:${attachments[i]!.contentId}`,
        mimeType: part.contentType,
        properties: [
          { name: 'PartId', value: part.partId },
          ...(part.filename ? [{ name: 'FileName', value: part.filename }] : []),
          // E2E ciphertext: the type of the plaintext inside, for C4 (like MimeType beside CompressionType in AS4).
          ...(part.originalContentType
            ? [{ name: 'OriginalMimeType', value: part.originalContentType }]
            : []),
        ],
      })),
    });
    const message = input.peppol
      ? peppolUserMessage(input.peppol, {
          messageId: input.messageId,
          conversationId: input.conversationId,
          timestamp: now(),
          attachments,
        })
      : erdsMessage();
    const result = await sendUserMessage({
      endpoint: input.endpoint,
      message,
      attachments,
      identity,
      receiverCertificate: pinned ? certificateFrom(pinned) : undefined,
      trust: options.peerTrust ?? options.trust,
      timeoutMs: options.timeoutMs,
      compress: options.as4.compress && pmode.compress,
      requireNonRepudiation: pmode.receipt.nonRepudiation,
      // Peppol AP certificates carry clientAuth alone; the Peppol AP check below judges them as AP certificates.
      tlsEkuSigners: options.as4.profile === peppolAs4Profile.id,
      ...(encryptFor ? { encryptFor } : {}),
      ...(options.tls ? { http: options.tls.forPeer(peerTlsPins(peer)) } : {}),
      ...(options.pack ? { pack: options.pack } : {}),
    });
    // Threat: a receipt (proof of relay, bound in C2's RelayAcceptance) signed by a certificate that chains to some
    // anchor of pki.trust but is no Peppol AP's: it must not count as delivery to a Peppol AP.
    if (options.peppolPeers && (input.peppol || issuedByPeppolApCa(result.signer, options.peppolPeers)))
      await requirePeppolApCertificate(result.signer, { ...options.peppolPeers, at: now() }).catch(
        (error: unknown) => {
          throw receiptRefused(input.endpoint, error);
        },
      );
    return { receiptXml: result.receiptXml };
  };
  // Evidence bound for one AP shares Evidence messages (group commit, see core/group-sender.ts): under load
  // one signed, encrypted exchange carries many evidences instead of one each.
  const sendEvidenceGroup = createGroupSender<EvidenceReturn, { receiptXml: string }>({
    maxItems: EVIDENCE_PER_MESSAGE,
    maxBytes: EVIDENCE_BYTES_PER_MESSAGE,
    sizeOf: (item) => item.evidence.xml.length,
    send: async (_key, items) => {
      const answer = await send(evidenceMessage(items));
      options.onEvidenceReturned?.(items.length);
      return answer;
    },
    // The peer answered an ebMS Error: one evidence may be what it refused, so each goes again on its own. An
    // unreachable peer (no signal) fails the group, and the notify jobs retry it later, grouped again.
    retryAlone: (error) => isQerdsError(error) && Array.isArray(error.details?.errors),
  });
  return {
    sendMessage: async (input) => {
      // The entry the relay took the endpoint from: for an SMP answer, the one of this document type.
      const peer = input.peer ?? (await options.directory.lookup(input.recipient));
      if (peerSpeaksPeppol(peer, options.as4.profile)) {
        const apCertificatePem = input.apCertificatePem ?? peer?.apCertificatePem;
        const peppol = await peppolDispatch({
          ...input,
          pmodes: options.as4.pmodes,
          ownCertificate: options.identity.certificate,
          peerCertificatePem: apCertificatePem,
        });
        const parts = [peppol.part];
        const sent = await send({
          endpoint: input.endpoint,
          ...(apCertificatePem ? { apCertificatePem } : {}),
          peer,
          messageId: input.ebmsMessageId,
          conversationId: input.ebmsMessageId,
          action: peppol.collaboration.action,
          parts,
          peppol,
        }).catch((error: unknown) => {
          throw finalPeppolRefusal(error);
        });
        // A Peppol C3 that is not a qerds-ap returns no ERDS evidence: C2 binds the receipt in its own RelayAcceptance.
        return { ...sent, recordRelayAcceptance: true };
      }
      return send({
        ...input,
        ...(peer ? { peer } : {}),
        messageId: input.ebmsMessageId,
        conversationId: input.ebmsMessageId,
        action: ACTION_DISPATCH,
        extraProperties: [
          { name: 'submissionTime', value: input.submittedAt.toISOString() },
          ...(input.subject ? [{ name: 'subject', value: input.subject }] : []),
        ],
      });
    },
    sendEvidence: async (input) => {
      // Grouped only with evidence for the same peer entry: same endpoint, same pinned and encryption certificates.
      const peer = await options.directory.lookup(input.recipient);
      const key = [
        peerSpeaksPeppol(peer, options.as4.profile) ? 'peppol' : 'erds',
        input.endpoint,
        input.apCertificatePem ?? '',
        peer?.apEncryptionCertificatePem ?? '',
        JSON.stringify(peerTlsPins(peer) ?? null),
      ].join('\n');
      return sendEvidenceGroup(key, { ...input, peer });
    },
  };
}

/**
 * The /as4 endpoint: verified UserMessages go to reception (Dispatch) or to the returned-evidence intake
 * (Evidence). Secure by default: a message must match one of this AP's P-Modes (EBMS:0010) and meet its
 * security (signed with its algorithm, every payload encrypted when it wants encryption: EBMS:0101/0102/0103);
 * otherwise it is answered with the error and dropped, never handed to the pipeline.
 */
export function createAs4Endpoint(
  ctx: PipelineContext,
  options: {
    identity: SigningIdentity;
    trust: TrustStore;
    maxMessageBytes: number;
    as4: As4Security;
    /** The server asks clients for TLS certificates: the sender's AP must then present the one the directory pins. @defaultValue false */
    mutualTls?: boolean;
    /** Limits of the SOAP envelope (`as4.envelope`). @defaultValue the as4 handler's DEFAULT_ENVELOPE_LIMITS */
    envelopeLimits?: EnvelopeLimits;
    /**
     * Peppol AS4 profile with `pki.peppolAnchors`: the signer of every UserMessage must be a Peppol AP certificate
     * under the network's AP CAs, not revoked (peppol-peer-check.ts), before anything is read or recorded.
     */
    peppolPeers?: PeppolPeerPolicy;
    /** Where receipts are built and signed (the AP's worker pool). @defaultValue this thread */
    receiptBuilder?: (input: ReceiptInput) => Promise<string>;
  },
): RequestHandler {
  return createAs4Handler({
    ...(options.receiptBuilder ? { receiptBuilder: options.receiptBuilder } : {}),
    ...(options.envelopeLimits ? { envelopeLimits: options.envelopeLimits } : {}),
    identity: options.identity,
    trust: options.trust,
    // Peppol AP certificates carry clientAuth alone; peppolPeers then judges the signer as a Peppol AP certificate.
    tlsEkuSigners: options.as4.profile === peppolAs4Profile.id,
    maxMessageBytes: options.maxMessageBytes,
    pmodes: options.as4.pmodes,
    decryptionKeys: [...new Set([options.as4.encryption, options.as4.erds.encryption])],
    // A Peppol message, or an ERDS one from a Peppol AP (its returned evidence), is answered with the Peppol AP
    // certificate; an ERDS message from a qerds-ap not on Peppol with the ERDS identity it pins for this AP.
    receiptIdentity: (pmode, signer) =>
      pmode?.service !== ERDS_SERVICE || signedAsPeppolAp(signer, options.peppolPeers)
        ? options.identity
        : options.as4.erds.signing,
    // Peppol: a document type or process no P-Mode names is "not serviced" (EBMS:0004 PEPPOL:NOT_SERVICED), not EBMS:0010.
    ...(options.as4.profile === peppolAs4Profile.id ? { noPModeRefusal: peppolNotServiced } : {}),
    maxDecompressedBytes: options.as4.maxDecompressedBytes,
    onUserMessage: async ({ message, attachments, signer, tlsClientCertificate }) => {
      // Authentication first: a peer that is no Peppol AP gets EBMS:0101 and leaves nothing on the record, whatever
      // it sent (a Peppol Dispatch, or an ERDS Evidence message between two qerds-ap on the Peppol network).
      // A qerds-ap peer over the ERDS service is held to its pin (and OCSP) below, unless its certificate is one of the
      // Peppol PKI: an AP serving both kinds of peers does not hold ERDS peers to the Peppol AP profile.
      const peppolChecked =
        options.peppolPeers !== undefined &&
        (message.collaboration.service !== ERDS_SERVICE || issuedByPeppolApCa(signer, options.peppolPeers));
      if (peppolChecked)
        await requirePeppolApCertificate(signer, { ...options.peppolPeers!, at: ctx.clock.now() });
      if (options.as4.profile === peppolAs4Profile.id && message.collaboration.service !== ERDS_SERVICE) {
        // The handler matched a Peppol P-Mode (service = a Peppol process): an SBD, not an ERDS Dispatch.
        await receivePeppolDispatch(ctx, { message, attachments, signer, tlsClientCertificate }, options);
        return;
      }
      if (message.collaboration.service !== ERDS_SERVICE) {
        throw new QerdsError('AS4_EBMS_0010', `no P-Mode for service ${message.collaboration.service}`);
      }
      try {
        const property = (name: string) => message.messageProperties.find((p) => p.name === name)?.value;
        const participant = (name: string) => {
          const value = property(name);
          if (!value) throw new QerdsError('AS4_EBMS_0009', `message property ${name} is missing`);
          return parseParticipantId(value);
        };
        if (message.collaboration.action === ACTION_EVIDENCE) {
          // One payload per evidence (several when the recipient's AP grouped them); accepted whole or refused whole.
          const xmls = attachments.map((a) => a.body.toString('utf8'));
          if (xmls.length === 0 || xmls.some((xml) => xml.length === 0))
            throw new QerdsError('AS4_EBMS_0007', 'evidence message carries no payload');
          // Returned evidence comes from the AP of its message's recipient: with mutual TLS, the client must be that AP.
          const alsoCheck = options.mutualTls
            ? (one: CheckedReturnedEvidence) =>
                requireTlsPeer(ctx, one.message.recipient, tlsClientCertificate)
            : undefined;
          await acceptReturnedEvidenceGroup(ctx, xmls, signer.fingerprint256, alsoCheck);
          return;
        }
        if (message.collaboration.action !== ACTION_DISPATCH) {
          throw new QerdsError('AS4_EBMS_0010', `no P-Mode for action ${message.collaboration.action}`);
        }
        const parts: RelayPart[] = message.payloads.map((info) => {
          const contentId = info.href.replace(/^cid:/, '');
          const attachment = attachments.find((a) => a.contentId === contentId);
          if (!attachment) throw new QerdsError('AS4_EBMS_0007', `payload ${info.href} has no MIME part`);
          const prop = (name: string) => info.properties.find((p) => p.name === name)?.value;
          const originalContentType = prop('OriginalMimeType');
          return {
            partId: prop('PartId') ?? contentId,
            contentType: info.mimeType,
            filename: prop('FileName'),
            ...(originalContentType ? { originalContentType } : {}),
            body: attachment.stream ?? attachment.body,
          };
        });
        const sender = participant('originalSender');
        await requireSenderAp(ctx, sender, signer, options.as4.peers);
        if (options.mutualTls) await requireTlsPeer(ctx, sender, tlsClientCertificate);
        // With Peppol peers, the Peppol check above asked the signer's OCSP responder already.
        if (!peppolChecked) await requireNotRevokedByOcsp(signer, options.trust, ctx.clock.now());
        await receiveMessage(ctx, {
          ebmsMessageId: message.messageId,
          sender,
          recipient: participant('finalRecipient'),
          subject: property('subject'),
          submittedAt: parseTime(property('submissionTime')),
          parts,
          fromErds: { id: message.from.partyId, name: subjectCommonName(signer.subject) ?? signer.subject },
        });
      } catch (error) {
        if (isQerdsError(error) && error.code.startsWith('AS4_EBMS_')) throw error;
        // Pipeline refusals name their ebMS code (an unknown recipient is EBMS:0001); others are "Other" (0004).
        const named = isQerdsError(error) ? error.details?.ebmsCode : undefined;
        const ebmsCode = typeof named === 'string' && isEbmsErrorCode(named) ? named : 'EBMS:0004';
        throw new QerdsError(
          qerdsCodeOf(ebmsCode),
          isQerdsError(error) ? error.message : 'processing failed',
          { cause: error },
        );
      }
    },
  });
}

/**
 * C3 under the Peppol profile: the SBD is read and held against the AS4 header (as4-peppol.ts), the signer must be
 * the AP the directory pins for the sender (as for an ERDS Dispatch), and the message goes to reception. An SBD
 * that contradicts its header is recorded as rejected (RelayRejection, returned to C2) and refused with EBMS:0004
 * naming the mismatch; a receiver this AP does not serve with EBMS:0004 PEPPOL:NOT_SERVICED.
 */
async function receivePeppolDispatch(
  ctx: PipelineContext,
  received: {
    message: UserMessage;
    attachments: readonly Attachment[];
    signer: X509Certificate;
    tlsClientCertificate?: X509Certificate | undefined;
  },
  options: { as4: As4Security; trust: TrustStore; mutualTls?: boolean; peppolPeers?: PeppolPeerPolicy },
): Promise<void> {
  const { message, signer } = received;
  const payloads = await Promise.all(
    received.attachments.map(async (a) => ({
      body: a.stream ? await readAtMost(a.stream.open(), PEPPOL_SBD_MAX_BYTES) : a.body,
    })),
  );
  const reception = readPeppolDispatch(message, payloads);
  // Authentication before anything is recorded: only the sender's own AP can have its SBD refused on the record.
  await requireSenderAp(ctx, reception.sender, signer, options.as4.peers);
  if (options.mutualTls) await requireTlsPeer(ctx, reception.sender, received.tlsClientCertificate);
  // With Peppol peers, the endpoint's Peppol AP check asked the signer's OCSP responder already.
  if (!options.peppolPeers) await requireNotRevokedByOcsp(signer, options.trust, ctx.clock.now());
  try {
    await receiveMessage(ctx, {
      ebmsMessageId: message.messageId,
      sender: reception.sender,
      recipient: reception.recipient,
      ...(reception.submittedAt ? { submittedAt: reception.submittedAt } : {}),
      parts: [reception.part],
      fromErds: { id: message.from.partyId, name: subjectCommonName(signer.subject) ?? signer.subject },
      ...(reception.refusal ? { refusal: reception.refusal } : {}),
      ...(reception.receptionKey ? { receptionKey: reception.receptionKey } : {}),
    });
  } catch (error) {
    if (isQerdsError(error, 'PIPELINE_UNKNOWN_RECIPIENT'))
      throw new QerdsError('AS4_EBMS_0004', PEPPOL_NOT_SERVICED, {
        cause: error,
        details: { retryable: false },
      });
    throw error;
  }
}

/** A receipt whose signer failed the Peppol AP check: the relay attempt fails with the reason (EBMS:0101). */
function receiptRefused(endpoint: string, error: unknown): unknown {
  if (!isQerdsError(error)) return error;
  return new QerdsError(
    error.code,
    `the receipt from ${endpoint} is not signed by a Peppol AP: ${error.message}`,
    {
      cause: error,
      details: { retryable: error.details?.retryable !== false },
    },
  );
}

/** Largest SBD read into memory at C3, bytes. */
const PEPPOL_SBD_MAX_BYTES = 64 * 1024 * 1024;

/** The signer of a Dispatch must be the AP the directory names for its sender (as4-security.ts requirePeerAp). */
async function requireSenderAp(
  ctx: PipelineContext,
  sender: ParticipantId,
  signer: X509Certificate,
  rules: PeerApRules,
): Promise<void> {
  requirePeerAp(formatParticipantId(sender), await ctx.directory.lookup(sender), signer, rules);
}

/**
 * Mutual TLS: when the directory pins the TLS certificate of the AP serving `participant`, the connection must
 * have presented it (threat: a stolen or replayed signed message posted from elsewhere, or from another AP the
 * client CA trusts). Without a pin, the handshake's check against the client CA is all.
 */
async function requireTlsPeer(
  ctx: PipelineContext,
  participant: ParticipantId,
  certificate: X509Certificate | undefined,
): Promise<void> {
  const pins = peerTlsPins(await ctx.directory.lookup(participant));
  if (!pins) return;
  if (!certificate)
    throw new QerdsError(
      'AS4_EBMS_0101',
      `no verified TLS client certificate, and the directory pins one for the access point of ${formatParticipantId(participant)}`,
    );
  const why = pinMismatch(certificate, pins);
  if (why)
    throw new QerdsError(
      'AS4_EBMS_0101',
      `TLS client ${why} (access point of ${formatParticipantId(participant)})`,
    );
}

function parseTime(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const time = new Date(text);
  if (Number.isNaN(time.getTime()))
    throw new QerdsError('AS4_EBMS_0009', `message property submissionTime is not a time: ${text}`);
  return time;
}
/**
 * Whether `signer` signs as a Peppol AP: issued by an AP CA of `pki.peppolAnchors`, or, without them, a certificate
 * with TLS extended key usages only (the profile of a Peppol AP certificate), which no ERDS peer signs with.
 */
function signedAsPeppolAp(signer: X509Certificate, policy: PeppolPeerPolicy | undefined): boolean {
  if (policy) return issuedByPeppolApCa(signer, policy);
  return checkCertificateRole(signer, 'as4-signer').some((f) => f.severity === 'error');
}

/** Whether `cert` was issued by one of the Peppol AP CAs of `policy` (a Peppol AP certificate, whatever its state). */
function issuedByPeppolApCa(cert: X509Certificate, policy: PeppolPeerPolicy): boolean {
  return policy.trust.anchors.some((anchor) => cert.checkIssued(anchor));
}
