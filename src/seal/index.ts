export { sealXml } from './xades-seal.js';
export { sealWrittenXml } from './xades-seal-text.js';
export { verifyXmlSeal, verifyXmlSealForReading, type SignedDocumentView } from './xades-verify.js';
export {
  verifyXadesDocument,
  looksLikeSignedXml,
  type XadesDocumentOptions,
  type XadesDocumentReport,
  type XadesSignatureReport,
} from './xades-document.js';
export { formatXadesDocumentReport, xadesDocumentReportJson } from './xades-document-report.js';
export type { DetachedDocument } from './dsig-reference.js';
export { issuerSerialV2Der } from './issuer-serial.js';
export {
  DIGEST_ALGORITHMS,
  SIGNATURE_ALGORITHMS,
  RSA_SHA256_URI,
  ECDSA_SHA256_URI,
  SHA256_URI,
  type DigestAlgorithm,
  type SignatureAlgorithm,
} from './algorithms.js';
export { EXC_C14N, ENVELOPED_SIGNATURE, SIGNED_PROPERTIES_TYPE } from './xml.js';
export { sealErrors } from './errors.js';
export type {
  XadesSealOptions,
  VerifyXmlSealOptions,
  SealVerification,
  SealLevel,
  WrittenXml,
} from './types.js';
export { augmentXmlSeal, type AugmentXmlSealOptions } from './xades-augment.js';
export { archiveRenewal, type ArchiveRenewal } from './archive-due.js';
export {
  sealDetachedCms,
  sealEnvelopingCms,
  type CadesSealOptions,
  type DetachedContent,
} from './cades-seal.js';
export { verifyDetachedCms, type CadesVerification } from './cades-verify.js';
