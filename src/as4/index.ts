/**
 * AS4 (ebMS 3.0 + AS4 profile, WS-Security 1.1.1, SwA) as the bindings, the profiles, the config and the package
 * face use it: the endpoint and the push client, P-Modes and the profile plug-in contract, the message model and
 * capture verification. Tests of the internals import the rooms' files (model/, message/, security/, http/,
 * capture/) directly.
 */
export { as4Errors, type As4ErrorCode } from './errors.js';
export type {
  As4CaptureOptions,
  As4CaptureReport,
  Attachment,
  EnvelopeLimits,
  PackedForSending,
  Property,
  ReceiptInput,
  SignedDigest,
  SoapVersion,
  UserMessage,
  UserMessagePacker,
} from './model/types.js';
export { isEbmsErrorCode, qerdsCodeOf } from './model/ebms-errors.js';
export { EBMS_INITIATOR_ROLE, EBMS_RESPONDER_ROLE } from './model/namespaces.js';
export {
  definePMode,
  pmodeSchema,
  ALGORITHM_SETS,
  type PMode,
  type PModeInput,
  type AlgorithmSet,
} from './model/pmode.js';
export { withProfileDefaults, type As4Profile, type As4ProfileFinding } from './model/profile.js';
export { streamedAttachment } from './message/streamed-body.js';
// The pool's threads (access-point/as4-work.ts) run these two for the sender and the receiver.
export { packUserMessage } from './message/user-message-pack.js';
export { receiptXml } from './message/signals.js';
export { certFromBase64 } from './security/cert-match.js';
export { sendUserMessage } from './http/client.js';
export { createAs4Handler } from './http/handler.js';
export { verifyAs4Capture, formatAs4CaptureReport } from './capture/capture-verify.js';
export { isAs4Capture } from './capture/capture-parse.js';
