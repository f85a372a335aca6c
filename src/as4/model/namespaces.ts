import { ALGORITHM_URI, EXC_C14N, XML_NS } from '../../xml/index.js';

/**
 * Namespace and algorithm URIs of ebMS 3.0 / AS4, SOAP, WS-Security 1.1.1 and the SwA profile
 * (/work/shared/AS4.md). Spelled once here; everything else imports them. Those of XML and XMLDSig are xml/'s.
 */
export const NS = Object.freeze({
  eb: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/',
  ebbp: 'http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsse11: 'http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd',
  ds: XML_NS.ds,
  ec: EXC_C14N,
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  xenc11: 'http://www.w3.org/2009/xmlenc11#',
  dsig11: 'http://www.w3.org/2009/xmldsig11#',
  dsigMore: 'http://www.w3.org/2021/04/xmldsig-more#',
  xmlns: XML_NS.xmlns,
  xml: XML_NS.xml,
});

export const WSS = Object.freeze({
  x509v3: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3',
  /** A PkiPath (SEQUENCE OF Certificate) in one token (WSS X.509 Token Profile); Domibus can send its chain so. */
  x509PkiPathV1:
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509PKIPathv1',
  x509SubjectKeyIdentifier:
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier',
  base64Binary:
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary',
  swaContentSignatureTransform:
    'http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Signature-Transform',
  swaCompleteSignatureTransform:
    'http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Complete-Signature-Transform',
  swaCiphertextTransform:
    'http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Ciphertext-Transform',
  /** xenc:EncryptedData/@Type of an attachment whose content (not its MIME headers) is encrypted. */
  swaContentOnly: 'http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Only',
  swaComplete: 'http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Complete',
  encryptedKeyTokenType: 'http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#EncryptedKey',
});

/** The algorithm URIs AS4 names: those of XMLDSig and XML Encryption, spelled once in xml/namespaces.ts. */
export const ALG = ALGORITHM_URI;

/** ebMS 3 default role and the MIME type of a SOAP 1.2 / 1.1 envelope. */
export const EBMS_DEFAULT_MPC = 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/defaultMPC';
export const EBMS_DEFAULT_ROLE = 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/defaultRole';
/** The two-party roles of ebMS 3 Core §D.3.3 (eb:From/eb:To Role). */
export const EBMS_INITIATOR_ROLE = 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator';
export const EBMS_RESPONDER_ROLE = 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder';
export const SOAP12_MEDIA_TYPE = 'application/soap+xml';
export const SOAP11_MEDIA_TYPE = 'text/xml';
