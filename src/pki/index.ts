export * from './types.js';
export * from './layout.js';
export * from './identity.js';
export * from './dev-pki.js';
export * from './revoke.js';
export * from './trust-store.js';
export { certificateFacts, type CertificateFacts } from './certificate-facts.js';
export { parseCrls, certificateNameDer, normaliseSerial, type ParsedCrl } from './crl.js';
export { DIGEST_OIDS, digestNameOfOid, verifyWithAlgorithm, verifyCmsSignature, type DigestName } from './signature-algorithms.js';
export {
  readDerElement,
  derChildren,
  derOid,
  derHeader,
  derTlv,
  derSetOf,
  derObjectIdentifier,
  derTime,
  derAttribute,
  derAlgorithmIdentifier,
  derUnsignedInteger,
  derIntegerValue,
  type DerElement,
} from './der.js';
export { certificateSerialNumberDer, issuerSerialDer, issuerAndSerialNumberDer } from './issuer-serial.js';
export { x509, webCrypto } from './x509.js';
export { buildTrustList } from './trust-list-build.js';
export { loadTrustList } from './trust-list-load.js';
export * from './trust-list-names.js';
