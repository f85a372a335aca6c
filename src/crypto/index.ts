export * from './types.js';
export { cryptoErrors, type CryptoErrorCode } from './errors.js';
export { OID as CMS_OID } from '../pki/oids.js';
export {
  createAlgorithmRegistry,
  DEFAULT_ALGORITHMS,
  isWeakAlgorithm,
  XML_DIGEST_ALGORITHMS,
  XML_SIGNATURE_ALGORITHMS,
  xmlDigestAlgorithm,
  xmlSignatureAlgorithm,
  type AlgorithmRegistryOptions,
} from './algorithm-registry.js';
export { createMailInteropRegistry, MAIL_INTEROP_OVERRIDES } from './algorithm-registry.js';
export { encryptCms, encryptCmsStream } from './encrypt-cms.js';
export { decryptCms, decryptCmsDetailed, cmsRecipientsOf } from './decrypt-cms.js';
export type { CmsRecipientName } from './recipient-id.js';
export { x963Kdf, hkdf, aesKeyWrap, aesKeyUnwrap } from './kdf.js';
export {
  signCmsData,
  cmsSignatureScheme,
  CMS_SIGNED_DATA_OID,
  createCmsSignature,
  createCmsSignatureWith,
  prepareCmsSigner,
  signingCertificateV2Der,
  type CmsSignOptions,
  type CmsSigner,
  type CmsSignature,
  type CmsSignedDataOptions,
} from './cms-signed-data.js';
