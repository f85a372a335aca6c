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

/**
 * XMLDSig and XML Encryption algorithm URIs (XMLDSig 1.1 §6, XML Encryption 1.1 §5, RFC 6931, RFC 9231), spelled
 * once for every module. What each one is (digest, key type, policy status) is in crypto/algorithm-registry.ts;
 * which ones a protocol accepts is that protocol's choice (as4/algorithms.ts, seal/algorithms.ts, the SMP rules).
 */
export const ALGORITHM_URI = Object.freeze({
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha224: 'http://www.w3.org/2001/04/xmldsig-more#sha224',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha384: 'http://www.w3.org/2001/04/xmldsig-more#sha384',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  sha3_256: 'http://www.w3.org/2007/05/xmldsig-more#sha3-256',
  sha3_384: 'http://www.w3.org/2007/05/xmldsig-more#sha3-384',
  sha3_512: 'http://www.w3.org/2007/05/xmldsig-more#sha3-512',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha224: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha224',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha384: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  ecdsaSha1: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1',
  ecdsaSha224: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224',
  ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  ecdsaSha384: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  ecdsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
  rsaPssSha256: 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
  rsaPssSha384: 'http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1',
  rsaPssSha512: 'http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1',
  eddsaEd25519: 'http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519',
  hmacSha256: 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
  excC14n: EXC_C14N,
  excC14nWithComments: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  c14n10: C14N,
  rsaOaep: 'http://www.w3.org/2009/xmlenc11#rsa-oaep',
  rsaOaepMgf1p: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  rsa15: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5',
  mgf1Sha256: 'http://www.w3.org/2009/xmlenc11#mgf1sha256',
  ecdhEs: 'http://www.w3.org/2009/xmlenc11#ECDH-ES',
  x25519: 'http://www.w3.org/2021/04/xmldsig-more#x25519',
  hkdf: 'http://www.w3.org/2021/04/xmldsig-more#hkdf',
  kwAes128: 'http://www.w3.org/2001/04/xmlenc#kw-aes128',
  kwAes256: 'http://www.w3.org/2001/04/xmlenc#kw-aes256',
  aes128Gcm: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  aes256Gcm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  aes128Cbc: 'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  aes256Cbc: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
});

/*
 * Namespaces of documents that two modules read, kept here because xml/ is the lowest module both import:
 * trusted lists (trust-list/ loads them, seal/ recognises one when verifying its signature) and Peppol SMP 1.x
 * (directory/ reads it, peppol/ applies its signature policy).
 */
/** ETSI TS 119 612 v2 trusted lists. */
export const TSL_NS = 'http://uri.etsi.org/02231/v2#';
/** Peppol SMP 1.x (BusDox) service metadata. */
export const PEPPOL_SMP1_NS = 'http://busdox.org/serviceMetadata/publishing/1.0/';
