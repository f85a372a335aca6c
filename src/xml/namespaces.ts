/** Namespaces and algorithm URIs of XML itself and of XMLDSig that several modules use (spelled once here). */
export const XML_NS = Object.freeze({
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xmlns: 'http://www.w3.org/2000/xmlns/',
  xml: 'http://www.w3.org/XML/1998/namespace',
});

/** Canonicalization and transform algorithm URIs (XMLDSig §6.5, §6.6.4; Exc-C14N §5.1). */
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/*
 * Namespaces of documents that two modules read, kept here because xml/ is the lowest module both import:
 * trusted lists (trust-list/ loads them, seal/ recognises one when verifying its signature) and Peppol SMP 1.x
 * (directory/ reads it, peppol/ applies its signature policy).
 */
/** ETSI TS 119 612 v2 trusted lists. */
export const TSL_NS = 'http://uri.etsi.org/02231/v2#';
/** Peppol SMP 1.x (BusDox) service metadata. */
export const PEPPOL_SMP1_NS = 'http://busdox.org/serviceMetadata/publishing/1.0/';
