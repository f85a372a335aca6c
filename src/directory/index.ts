export type {
  Directory,
  DirectoryEntry,
  DirectoryService,
  DocumentTypeMatcher,
  ParticipantLocator,
  SmpIdentifier,
  SmpResponseDialect,
  SmpSignatureAlgorithms,
  SmpSignatureRules,
} from './types.js';
export { sealPinOf } from './types.js';
export { createStaticDirectory, type StaticDirectoryEntry } from './static-directory.js';
export { directoryErrors, type DirectoryErrorCode } from './errors.js';
export {
  createSmpDirectory,
  peppolParticipantIdentifier,
  smpPathSegment,
  AS4_TRANSPORT_PROFILES,
  DEFAULT_TRANSPORT_PROFILES,
  PEPPOL_AS4_TRANSPORT_PROFILE,
  PEPPOL_TRANSPORT_PROFILES,
  type SmpDirectoryOptions,
} from './smp-client.js';
export { verifySmpSignature, STRICT_SMP_SIGNATURE_RULES, type SmpSignatureCheck } from './smp-signature.js';
export { readServiceGroupDocumentTypes } from './smp-service-group.js';
export {
  readServiceMetadata,
  SMP_NS,
  type SmpServiceMetadata,
  type SmpEndpoint,
  type SmpProcess,
  type SmpDialect,
} from './smp-metadata.js';
export {
  bdxlLocator,
  bdxlHostName,
  base32,
  smpUrlOf,
  type BdxlHashMode,
  type BdxlLocatorOptions,
  type NaptrRecord,
  type NaptrResolver,
} from './bdxl-locator.js';
export { cachedDirectory, type CachedDirectoryOptions } from './cached-directory.js';
export {
  checkRecipient,
  checkEncryptionCertificate,
  encryptionCertificateRefusal,
  type RecipientCheck,
  type CertificateCheck,
} from './recipient-check.js';
export { SMTP_RELAY_TRANSPORT_PROFILE, relaysBySmtp } from './transport-profile.js';
