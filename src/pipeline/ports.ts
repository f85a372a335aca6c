import type { Logger } from 'pino';
import type { Clock, EvidenceEvent, IdGenerator, Identification, ParticipantDetails, ParticipantId, ReasonCode } from '../core/index.js';
import type { Directory } from '../directory/index.js';
import type { Store, StoredMessage } from '../store/types.js';
import type { Queue } from './types.js';

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
}

export interface EvidenceVerifier {
  check(xml: string): Promise<EvidenceCheck>;
}

export interface OutgoingPart {
  readonly partId: string;
  readonly contentType: string;
  readonly filename?: string;
  /** Content type of the plaintext when `body` is C2's end-to-end ciphertext (a part property on the wire). */
  readonly originalContentType?: string;
  readonly body: Buffer;
}

/** The AP-to-AP hop (AS4 today; SMTP relay binding later), as the stages see it. */
export interface Transport {
  sendMessage(input: {
    readonly endpoint: string;
    readonly apCertificatePem?: string;
    readonly ebmsMessageId: string;
    readonly sender: ParticipantId;
    readonly recipient: ParticipantId;
    readonly subject?: string;
    /** When C1 submitted it (the SubmissionTime that C3's evidence repeats). */
    readonly submittedAt: Date;
    readonly parts: readonly OutgoingPart[];
  }): Promise<{ readonly receiptXml: string }>;
  sendEvidence(input: {
    readonly endpoint: string;
    readonly apCertificatePem?: string;
    readonly refToEbmsMessageId: string;
    readonly sender: ParticipantId;
    readonly recipient: ParticipantId;
    readonly evidence: IssuedEvidence;
  }): Promise<{ readonly receiptXml: string }>;
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
  | { readonly status: 'refused'; readonly permanent: boolean; readonly replyCode?: number; readonly response: string };

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
  /** REM Dispatch: the content of `message` with `evidence` (its ContentConsignment), to `to`. */
  sendDispatch(input: {
    readonly to: string;
    readonly message: StoredMessage;
    readonly parts: readonly OutgoingPart[];
    readonly evidence: IssuedEvidence;
  }): Promise<MailSendResult>;
  /** REM Receipt: one evidence about `message`, to its sender's address `to`. */
  sendReceipt(input: { readonly to: string; readonly message: StoredMessage; readonly evidence: IssuedEvidence }): Promise<MailSendResult>;
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
  /** Registered e-mail (REM): delivery by mail and evidence by mail; absent when no outbound SMTP is configured. */
  readonly mail?: MailTransport;
  /** Retry budget of mail delivery and evidence mail (4xx replies, connection failures). @defaultValue relayRetry */
  readonly mailRetry?: RetryPolicy;
  /** Called after a commit that enqueued work, so the dispatcher polls at once. */
  readonly poke: () => void;
}
