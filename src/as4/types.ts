/**
 * Contracts of the AS4 module. The model mirrors the ebMS 3.0 header schema
 * (ebms-header-3_0-200704.xsd); rules live in the parser, the verifier and the handler.
 */
import type { X509Certificate } from 'node:crypto';
import type { Clock, IdGenerator } from '../core/index.js';
import type { Finding, SigningIdentity, TrustStore } from '../pki/types.js';
import type { EbmsErrorCode } from './ebms-errors.js';

export type SoapVersion = '1.1' | '1.2';

/** `<eb:PartyId type="…">value</eb:PartyId>` with the `<eb:Role>` of eb:From / eb:To. */
export interface PartyRef {
  readonly partyId: string;
  readonly partyIdType?: string;
  readonly role: string;
}

/** `<eb:Property name="…" type="…">value</eb:Property>` */
export interface Property {
  readonly name: string;
  readonly value: string;
  readonly type?: string;
}

/**
 * ```xml
 * <xsd:complexType name="CollaborationInfo">
 *   <xsd:element name="AgreementRef" type="tns:AgreementRef" minOccurs="0"/>
 *   <xsd:element name="Service" type="tns:Service"/>
 *   <xsd:element name="Action" type="xsd:token"/>
 *   <xsd:element name="ConversationId" type="xsd:token"/>
 * ```
 */
export interface CollaborationInfo {
  readonly agreementRef?: string;
  readonly service: string;
  readonly serviceType?: string;
  readonly action: string;
  readonly conversationId: string;
}

/**
 * `<eb:PartInfo href="cid:…">` with its PartProperties. `mimeType` is carried as the
 * `MimeType` part property (eDelivery AS4); `properties` are the other part properties.
 */
export interface PartInfo {
  readonly href: string;
  readonly mimeType: string;
  readonly properties: readonly Property[];
}

/** An ebMS 3 UserMessage (eb:Messaging/eb:UserMessage). */
export interface UserMessage {
  /** eb:MessageInfo/eb:MessageId: RFC 2822 msg-id without angle brackets, e.g. `uuid@ap.example`. */
  readonly messageId: string;
  readonly timestamp: Date;
  readonly refToMessageId?: string;
  readonly from: PartyRef;
  readonly to: PartyRef;
  readonly collaboration: CollaborationInfo;
  /** eb:MessageProperties: `originalSender`, `finalRecipient` (four-corner model), … */
  readonly messageProperties: readonly Property[];
  readonly payloads: readonly PartInfo[];
}

/** A MIME part beside the SOAP envelope. `contentId` without angle brackets. */
export interface Attachment {
  readonly contentId: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** One ds:Reference of a signature, as verified or as made. */
export interface SignatureReference {
  readonly uri: string;
  readonly transforms: readonly string[];
  readonly digestMethod: string;
  /** base64 */
  readonly digestValue: string;
  /** The ds:Reference element itself (copied into NRR receipts). */
  readonly element: Element;
}

/** eb:SignalMessage/eb:Error (ebMS 3.0 Core §6.2). */
export interface ErrorSignal {
  readonly errorCode: string;
  readonly severity: string;
  readonly category?: string;
  readonly shortDescription?: string;
  readonly origin?: string;
  readonly refToMessageInError?: string;
  readonly description?: string;
  readonly errorDetail?: string;
}

/** A parsed eb:SignalMessage carrying eb:Receipt. */
export interface ParsedReceipt {
  readonly messageId: string;
  readonly timestamp: Date;
  readonly refToMessageId: string;
  /** ebbp:MessagePartNRInformation/ds:Reference entries; empty for a non-NRR receipt. */
  readonly nonRepudiation: readonly { uri: string; digestMethod: string; digestValue: string }[];
}

export interface ParsedSignalInfo {
  readonly messageId: string;
  readonly timestamp: Date;
  readonly refToMessageId?: string;
}

export type ParsedEnvelope =
  | { readonly kind: 'user'; readonly soapVersion: SoapVersion; readonly document: Document; readonly messaging: Element; readonly message: UserMessage }
  | { readonly kind: 'receipt'; readonly soapVersion: SoapVersion; readonly document: Document; readonly messaging: Element; readonly receipt: ParsedReceipt }
  | { readonly kind: 'error'; readonly soapVersion: SoapVersion; readonly document: Document; readonly messaging: Element; readonly signal: ParsedSignalInfo; readonly errors: readonly ErrorSignal[] };

export interface SignOptions {
  /** Add a signed wsu:Timestamp. @defaultValue undefined (none: the eDelivery profiles do not require one) */
  readonly timestamp?: { readonly created: Date; /** seconds @defaultValue 300 */ readonly ttlSeconds?: number };
}

export interface SignResult {
  readonly document: Document;
  readonly references: readonly SignatureReference[];
}

export interface VerifyOptions {
  /** Signer must chain to these anchors (at `at`). */
  readonly trust?: TrustStore;
  /** Signer must be exactly this certificate; also resolves issuer/serial and SKI references. */
  readonly expectedCertificate?: X509Certificate;
  /** Validation time. @defaultValue now */
  readonly at?: Date;
}

export interface VerifyResult {
  readonly valid: boolean;
  readonly signer?: X509Certificate;
  /** What the valid references cover: `Messaging`, `Body`, `Timestamp`, `cid:…`. */
  readonly signedParts: readonly string[];
  readonly references: readonly SignatureReference[];
  readonly findings: readonly Finding[];
}

export interface ReceivedUserMessage {
  readonly message: UserMessage;
  readonly attachments: readonly Attachment[];
  readonly signer: X509Certificate;
  readonly envelopeXml: string;
}

export interface As4HandlerOptions {
  readonly identity: SigningIdentity;
  readonly trust: TrustStore;
  /** Largest accepted request body, bytes. @defaultValue 104857600 (100 MiB) */
  readonly maxMessageBytes?: number;
  readonly clock?: Clock;
  readonly idGenerator?: IdGenerator;
  /** Stores the message (and drops duplicates). Throw QerdsError `AS4_EBMS_nnnn` to answer with that error. */
  onUserMessage(received: ReceivedUserMessage): Promise<void>;
}

export interface SendUserMessageOptions {
  readonly endpoint: string;
  readonly message: UserMessage;
  readonly attachments: readonly Attachment[];
  readonly identity: SigningIdentity;
  /** The receiving AP's certificate: the receipt must be signed by it. */
  readonly receiverCertificate?: X509Certificate;
  /** Anchors the receipt signer must chain to. */
  readonly trust?: TrustStore;
  /** @defaultValue 60000 (ms) */
  readonly timeoutMs?: number;
}

export interface SendUserMessageResult {
  readonly receipt: ParsedReceipt;
  readonly receiptXml: string;
  readonly httpStatus: number;
}

export interface SignalOptions {
  readonly soapVersion?: SoapVersion;
  readonly clock?: Clock;
  readonly idGenerator?: IdGenerator;
}

export type { EbmsErrorCode };
