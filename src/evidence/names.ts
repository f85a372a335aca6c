import { XML_NS } from '../xml/index.js';

/** Namespaces and fixed names of EN 319 522-3 evidence as qerds-ap writes it. */
export const EVIDENCE_NS = 'http://uri.etsi.org/19522/v1#';
export const EVIDENCE_VERSION = 'EN319522v1.1.1';
export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const DS_NS = XML_NS.ds;
export const XMLNS_NS = XML_NS.xmlns;
/** Our own extension namespace (EN 319 522-3 Extensions are open to any namespace). */
export const QERDS_EXT_NS = 'urn:qerds-ap:evidence-extensions:1';
export const SHA256_URI = 'http://www.w3.org/2001/04/xmlenc#sha256';

/** eIDAS SAML attribute profile: legal-person attributes carried in `Identity`. */
export const SAML_ATTR_NAME_FORMAT_URI = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';
export const EIDAS_LEGAL_NAME = 'http://eidas.europa.eu/attributes/legalperson/LegalName';
export const EIDAS_LEGAL_PERSON_IDENTIFIER = 'http://eidas.europa.eu/attributes/legalperson/LegalPersonIdentifier';

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
