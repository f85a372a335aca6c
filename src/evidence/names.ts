import { ALGORITHM_URI, XML_NS } from '../xml/index.js';

/** Namespaces and fixed names of EN 319 522-3 evidence as qerds-ap writes it. */
export const EVIDENCE_NS = 'http://uri.etsi.org/19522/v1#';
export const EVIDENCE_VERSION = 'EN319522v1.1.1';
export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const DS_NS = XML_NS.ds;
export const XMLNS_NS = XML_NS.xmlns;
/** The prefix qerds-ap writes for EVIDENCE_NS (any prefix reads the same; readers must not depend on it). */
export const EVIDENCE_PREFIX = 'ev';

/**
 * EN 319 522-3's schema has `elementFormDefault="unqualified"`: only its globally declared elements are in
 * EVIDENCE_NS; every local element is written with no namespace (no prefix, no default namespace in scope).
 * The globals, as published REM evidence and national ERDS viewers write and read them (shared EVIDENCE.md,
 * "XML form"; the normative XSD text was not available offline). Every element not listed is local, by the
 * rule, including those the reference card is silent on: AuthenticationDetsAndAssuranceLevel,
 * IdentityProofAssuranceLevel, FederationAssuranceLevel, CertificateDetails, SenderDelegateDetails,
 * RecipientsDelegateDetails, ExternalSystem, TransactionLogInformation.
 */
export const EVIDENCE_GLOBAL_ELEMENTS: ReadonlySet<string> = new Set([
  'Evidence',
  'EvidenceIdentifier',
  'ERDSEventId',
  'EventReasons',
  'EventReason',
  'EvidenceIssuerPolicyID',
  'EvidenceIssuerDetails',
  'Identity',
  'SenderDetails',
  'RecipientDetails',
  'AuthenticationDetails',
  'SubmissionTime',
  'MessageIdentifier',
  'UserContentInfo',
  'PartsInfo',
  'PartInfo',
  'ExternalERDSDetails',
  'Extensions',
  'Extension',
]);

/**
 * How an evidence document puts the EN 319 522-3 element names in namespaces:
 * - `standard`: the standard's form (globals in EVIDENCE_NS, locals unqualified); what qerds-ap writes.
 * - `all-qualified`: every element in EVIDENCE_NS (what earlier qerds-ap versions wrote, through a
 *   default namespace; any prefix reads the same). Still read, because sealed evidence is archived for at least 10 years.
 */
export type EvidenceXmlForm = 'standard' | 'all-qualified';

/** The namespace (null: none) that the EN 319 522-3 element `localName` has in `form`. */
export function evidenceNamespaceOf(localName: string, form: EvidenceXmlForm = 'standard'): string | null {
  return form === 'all-qualified' || EVIDENCE_GLOBAL_ELEMENTS.has(localName) ? EVIDENCE_NS : null;
}

/** Our own extension namespace (EN 319 522-3 Extensions are open to any namespace). */
export const QERDS_EXT_NS = 'urn:qerds-ap:evidence-extensions:1';
export const SHA256_URI = ALGORITHM_URI.sha256;

/** eIDAS SAML attribute profile: legal-person attributes carried in `Identity`. */
export const SAML_ATTR_NAME_FORMAT_URI = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';
export const EIDAS_LEGAL_NAME = 'http://eidas.europa.eu/attributes/legalperson/LegalName';
export const EIDAS_LEGAL_PERSON_IDENTIFIER =
  'http://eidas.europa.eu/attributes/legalperson/LegalPersonIdentifier';

/**
 * Children of `Evidence` in the order of EN 319 522-3 §5.2 (an xs:sequence). The builder writes them in
 * this order; the parser refuses an unknown child or one out of this order.
 */
export const EVIDENCE_ELEMENT_ORDER = [
  'EvidenceIdentifier',
  'ERDSEventId',
  'EventReasons',
  'EventTime',
  'EvidenceIssuerPolicyID',
  'EvidenceIssuerDetails',
  'SenderDetails',
  'SenderDelegateDetails',
  'RecipientDetails',
  'RecipientsDelegateDetails',
  'SubmissionTime',
  'EvidenceRefersToRecipient',
  'MessageIdentifier',
  'UserContentInfo',
  'ExternalSystem',
  'ExternalERDSDetails',
  'TransactionLogInformation',
  'Extensions',
] as const;
