import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type {
  Clock,
  EvidenceEvent,
  IdGenerator,
  Identification,
  ParticipantDetails,
  ParticipantId,
  PayloadPart,
  ReasonCode,
} from '../core/index.js';
import type { Directory, DirectoryEntry, DirectoryService } from '../directory/index.js';
import type { Store, StoredMessage } from '../store/types.js';
import type { JobCompletion, Queue } from './types.js';
import type { PickupLinks } from './pickup-link.js';

/** What the stages need to issue one sealed evidence; the composition root fills issuer and policy. */
export interface EvidenceRequest {
  readonly event: EvidenceEvent;
  readonly reason?: { readonly code: ReasonCode; readonly details?: string };
  readonly message: Pick<StoredMessage, 'ebmsMessageId' | 'sender' | 'recipient' | 'parts' | 'submittedAt'>;
  readonly senderIdentification?: Identification;
  readonly recipientIdentification?: Identification;
  readonly previousEvidenceId?: string;
  readonly externalErds?: { readonly name: string; readonly id: string };
}

export interface IssuedEvidence {
  readonly id: string;
  readonly event: EvidenceEvent;
  readonly eventTime: Date;
  readonly xml: string;
}

export interface EvidenceIssuer {
  /** Builds the EN 319 522-3 XML, seals it (XAdES-B-T) and returns it. Stores nothing. */
  issue(request: EvidenceRequest): Promise<IssuedEvidence>;
}

/** Verdict on evidence received from another AP. */
export interface EvidenceCheck {
  readonly valid: boolean;
  readonly reason?: string;
  readonly id: string;
  readonly event: EvidenceEvent;
  readonly eventTime: Date;
  /** ebMS MessageId the evidence is about. */
  readonly messageId: string;
  readonly issuerId: string;
  /** `scheme:value` of the sender and recipient the evidence names. */
  readonly sender: string;
  readonly recipient: string;
  /** SHA-256 fingerprint (node's colon form) of the certificate that sealed it. */
  readonly sealFingerprint?: string;
  /** How the issuer was bound to the seal certificate (its organizationIdentifier, or a pin handed to `check`). */
  readonly issuerBinding?: 'organizationIdentifier' | 'directory-pin';
  /** The seal certificate names no organizationIdentifier and no pin bound it (EVIDENCE_ISSUER_UNBOUND). */
  readonly issuerUnbound?: boolean;
}

/** Whose e-seal C2 takes on evidence returned about its messages (returned-evidence.ts). */
export interface PeerSealRules {
  /** SHA-256 fingerprint (node's colon form) of this AP's own e-seal: only evidence naming this AP as issuer may carry it. */
  readonly ownSealFingerprint?: string;
  /** `pki.unpinnedPeers`: take a peer the directory pins no AP certificate for. @defaultValue false */
  readonly unpinnedPeers?: boolean;
}

export interface EvidenceVerifier {
  /**
   * `issuerPins`: seal certificates the directory names as an issuer's (SHA-256 fingerprint, colon form); they bind a
   * seal certificate without organizationIdentifier to that issuer.
   */
  check(
    xml: string,
    options?: { readonly issuerPins?: readonly { issuerId: string; fingerprint256: string }[] },
  ): Promise<EvidenceCheck>;
}

export interface OutgoingPart {
  readonly partId: string;
  readonly contentType: string;
  readonly filename?: string;
  /** Content type of the plaintext when `body` is C2's end-to-end ciphertext (a part property on the wire). */
  readonly originalContentType?: string;
  readonly body: Buffer;
}

/** Payload octets read as a stream (a blob, a spooled file), as often as needed: large payloads are never held in memory. */
export interface PayloadSource {
  /** bytes */
  readonly size: number;
  open(): Readable;
}

/** A part on the AP-to-AP hop: small ones in memory, large ones as a PayloadSource. */
export type RelayPart = Omit<OutgoingPart, 'body'> & { readonly body: Buffer | PayloadSource };

/**
 * What the peer AP answered to a relayed message. AS4: its signed receipt, verified (the message is relayed).
 * SMTP relay binding: a 250 after C3 committed the message; that C3 took it over is proven by the RelayAcceptance
 * C3 issues and returns (EN 319 522-1), which moves the message on at C2 (returned-evidence.ts).
 */
export type RelayAnswer =
  | {
      readonly receiptXml: string;
      /**
       * C2 records its own RelayAcceptance bound to this receipt: the peer (a Peppol AP) may return no ERDS evidence
       * of its own. @defaultValue false (the peer, a qerds-ap, returns its RelayAcceptance)
       */
      readonly recordRelayAcceptance?: boolean;
    }
  | { readonly smtpResponse: string };

/** The AP-to-AP hop (AS4, or the REM SMTP binding for peers the directory names by an `smtp://` endpoint), as the stages see it. */
export interface Transport {
  sendMessage(input: {
    readonly endpoint: string;
    /** The directory entry's transport profile, when it names one (see directory/transport-profile.ts). */
    readonly transportProfile?: string;
    readonly apCertificatePem?: string;
    readonly ebmsMessageId: string;
    readonly sender: ParticipantId;
    readonly recipient: ParticipantId;
    readonly subject?: string;
    /** When C1 submitted it (the SubmissionTime that C3's evidence repeats). */
    readonly submittedAt: Date;
    readonly parts: readonly RelayPart[];
    /** The message's SubmissionAcceptance: the SMTP binding carries it as the dispatch's xml_evidence (AS4 does not). */
    readonly submissionEvidence?: IssuedEvidence;
    /**
     * The directory entry `endpoint` came from (for the message's service: an SMP answer is per document type), so
     * that the transport pins and encrypts for the certificates of that same answer. @defaultValue looked up again
     */
    readonly peer?: DirectoryEntry;
  }): Promise<RelayAnswer>;
  /** May carry evidences bound for the same AP together (AS4: several payloads in one Evidence message). */
  sendEvidence(input: {
    readonly endpoint: string;
    readonly transportProfile?: string;
    readonly apCertificatePem?: string;
    readonly refToEbmsMessageId: string;
    readonly sender: ParticipantId;
    readonly recipient: ParticipantId;
    readonly evidence: IssuedEvidence;
  }): Promise<RelayAnswer>;
}

/** Names participants for evidence (local accounts and directory). */
export interface ParticipantResolver {
  details(id: ParticipantId, identification?: Identification): Promise<ParticipantDetails>;
  /** Whether the participant has an account at this AP (a recipient C3 can hand over to). */
  isLocal(id: ParticipantId): Promise<boolean>;
}

export interface RetryPolicy {
  /** Attempts before the stage gives up. */
  readonly maxAttempts: number;
  /** First delay, ms; doubles per attempt with jitter. */
  readonly baseDelayMs: number;
  /** Cap of the delay, ms. */
  readonly maxDelayMs: number;
}

/** What an SMTP server answered to one mail (see MailTransport). */
export type MailSendResult =
  | { readonly status: 'accepted'; readonly response: string }
  /** `permanent`: a 5xx reply to the mail itself (RFC 5321 §4.2.1), never retried; else 4xx, or no reply (connection, TLS, AUTH, timeout). */
  | {
      readonly status: 'refused';
      readonly permanent: boolean;
      readonly replyCode?: number;
      readonly response: string;
    };

/**
 * Registered e-mail (EN 319 532-3 REM messages) as the stages see it: C3 → C4 delivery of a REM Dispatch
 * to a recipient's registered mailbox, and C2 → C1 REM Receipts carrying each evidence back to the
 * sender. The binding builds and signs the REM message (S/MIME by the AP's e-seal) and sends it.
 */
export interface MailTransport {
  /** The registered delivery address of a local recipient (store-and-forward by mail), if it has one. */
  deliveryAddress(recipient: ParticipantId): string | undefined;
  /** The address of a sender that gets its evidence by mail, if any. */
  evidenceAddress(sender: ParticipantId): string | undefined;
  /**
   * The plain e-mail address of a recipient outside any ERDS (participant `email:<address>`) when the
   * sender policy allows relaying to non-ERDS recipients (`smtp.relayToNonErds`); else undefined. Such a
   * message is relayed by `sendDispatch` with its SubmissionAcceptance, see non-erds-relay.ts.
   */
  nonErdsAddress(recipient: ParticipantId): string | undefined;
  /** REM Dispatch: the content of `message` with `evidence` (its ContentConsignment), to `to`. */
  sendDispatch(input: {
    readonly to: string;
    readonly message: StoredMessage;
    readonly parts: readonly OutgoingPart[];
    readonly evidence: IssuedEvidence;
  }): Promise<MailSendResult>;
  /** REM Receipt: one evidence about `message`, to its sender's address `to`. */
  sendReceipt(input: {
    readonly to: string;
    readonly message: StoredMessage;
    readonly evidence: IssuedEvidence;
  }): Promise<MailSendResult>;
  /**
   * REM notification to a local recipient's registered address (its `deliveryAddress`): a message awaits its
   * acceptance, or is consigned for pickup (store-and-notify). Never the content: the introduction gives the
   * links, and the message's latest evidence (`evidence`, e.g. C3's RelayAcceptance) is attached.
   */
  sendNotification(input: {
    readonly to: string;
    readonly notice: RecipientNotice;
    readonly links: NoticeLinks;
    readonly evidence: IssuedEvidence;
  }): Promise<MailSendResult>;
}

/** Where a notice sends the recipient: pickup always; accept and reject when it asks for acceptance. */
export interface NoticeLinks {
  readonly pickup: string;
  readonly accept?: string;
  readonly reject?: string;
}

/** End-to-end encryption rules applied at submission (see PipelineContext.endToEnd). */
export interface EndToEndPolicy {
  /** Why the recipient's encryption certificate (PEM, from the directory) may not be used now; undefined when it may. */
  certificateRefusal(pem: string): string | undefined;
  /** Whether content from `sender` to `recipient` must be encrypted end to end: refused rather than relayed as submitted. */
  required(sender: ParticipantId, recipient: ParticipantId): boolean;
}

/**
 * How C3 consigns to one local recipient (EN 319 522-1): with or without its acceptance first, and into the
 * inbox (ContentConsignment) or by store-and-notify (ConsignmentNotification).
 */
export interface ConsignmentPolicy {
  /** Ask the recipient to accept first, with this long to answer (ms); absent: no acceptance step. */
  readonly acceptance?: { readonly windowMs: number };
  /** `inbox`: ContentConsignment; `notify`: keep the content and notify the recipient with its pickup URL. */
  readonly mode: 'inbox' | 'notify';
}

/** What C3 tells a recipient; never the content (EN 319 522-1 notifications carry none). */
export interface RecipientNotice {
  readonly kind: 'NotificationForAcceptance' | 'ConsignmentNotification';
  readonly message: StoredMessage;
  /** NotificationForAcceptance: the end of the acceptance window. */
  readonly deadline?: Date;
  /** The message's latest evidence at this AP (attached to a REM notification mail). */
  readonly evidence?: IssuedEvidence;
}

/** What a recipient's notification channel answered; `permanent` refusals are not retried. */
export type NoticeResult =
  | { readonly status: 'sent'; readonly channel: string }
  | { readonly status: 'refused'; readonly permanent: boolean; readonly reason: string };

/** C3 → C4 notifications and the policy that asks for them, per local recipient (webhook today). */
export interface RecipientChannels {
  policy(recipient: ParticipantId): ConsignmentPolicy;
  notify(recipient: ParticipantId, notice: RecipientNotice): Promise<NoticeResult>;
}

/** C2 → C1's ERP: each evidence about the sender's messages, POSTed to its webhook (signed JSON). */
export interface SenderWebhooks {
  /** Whether the sender has an evidence webhook. */
  has(sender: ParticipantId): boolean;
  post(message: StoredMessage, evidence: IssuedEvidence): Promise<NoticeResult>;
}

export interface PipelineContext {
  /** This AP as an ERDS: evidence issuer and ebMS party. */
  readonly self: { readonly id: string; readonly name: string };
  readonly store: Store;
  readonly queue: Queue;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly evidence: EvidenceIssuer;
  readonly evidenceVerifier: EvidenceVerifier;
  readonly transport: Transport;
  readonly directory: Directory;
  readonly participants: ParticipantResolver;
  readonly log: Logger;
  readonly relayRetry: RetryPolicy;
  /** Whose e-seals returned evidence may carry. @defaultValue only the AP certificate the directory pins for the peer */
  readonly peerSeals?: PeerSealRules;
  /**
   * SMTP relay binding: how long after the peer's 250 C2 waits for C3's RelayAcceptance before RelayFailure
   * (RB09). @defaultValue 1 hour
   */
  readonly relayEvidenceTimeoutMs?: number;
  /** Registered e-mail (REM): delivery by mail and evidence by mail; absent when no outbound SMTP is configured. */
  readonly mail?: MailTransport;
  /** Retry budget of mail delivery and evidence mail (4xx replies, connection failures). @defaultValue relayRetry */
  readonly mailRetry?: RetryPolicy;
  /** Retry budget of the evidence webhooks of local senders (`webhooks` of the config). @defaultValue relayRetry */
  readonly webhookRetry?: RetryPolicy;
  /** Evidence webhooks of local senders; absent when none has one. */
  readonly senderWebhooks?: SenderWebhooks;
  /** Consignment policies and notification channels of local recipients; absent: every recipient gets the inbox. */
  readonly recipients?: RecipientChannels;
  /** Called after a commit that enqueued work, so the dispatcher polls at once. */
  readonly poke: () => void;
  /**
   * In a stage's job (set per job by the worker registration, under a runner that settles jobs): the transaction
   * that commits the step's outcome together with the job's completion (JobCompletion). A stage passes it where
   * it commits its outcome (recordEvidence `completesJob`, stepTransaction); absent elsewhere (a REST or AS4
   * request, a bare queue), where those are plain store transactions.
   */
  readonly completion?: JobCompletion;
  /**
   * End-to-end encryption rules at C2 (REQ2): whether the recipient's encryption certificate may be used,
   * and whether content must be encrypted at all. @defaultValue any certificate the directory names is
   * used, and content for a recipient without one is relayed as submitted
   */
  readonly endToEnd?: EndToEndPolicy;
  /**
   * The content rules of the network a routed submission travels on (JP PINT when this AP speaks Peppol): a
   * refusal becomes the SubmissionRejection's reason, and nothing is relayed. @defaultValue no content check
   */
  readonly submissionCheck?: (input: {
    readonly recipient: ParticipantId;
    /** The directory entry the submission was routed to (its AP, its transport profile). */
    readonly entry?: DirectoryEntry;
    readonly parts: readonly PayloadPart[];
  }) => Promise<{ readonly code: ReasonCode; readonly details: string } | undefined>;
  /**
   * The SMP service (document type, process) of a message with these parts, asked of the directory for its
   * recipient at submission, at relay and when its returned evidence is checked (Peppol: the document type of
   * the UBL document). `undefined`: the directory's default. @defaultValue none (every lookup by participant only)
   */
  readonly serviceOf?: (parts: readonly PayloadPart[]) => Promise<DirectoryService | undefined>;
  /** Remote e-seals this AP holds for senders; absent when no sender has one. */
  readonly onBehalfSealer?: OnBehalfSealer;
  /**
   * One-time pickup links for people (REQ4): `ctx.pickupLinks?.buildPickupLink(messageId, recipient)` is the
   * link a ConsignmentNotification mail carries. Absent when this process serves no pickup endpoint.
   */
  readonly pickupLinks?: PickupLinks;
}

/**
 * Seals submitted content on the sender's behalf with the sender's own e-seal key, which the AP holds (in a
 * PKCS#11 token) for senders without their own tooling, so that the content's origin holds from C1 to C4
 * and beyond, without the APs (forwarded use: the recipient can show who sent the content without us).
 */
export interface OnBehalfSealer {
  /**
   * The parts with each unsealed one replaced by its sealed form (stored as a new blob, `sealedOnBehalf`
   * set); parts the sender sealed (or encrypted) itself are returned unchanged. Undefined when the sender
   * has no remote e-seal here.
   */
  seal(sender: ParticipantId, parts: readonly PayloadPart[]): Promise<readonly PayloadPart[] | undefined>;
}
