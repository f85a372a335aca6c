/** AS4 (ebMS 3.0 + AS4 profile, WS-Security 1.1.1, SwA): model, codec, signatures, receipts, client, server. */
export * from './types.js';
export { ebmsErrors, ebmsError, ebmsCodeOf, qerdsCodeOf, isEbmsErrorCode, type EbmsErrorDefinition } from './ebms-errors.js';
export { NS as AS4_NS, ALG as AS4_ALG, WSS as AS4_WSS, EBMS_DEFAULT_ROLE } from './namespaces.js';
export { buildUserMessageEnvelope } from './envelope-build.js';
export { parseEnvelope } from './envelope-parse.js';
export { encodeMultipart, decodeMultipart, type EncodeMultipartOptions, type EncodedMultipart, type DecodeMultipartLimits, type DecodedMultipart } from './multipart.js';
export { signEnvelope, cidUrl } from './ws-security-sign.js';
export { verifyEnvelope } from './ws-security-verify.js';
export { buildReceipt, buildErrorSignal } from './signals.js';
export { sendUserMessage } from './client.js';
export { createAs4Handler } from './handler.js';
export { canonicalize } from './c14n.js';
export { parseXml as parseAs4Xml, serializeXml as serializeAs4Xml } from './xml-util.js';
