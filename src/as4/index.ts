/** AS4 (ebMS 3.0 + AS4 profile, WS-Security 1.1.1, SwA): model, codec, signatures, receipts, client, server. */
export * from './types.js';
export { as4Errors, type As4ErrorCode } from './errors.js';
export {
  ebmsErrors,
  ebmsError,
  ebmsCodeOf,
  qerdsCodeOf,
  isEbmsErrorCode,
  type EbmsErrorDefinition,
} from './ebms-errors.js';
export {
  NS as AS4_NS,
  ALG as AS4_ALG,
  WSS as AS4_WSS,
  EBMS_DEFAULT_ROLE,
  EBMS_INITIATOR_ROLE,
  EBMS_RESPONDER_ROLE,
} from './namespaces.js';
export { buildUserMessageEnvelope } from './envelope-build.js';
export { parseEnvelope } from './envelope-parse.js';
export {
  encodeMultipart,
  decodeMultipart,
  type EncodeMultipartOptions,
  type EncodedMultipart,
  type DecodeMultipartLimits,
  type DecodedMultipart,
} from './multipart.js';
export { signEnvelope, cidUrl } from './ws-security-sign.js';
export { verifyEnvelope } from './ws-security-verify.js';
export { buildReceipt, buildErrorSignal } from './signals.js';
export { sendUserMessage } from './client.js';
export {
  compressPayloads,
  decompressPayloads,
  GZIP_MEDIA_TYPE,
  COMPRESSION_TYPE_PROPERTY,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type CompressedPayloads,
} from './compression.js';
export { createAs4Handler, DEFAULT_ENVELOPE_LIMITS } from './handler.js';
export { canonicalize } from './c14n.js';
export { parseXml as parseAs4Xml, serializeXml as serializeAs4Xml } from './xml-util.js';
export { encryptAttachments, decryptAttachments } from './attachment-encryption.js';
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
} from './pmode.js';
export { withProfileDefaults, type As4Profile, type As4ProfileFinding } from './profile.js';
export { verifyAs4Capture, formatAs4CaptureReport } from './capture-verify.js';
export { parseCapture, isAs4Capture, type CaptureContainer } from './capture-parse.js';
export { pullUserMessage } from './pull-client.js';
export { packUserMessage, type PackedUserMessage } from './user-message-pack.js';
export { buildPullRequestEnvelope } from './envelope-build.js';
export { EBMS_DEFAULT_MPC } from './namespaces.js';
export {
  createAs4TlsClient,
  crlAsPem,
  TLS12_CIPHERS,
  type As4HttpClient,
  type As4TlsClient,
  type As4TlsClientOptions,
} from './tls-client.js';
export { spkiPin, pinMismatch, hasPins, type TlsPeerPins } from './tls-pin.js';
export { createReceiptMemory, type ReceiptMemory } from './receipt-memory.js';
export { streamedAttachment, fileBody } from './streamed-body.js';
export { decodeMultipartStreaming, type DecodeMultipartStreamingOptions } from './multipart-stream.js';
export { packUserMessageStreaming, type StreamedPackedUserMessage } from './user-message-pack.js';
export { decryptAttachmentsStreaming } from './attachment-encryption.js';
export { compressPayloadsStreaming, decompressPayloadsStreaming } from './compression.js';
export { certFromBase64 } from './cert-match.js';
