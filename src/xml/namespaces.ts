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
