export * from './types.js';
export { createSmtpIntake } from './intake-server.js';
export { createAddressMapping, type AddressMapping, type AddressMappingOptions } from './address-mapping.js';
export { hashPassword, verifyPassword, isPasswordHash, type ScryptParameters } from './password.js';
export {
  smtpErrors,
  smtpError,
  toSmtpReply,
  type SmtpErrorCode,
  type SmtpErrorDefinition,
  type SmtpReply,
} from './errors.js';

/** Identification method recorded in evidence for a sender authenticated by SMTP AUTH over TLS (REQ3). */
export const SMTP_AUTH_METHOD = 'urn:qerds-ap:authentication:smtp-auth';
export {
  buildRemMessage,
  REM_METADATA_VERSION,
  REM_DIGEST_ALGORITHM,
  type RemMessage,
  type RemMessageInput,
} from './rem-message.js';
export { introductionTexts, type IntroductionTexts, type IntroductionInput } from './rem-texts.js';
export {
  createMailSender,
  type MailSender,
  type MailSenderOptions,
  type MailSendOutcome,
} from './mail-sender.js';
export {
  verifyRemMessage,
  formatRemReport,
  isRemMessage,
  type RemVerification,
  type RemVerifyOptions,
  type RemEvidenceCheck,
} from './rem-verify.js';
export { encryptRemMessage } from './rem-encrypt.js';
export type { RemEncryption } from './rem-encrypt.js';
export { composeOriginal, readOriginalParts, type OriginalPart } from './original-message.js';
export { createRateWindow, type RateWindow } from './rate-window.js';
