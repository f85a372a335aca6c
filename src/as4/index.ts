/** AS4 (ebMS 3.0 + AS4 profile, WS-Security 1.1.1, SwA): model, codec, signatures, receipts, client, server. */
export * from './model/types.js';
export { as4Errors, type As4ErrorCode } from './errors.js';
export {
  ebmsErrors,
  ebmsError,
  ebmsCodeOf,
  qerdsCodeOf,
  isEbmsErrorCode,
  type EbmsErrorDefinition,
} from './model/ebms-errors.js';
export {
  NS as AS4_NS,
  ALG as AS4_ALG,
  WSS as AS4_WSS,
  EBMS_DEFAULT_ROLE,
  EBMS_INITIATOR_ROLE,
  EBMS_RESPONDER_ROLE,
} from './model/namespaces.js';
export { buildUserMessageEnvelope } from './message/envelope-build.js';
export { parseEnvelope } from './message/envelope-parse.js';
export {
  encodeMultipart,
  decodeMultipart,
  type EncodeMultipartOptions,
  type EncodedMultipart,
  type DecodeMultipartLimits,
  type DecodedMultipart,
} from './message/multipart.js';
export { signEnvelope, cidUrl } from './security/ws-security-sign.js';
export { verifyEnvelope } from './security/ws-security-verify.js';
export { buildReceipt, buildErrorSignal } from './message/signals.js';
export { sendUserMessage } from './http/client.js';
export {
  compressPayloads,
  decompressPayloads,
  GZIP_MEDIA_TYPE,
  COMPRESSION_TYPE_PROPERTY,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type CompressedPayloads,
} from './message/compression.js';
export { createAs4Handler, DEFAULT_ENVELOPE_LIMITS } from './http/handler.js';
export { canonicalize } from './security/c14n.js';
export { parseXml as parseAs4Xml, serializeXml as serializeAs4Xml } from './message/xml-util.js';
export { encryptAttachments, decryptAttachments } from './security/attachment-encryption.js';
export {
  definePMode,
  matchPMode,
  pmodeMismatch,
  assertPModeSecurity,
  pmodeSchema,
  ALGORITHM_SETS,
  type PMode,
  type PModeInput,
  type AlgorithmSet,
  type ObservedSecurity,
} from './model/pmode.js';
export { withProfileDefaults, type As4Profile, type As4ProfileFinding } from './model/profile.js';
export { verifyAs4Capture, formatAs4CaptureReport } from './capture/capture-verify.js';
export { parseCapture, isAs4Capture, type CaptureContainer } from './capture/capture-parse.js';
export { pullUserMessage } from './http/pull-client.js';
export { packUserMessage, type PackedUserMessage } from './message/user-message-pack.js';
export { buildPullRequestEnvelope } from './message/envelope-build.js';
export { EBMS_DEFAULT_MPC } from './model/namespaces.js';
export {
  createAs4TlsClient,
  crlAsPem,
  TLS12_CIPHERS,
  type As4HttpClient,
  type As4TlsClient,
  type As4TlsClientOptions,
} from '../pki/tls-client.js';
export { spkiPin, pinMismatch, hasPins, type TlsPeerPins } from '../pki/tls-pin.js';
export { createReceiptMemory, type ReceiptMemory } from './http/receipt-memory.js';
export { streamedAttachment, fileBody } from './message/streamed-body.js';
export {
  decodeMultipartStreaming,
  type DecodeMultipartStreamingOptions,
} from './message/multipart-stream.js';
export { packUserMessageStreaming, type StreamedPackedUserMessage } from './message/user-message-pack.js';
export { decryptAttachmentsStreaming } from './security/attachment-encryption.js';
export { compressPayloadsStreaming, decompressPayloadsStreaming } from './message/compression.js';
export { certFromBase64 } from './security/cert-match.js';
