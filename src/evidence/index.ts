export { buildEvidenceXml } from './build-evidence.js';
export { parseEvidenceDocument, parseEvidenceXml } from './parse-evidence.js';
export { issueEvidence, xadesSealer } from './issue-evidence.js';
export { verifyEvidence } from './verify-evidence.js';
export { formatReport } from './format-report.js';
export { evidenceErrors } from './errors.js';
export {
  EVIDENCE_NS,
  EVIDENCE_VERSION,
  EVIDENCE_ELEMENT_ORDER,
  EVIDENCE_GLOBAL_ELEMENTS,
  QERDS_EXT_NS,
  evidenceNamespaceOf,
  type EvidenceXmlForm,
} from './names.js';
export type {
  EvidenceSealer,
  Indication,
  QualifiedReport,
  SubIndication,
  VerifyEvidenceOptions,
  VerificationReport,
} from './types.js';
export { EVENT_REASONS, NEGATIVE_EVENTS, checkEventComponents } from './event-reasons.js';
export {
  detectFileKind,
  verifyTimestampFile,
  type TimestampFileReport,
  type VerifiableFileKind,
} from './verify-token.js';
export { formatTimestampReport } from './format-report.js';
export { reportToJson } from './report-json.js';
export { reportToXml } from './report-xml.js';
export type { IssuerBinding, IssuerPin } from './issuer-check.js';
export {
  verifyAny,
  chainVerification,
  verifyEvidenceChain,
  parseBundle,
  EVIDENCE_BUNDLE_FORMAT,
  type BundleEntry,
  type ChainReport,
  type EvidenceBundle,
  type ProofVerification,
  type ProofVerifier,
  type ProofVerifyOptions,
  type VerifyAnyOptions,
} from './verify-any.js';
export {
  plainSummary,
  formatPlainSummary,
  showTime,
  type PlainSummary,
  type PlainVerdict,
  type PlainDocument,
  type PlainSummaryOptions,
} from './plain-summary.js';
export {
  languageFromAcceptLanguage,
  plainLanguages,
  phrasesFor,
  eventInWords,
  type PlainLanguage,
  type PlainPhrases,
} from './plain-texts.js';
