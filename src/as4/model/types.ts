/**
 * Contracts of the AS4 module. The model mirrors the ebMS 3.0 header schema
 * (ebms-header-3_0-200704.xsd); rules live in the parser, the verifier and the handler.
 */
import type { X509Certificate } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Clock, IdGenerator, QerdsError } from '../../core/index.js';
import type { Finding, SigningIdentity, TrustStore } from '../../pki/types.js';
import type { EbmsErrorCode } from './ebms-errors.js';
import type { PMode } from './pmode.js';
import type { As4HttpClient } from '../../pki/tls-client.js';
import type { XmlLimits } from '../../xml/index.js';
import type { ReceiptMemory } from '../http/receipt-memory.js';

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

/**
 * Payload octets kept out of memory (a file, a blob): read as a stream, as often as needed. Large payloads
 * travel this way end to end, so that an AP's memory does not grow with the payload size.
 */
export interface StreamedBody {
  /** bytes */
  readonly size: number;
  open(): Readable;
  /** SHA-256 of the octets, when known (computed while they were written). */
  readonly sha256?: Buffer;
  /** The file that holds them, when they are in one. */
  readonly path?: string;
}

/** A MIME part beside the SOAP envelope. `contentId` without angle brackets. */
export interface Attachment {
  readonly contentId: string;
  readonly contentType: string;
  /** The octets. For an attachment with `stream`, reading this loads them all into memory (see streamedAttachment). */
  readonly body: Buffer;
  /** Where the octets of a large attachment are; streaming-aware code reads them from here. @defaultValue undefined (in `body`) */
  readonly stream?: StreamedBody;
}

/** One ds:Reference of a signature, as verified or as made. */
export interface SignatureReference {
  readonly uri: string;
  readonly transforms: readonly string[];
  readonly digestMethod: string;
  /** base64 */
  readonly digestValue: string;
}

/** A reference of a signature we verified. */
export interface VerifiedReference extends SignatureReference {
  /** The ds:Reference element as received (copied into NRR receipts). */
  readonly element: Element;
}

/** A signed reference as the sender checks the receipt against it: the digests, without the DOM element. */
export type SignedDigest = Omit<SignatureReference, 'element'>;

/** A UserMessage packed for the wire with its MIME body in memory (what `packUserMessage` answers, DOM aside). */
export interface PackedForSending {
  readonly contentType: string;
  readonly body: Buffer;
  readonly references: readonly SignedDigest[];
}

/**
 * Packs a UserMessage whose attachments are all in memory somewhere else than in the caller's thread (a worker
 * thread): the same compression, signature, encryption and MIME packaging as `packUserMessage`, with its input.
 */
export type UserMessagePacker = (input: {
  readonly message: UserMessage;
  readonly attachments: readonly Attachment[];
  readonly identity: SigningIdentity;
  readonly compress?: boolean | undefined;
  readonly encryptFor?: X509Certificate | undefined;
}) => Promise<PackedForSending>;

/**
 * What the receiving handler's receipt is built from: the received envelope (as text and as the verified DOM), the
 * references it acknowledges (none: a reception-awareness receipt), the identity it is signed with and `receiptXml`'s
 * options.
 */
export interface ReceiptInput {
  readonly envelopeXml: string;
  /** The limits `envelopeXml` was parsed within: a copy parsed elsewhere is held to the same. */
  readonly xmlLimits: XmlLimits;
  readonly doc: Document;
  readonly references: readonly VerifiedReference[];
  readonly identity: SigningIdentity;
  readonly options: SignalOptions & { readonly soapVersion: SoapVersion };
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
  | {
      readonly kind: 'user';
      readonly soapVersion: SoapVersion;
      readonly document: Document;
      readonly messaging: Element;
      readonly message: UserMessage;
    }
  | {
      readonly kind: 'receipt';
      readonly soapVersion: SoapVersion;
      readonly document: Document;
      readonly messaging: Element;
      readonly receipt: ParsedReceipt;
    }
  | {
      readonly kind: 'error';
      readonly soapVersion: SoapVersion;
      readonly document: Document;
      readonly messaging: Element;
      readonly signal: ParsedSignalInfo;
      readonly errors: readonly ErrorSignal[];
    }
  | {
      readonly kind: 'pull';
      readonly soapVersion: SoapVersion;
      readonly document: Document;
      readonly messaging: Element;
      readonly signal: ParsedSignalInfo;
      readonly mpc: string;
    };

export interface VerifyOptions {
  /** Signer must chain to these anchors (at `at`). */
  readonly trust?: TrustStore;
  /** Signer must be exactly this certificate; also resolves issuer/serial and SKI references. */
  readonly expectedCertificate?: X509Certificate;
  /** Validation time. @defaultValue now */
  readonly at?: Date;
  /** Accept a signer with TLS-only extended key usages (Peppol AP certificates; see pki checkCertificateRole). @defaultValue false */
  readonly tlsEkuSigners?: boolean;
}

export interface VerifyResult {
  readonly valid: boolean;
  /** SignedInfo/SignatureMethod/@Algorithm, when there was a signature. */
  readonly signatureAlgorithm?: string;
  readonly signer?: X509Certificate;
  /** What the valid references cover: `Messaging`, `Body`, `Timestamp`, `cid:…`. */
  readonly signedParts: readonly string[];
  readonly references: readonly VerifiedReference[];
  readonly findings: readonly Finding[];
}

/** Result of `decryptAttachments`: the attachments in plaintext and the Content-IDs that were encrypted. */
export interface DecryptedAttachments {
  readonly attachments: Attachment[];
  readonly encrypted: readonly string[];
  /** The EncryptionMethod of each xenc:EncryptedKey (RSA-OAEP or kw-aes128 after X25519 agreement). */
  readonly keyProtection: readonly string[];
}

export interface ReceivedUserMessage {
  readonly message: UserMessage;
  readonly attachments: readonly Attachment[];
  readonly signer: X509Certificate;
  readonly envelopeXml: string;
  /** The TLS client certificate the sending AP presented, when the connection was TLS and it verified (mutual TLS). */
  readonly tlsClientCertificate?: X509Certificate;
}

export interface As4HandlerOptions {
  readonly identity: SigningIdentity;
  readonly trust: TrustStore;
  /** Take signers whose extended key usages are TLS ones only (Peppol AP certificates: clientAuth). @defaultValue false */
  readonly tlsEkuSigners?: boolean;
  /** Largest accepted request body, bytes. @defaultValue 104857600 (100 MiB) */
  readonly maxMessageBytes?: number;
  readonly clock?: Clock;
  readonly idGenerator?: IdGenerator;
  /** Largest size of one payload after GZIP inflation, bytes. @defaultValue 104857600 (100 MiB) */
  readonly maxDecompressedBytes?: number;
  /** Where attachments are spooled while a message is processed (removed after it). @defaultValue os.tmpdir() */
  readonly spoolDir?: string;
  /**
   * Attachments are kept in memory only while all of a message's together fit in this many bytes; the others are
   * spooled to files as they arrive. @defaultValue 1048576 (1 MiB)
   */
  readonly spoolThresholdBytes?: number;
  /**
   * The identity a verified UserMessage's receipt is signed with, given the P-Mode it matched (undefined without
   * `pmodes`) and its signer: an AP with one AS4 identity per kind of peer answers each in the identity that peer
   * knows it by. @defaultValue identity
   */
  readonly receiptIdentity?: (pmode: PMode | undefined, signer: X509Certificate) => SigningIdentity;
  /** Keys to decrypt attachments with (RSA for 1.15, X25519 for 2.0). @defaultValue [identity] */
  readonly decryptionKeys?: readonly SigningIdentity[];
  /**
   * P-Modes a UserMessage must match (EBMS:0010 otherwise) and whose security it must meet (EBMS:0103).
   * @defaultValue undefined (any message; signature required, encryption optional)
   */
  readonly pmodes?: readonly PMode[];
  /**
   * The refusal of a pushed UserMessage that fits no push P-Mode, when a profile names one other than EBMS:0010 (the
   * Peppol AS4 profile answers a document type or process the AP does not serve with EBMS:0004 PEPPOL:NOT_SERVICED).
   * Return undefined to keep EBMS:0010. @defaultValue EBMS:0010 ProcessingModeMismatch
   */
  readonly noPModeRefusal?: (message: UserMessage) => QerdsError | undefined;
  /** Stores the message (and drops duplicates). Throw QerdsError `AS4_EBMS_nnnn` to answer with that error. */
  onUserMessage(received: ReceivedUserMessage): Promise<void>;
  /** Receipts kept for duplicate detection (the P-Mode's window). @defaultValue a new in-memory ReceiptMemory */
  readonly receiptMemory?: ReceiptMemory;
  /** Limits of the SOAP envelope (the XML part; attachments have `maxMessageBytes`). @defaultValue DEFAULT_ENVELOPE_LIMITS */
  readonly envelopeLimits?: EnvelopeLimits;
  /**
   * Builds and signs the receipt of a verified UserMessage, serialized, somewhere else than in the handler's thread
   * (a worker thread of the AP's pool). @defaultValue receiptXml in this thread
   */
  readonly receiptBuilder?: (input: ReceiptInput) => Promise<string>;
}

/**
 * What an incoming SOAP envelope may be, checked before it is parsed (threat: an unauthenticated peer's costly
 * XML blocking the event loop, or deep nesting overflowing the stack). Payloads travel as MIME parts, so an
 * envelope stays small: headers, signature, token, one PartInfo per payload.
 */
export interface EnvelopeLimits {
  /** Largest envelope, in bytes (a plain SOAP body, or the root MIME part). @defaultValue 1048576 (1 MiB) */
  readonly maxBytes?: number;
  /** Deepest element nesting. @defaultValue 64 */
  readonly maxDepth?: number;
  /** Most elements. @defaultValue 10000 */
  readonly maxElements?: number;
  /** Most attributes in the envelope (namespace declarations included); at most 64 on one element. @defaultValue 50000 */
  readonly maxAttributes?: number;
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
  /** Take a receipt signer whose extended key usages are TLS ones only (Peppol AP certificates). @defaultValue false */
  readonly tlsEkuSigners?: boolean;
  /** @defaultValue 60000 (ms) */
  readonly timeoutMs?: number;
  /** GZIP every payload before signing (AS4 §3.1 compression). @defaultValue false */
  readonly compress?: boolean;
  /**
   * Encrypt every payload for this certificate after signing: RSA → eDelivery AS4 1.15 (RSA-OAEP key
   * transport), X25519 → eDelivery AS4 2.0 (X25519 + HKDF + AES key wrap); AES-128-GCM content.
   * @defaultValue undefined (not encrypted)
   */
  readonly encryptFor?: X509Certificate;
  /** Where the GZIP copies of streamed attachments are written while they are sent. @defaultValue os.tmpdir() */
  readonly spoolDir?: string;
  /**
   * The sender's P-Mode wants non-repudiation of receipt: the receipt must acknowledge every signed part with our
   * digest (ebbp:NonRepudiationInformation). False also takes a reception-awareness receipt. @defaultValue true
   */
  readonly requireNonRepudiation?: boolean;
  /**
   * How to post: e.g. an As4TlsClient's client for this peer (mutual TLS, pins). @defaultValue node:http(s) with
   * node's global keep-alive agent (pki/tls-client.ts requestWithNodeHttp)
   */
  readonly http?: As4HttpClient;
  /**
   * Packs the message when every attachment is in memory (a worker thread of the AP's pool). Streamed attachments
   * are always packed here, as they are sent. @defaultValue packUserMessage in this thread
   */
  readonly pack?: UserMessagePacker;
}

export interface SendUserMessageResult {
  readonly receipt: ParsedReceipt;
  readonly receiptXml: string;
  readonly httpStatus: number;
  /** The certificate whose signature over the receipt verified (for checks of the caller's own, e.g. Peppol's AP PKI). */
  readonly signer: X509Certificate;
}

export interface SignalOptions {
  readonly soapVersion?: SoapVersion;
  readonly clock?: Clock;
  readonly idGenerator?: IdGenerator;
}

export type { EbmsErrorCode };

export interface As4CaptureOptions {
  /** Anchors the signer must chain to. */
  readonly trust?: TrustStore;
  /** The signer must be exactly this certificate. */
  readonly expectedCertificate?: X509Certificate;
  /** Validation time. @defaultValue now */
  readonly at?: Date;
  /** Keys to decrypt encrypted attachments with (without them, encrypted attachments are not checked: INDETERMINATE). */
  readonly decryptionKeys?: readonly SigningIdentity[];
}

/** What `verifyAs4Capture` found in a captured AS4 exchange. */
export interface As4CaptureReport {
  /** INDETERMINATE: nothing failed, but a check could not run (encrypted attachment without key, unknown revocation status). */
  readonly verdict: 'VALID' | 'INVALID' | 'INDETERMINATE';
  readonly container: 'http-request' | 'http-response' | 'mime' | 'soap';
  readonly httpStartLine?: string;
  readonly soapVersion?: SoapVersion;
  readonly messageType?: 'UserMessage' | 'Receipt' | 'Error' | 'PullRequest';
  readonly messageId?: string;
  /** The MPC of a PullRequest. */
  readonly mpc?: string;
  readonly refToMessageId?: string;
  /** ISO 8601 */
  readonly timestamp?: string;
  readonly from?: PartyRef;
  readonly to?: PartyRef;
  readonly collaboration?: CollaborationInfo;
  readonly payloads: readonly {
    href: string;
    mimeType: string;
    size?: number;
    compressed: boolean;
    encrypted: boolean;
  }[];
  readonly receipt?: { readonly nonRepudiation: readonly string[] };
  readonly errors?: readonly ErrorSignal[];
  readonly signature?: {
    readonly algorithm?: string;
    /** How KeyInfo names the key: `BinarySecurityToken reference`, `X509Data/X509IssuerSerial`, … */
    readonly keyReference?: string;
    /** The references that verified. */
    readonly references: readonly { uri: string; digestMethod: string; transforms: readonly string[] }[];
    readonly signedParts: readonly string[];
    readonly signer?: {
      subject: string;
      issuer: string;
      serialNumber: string;
      validFrom: string;
      validTo: string;
      fingerprint256: string;
    };
  };
  readonly findings: readonly Finding[];
}
