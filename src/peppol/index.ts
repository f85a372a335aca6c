/*
 * Peppol building blocks: identifiers (PFUOI 4.x), the SBDH envelope and its consistency with AS4 and the
 * SMP, JP PINT invoice rules, the Peppol AS4 profile, the SMP 1.x RSA-SHA1 switch, and the TSR/EUSR reports.
 * Self-contained: it imports core, xml and AS4 types only; the AS4 core does not import it; the composition root
 * and the CLI wire it (not done yet).
 */
export { peppolErrors, type PeppolErrorCode, type PeppolFinding } from './errors.js';
export {
  ICD_SCHEMES,
  icdScheme,
  corporateNumberCheckDigit,
  isCorporateNumber,
  isGs1Mod10,
  isNorwegianOrgNumber,
  isBelgianEnterpriseNumber,
  type IcdScheme,
} from './icd-schemes.js';
export {
  PARTICIPANT_SCHEME,
  DOCTYPE_SCHEME_BUSDOX,
  DOCTYPE_SCHEME_WILDCARD,
  PROCESS_SCHEME,
  PROCESS_BILLING,
  PROCESS_SELF_BILLING,
  UBL_INVOICE_NS,
  UBL_CREDIT_NOTE_NS,
  JP_PINT_CUSTOMIZATION,
  JP_PINT_SELF_BILLING_CUSTOMIZATION,
  formatIdentifier,
  parseParticipantId,
  normaliseRecipient,
  sameParticipant,
  parseDocumentTypeId,
  parseProcessId,
  sameIdentifier,
  registrationAccepts,
  selectRegistration,
  peppolDocumentTypeMatcher,
  jpPintDocumentType,
  jpPintProcess,
  type PeppolIdentifier,
  type ParticipantIdentifier,
  type DocumentTypeIdentifier,
  type ProcessIdentifier,
  type ParticipantIdOptions,
} from './identifiers.js';
export { ISO_3166_ALPHA2, isIso3166Alpha2 } from './country-codes.js';
export {
  SBDH_NS,
  SBDH_HEADER_VERSION,
  buildSbd,
  parseSbd,
  type PeppolSbdh,
  type MlsType,
  type SbdhScope,
  type SbdhSubmission,
  type ParseSbdOptions,
  type ParsedSbd,
} from './sbdh.js';
export {
  sbdhMismatches,
  assertSbdhConsistent,
  type As4PeppolHeader,
  type SmpLookupResult,
  type SbdhMismatch,
} from './sbdh-check.js';
export { validateJpPint, assertJpPint, JP_PINT_RULES, type JpPintRule } from './jp-pint.js';
export {
  createUblXsdCheck,
  UBL_21_SCHEMA_DIR,
  type UblXsdCheck,
  type UblXsdResult,
  type UblXsdError,
} from './ubl-xsd.js';
export {
  createJpPintSchematron,
  parseSvrlReports,
  DEFAULT_JAVA_OPTIONS,
  type JpPintSchematron,
  type JpPintSpecification,
  type SchematronResult,
} from './jp-pint-schematron.js';
export { CAC, CBC, readUblInvoice, type UblInvoice } from './ubl-invoice.js';
export {
  peppolAs4Profile,
  peppolPModeInput,
  peppolMessageProperties,
  as4PeppolHeaderOf,
  seatIdOf,
  PEPPOL_AGREEMENT,
  PEPPOL_PARTY_ID_TYPE,
  EBMS_INITIATOR_ROLE,
  EBMS_RESPONDER_ROLE,
  SEAT_ID,
  type PeppolPModeInput,
} from './as4-profile.js';
export {
  checkSmpSignatureAlgorithms,
  peppolSmpSignatureRules,
  smpSignatureAlgorithms,
  SMP_SIGNATURE_METHODS,
  SMP_DIGEST_METHODS,
  PEPPOL_SMP1_NS,
  type SmpSignaturePolicy,
  type SmpSignatureAlgorithmCheck,
} from './smp-signature-policy.js';
export {
  buildTransactionStatisticsReport,
  buildEndUserStatisticsReport,
  serializeTransactionStatisticsReport,
  serializeEndUserStatisticsReport,
  TSR_NS,
  EUSR_NS,
  type PeppolExchangeRecord,
  type ReportPeriod,
  type ReportOptions,
  type ReportKey,
  type TransactionStatisticsReport,
  type TsrSubtotal,
  type EndUserStatisticsReport,
  type EusrSubset,
  type EndUserCounts,
} from './reporting.js';
export {
  PEPPOL_PKI_GENERATIONS,
  PEPPOL_CERTS_DIR,
  PEPPOL_AP_CA_FINGERPRINTS,
  PEPPOL_SMP_CA_FINGERPRINTS,
  peppolApCaFile,
  peppolApAnchorFiles,
  peppolSmpCaFile,
  peppolSmpAnchorFiles,
  peppolApCertificateFindings,
  PEPPOL_AP_OU,
  type PeppolNetwork,
  type PeppolPkiGeneration,
  type PeppolAnchorSetOptions,
  type PeppolCertificateFinding,
} from './pki-anchors.js';
