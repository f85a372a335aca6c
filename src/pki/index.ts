export * from './types.js';
export { pkiErrors, type PkiErrorCode } from './errors.js';
export * from './layout.js';
export * from './identity.js';
export * from './dev-pki.js';
export { createDevPeppolPki, type DevPeppolPkiOptions } from './dev-peppol-pki.js';
export { devApId, ORGANIZATION_IDENTIFIER_OID } from './dev-ap-id.js';
export * from './revoke.js';
export * from './trust-store.js';
export {
  certificateFacts,
  certificateQcReport,
  subjectCommonName,
  subjectKeyIdentifier,
  type CertificateFacts,
  type CertificateQcReport,
} from './certificate-facts.js';
export {
  ETSI_POLICIES,
  QC_COMPLIANCE_OID,
  QC_SSCD_OID,
  QC_STATEMENTS_OID,
  QC_TYPE_OID,
  QC_TYPES,
  parseQcStatements,
  type QcFacts,
  type QcType,
} from './qc-statements.js';
export { certificateFrom, memoByContent } from './parse-cache.js';
export {
  parseCrls,
  parseCrlDer,
  certificateNameDer,
  normaliseSerial,
  crlCovers,
  crlNumberOf,
  type ParsedCrl,
} from './crl.js';
export {
  createCrlSet,
  fixedCrlSource,
  type CrlSet,
  type CrlSource,
  type CrlOffer,
  type CrlRefusalCode,
  type HeldCrl,
} from './crl-set.js';
export {
  DIGEST_OIDS,
  digestNameOfOid,
  verifyWithAlgorithm,
  verifyCmsSignature,
  type DigestName,
} from './signature-algorithms.js';
export {
  readDerElement,
  readTlvHeader,
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
  type TlvHeader,
} from './der.js';
export { certificateSerialNumberDer, issuerSerialDer, issuerAndSerialNumberDer } from './issuer-serial.js';
export { x509, webCrypto } from './x509.js';
export { TSL_SIGNING_EKU, OCSP_SIGNING_EKU, TIME_STAMPING_EKU } from './extended-key-usages.js';
export { softwareSigner, signerKeyType, asSigner, ecdsaP1363ToDer } from './signer.js';
export { openPkcs11Signer, pkcs11Errors, type Pkcs11KeyRef, type Pkcs11Signer } from './pkcs11-signer.js';
export {
  createSoftHsmSealToken,
  SOFTHSM_MODULE,
  type SoftHsmSealOptions,
  type SoftHsmSealResult,
} from './softhsm-token.js';
export {
  createOcspResponder,
  crlStatusSource,
  type OcspCertStatus,
  type OcspResponderOptions,
} from './ocsp-responder.js';
export {
  encodeOcspRequest,
  fetchOcsp,
  ocspUrlOf,
  verifyBasicOcspResponse,
  verifyOcspResponse,
  type OcspResult,
} from './ocsp-client.js';
export { certIdFor, type CertIdHash } from './ocsp-cert-id.js';
export { crlDistributionPointUrls, fetchCrl, type FetchCrlOptions } from './crl-fetch.js';
export {
  refreshCrls,
  type CrlRefreshOptions,
  type CrlRefreshReport,
  type CrlRefreshAccepted,
  type CrlRefreshRefused,
} from './crl-refresh.js';
export {
  checkCertificateRole,
  ROLE_FINDINGS,
  type CertificateRole,
  type CertificateRoleOptions,
} from './certificate-roles.js';
export {
  createAs4TlsClient,
  crlAsPem,
  TLS12_CIPHERS,
  type As4HttpAnswer,
  type As4HttpClient,
  type As4HttpRequest,
  type As4TlsClient,
  type As4TlsClientOptions,
} from './tls-client.js';
export { spkiPin, pinMismatch, hasPins, type TlsPeerPins } from './tls-pin.js';
